import fc from 'fast-check';
import { DEFAULT_MAX_REPORT_CHARS } from '../../../services/report-labeler/extract.ts';
import { buildOruMessage, FINDINGS } from '../../support/hl7-builder.ts';

/** Longest time one input may take before the property calls it a hang (generous: CI is shared). */
export const PER_INPUT_LIMIT_MS = 2_000;

/** Runs `fn` and returns how long it took, so a property can bound the time per input. */
export function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

const SEGMENT_BREAKS = ['\r', '\n', '\r\n', '\x0b', '\x1c', '\x1c\r', ''];

/** A valid ORU^R01 message from the builder, with random ids, status and text. */
export const validOru = fc
  .record({
    id: fc.stringMatching(/^[A-Z0-9]{1,12}$/),
    accession: fc.stringMatching(/^[A-Z0-9-]{1,16}$/),
    status: fc.constantFrom('P', 'F', 'C', 'X'),
    text: fc.constantFrom(...Object.values(FINDINGS)),
    charset: fc.constantFrom('', 'UNICODE UTF-8', '8859/1', 'ASCII', 'KLINGON'),
  })
  .map((r) =>
    buildOruMessage({
      messageControlId: r.id,
      accession: r.accession,
      status: r.status,
      text: r.text,
      characterSet: r.charset,
    }),
  );

/**
 * A valid message broken the ways feeds break them: truncated anywhere, other delimiters in MSH-1/2,
 * bytes replaced or inserted, segment breaks changed, one field blown up to many kilobytes.
 */
export const damagedOru = fc
  .tuple(
    validOru,
    fc.oneof(
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant('delimiters' as const),
        chars: fc.string({ minLength: 5, maxLength: 5 }),
      }),
      fc.record({
        kind: fc.constant('replace' as const),
        at: fc.nat(),
        chars: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
      }),
      fc.record({ kind: fc.constant('breaks' as const), brk: fc.constantFrom(...SEGMENT_BREAKS) }),
      fc.record({
        kind: fc.constant('huge' as const),
        at: fc.nat(),
        fill: fc.constantFrom('A', '|', '^', '\\', '~', 'fracture ', 'no '),
        times: fc.integer({ min: 1_000, max: 50_000 }),
      }),
    ),
  )
  .map(([msg, m]) => {
    switch (m.kind) {
      case 'truncate':
        return msg.slice(0, m.at % (msg.length + 1));
      case 'delimiters':
        return `MSH${m.chars}${msg.slice(8)}`;
      case 'replace': {
        const at = m.at % (msg.length + 1);
        return msg.slice(0, at) + m.chars + msg.slice(at + m.chars.length);
      }
      case 'breaks':
        return msg.split('\r').join(m.brk);
      case 'huge': {
        const at = m.at % (msg.length + 1);
        return msg.slice(0, at) + m.fill.repeat(m.times) + msg.slice(at);
      }
    }
  });

/** Anything: arbitrary code units (lone surrogates included), or HL7-looking fragments in any order. */
export const hl7ishString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          'MSH|^~\\&|',
          'PID|1||',
          'OBR|1|',
          'OBX|1|TX|',
          '|',
          '^',
          '~',
          '\\',
          '&',
          'FHS|',
          'BHS|',
        ),
        fc.constantFrom(...SEGMENT_BREAKS),
        fc.string({ maxLength: 12 }),
      ),
      { maxLength: 60 },
    )
    .map((parts) => parts.join('')),
  damagedOru,
);

const VOCABULARY = [
  'fracture',
  'fractures',
  'fx',
  'rib',
  'ribs',
  'clavicle',
  'clavicular',
  'left',
  'right',
  'bilateral',
  'no',
  'not',
  'without',
  'possible',
  'cannot be excluded',
  'acute',
  'old',
  'healed',
  'healing',
  'subacute',
  'nonunion',
  'of the',
  'and',
  'or',
  'nor',
  '4th',
  '5th-7th',
  'posterior',
  ',',
  '.',
  ';',
  ':',
  '(',
  ')',
  'FINDINGS:',
  'IMPRESSION:',
  'HISTORY:',
  'XXXX',
  '\n',
  '  ',
  'is',
  'seen',
  'likely',
];

/** Report-like text: vocabulary in random order and repetitions, arbitrary text, or very long runs. */
export const reportText = fc.oneof(
  fc.array(fc.constantFrom(...VOCABULARY), { maxLength: 200 }).map((w) => w.join(' ')),
  fc.string({ unit: 'grapheme', maxLength: 500 }),
  fc.string({ unit: 'binary', maxLength: 500 }),
  fc
    .tuple(fc.constantFrom(...VOCABULARY), fc.integer({ min: 100, max: 20_000 }))
    // the labeler dead-letters longer reports (report-too-long) before the rule engine sees them
    .map(([w, n]) => `${w} `.repeat(n).slice(0, DEFAULT_MAX_REPORT_CHARS)),
);
