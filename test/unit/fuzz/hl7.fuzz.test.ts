import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Hl7ParseError,
  parseOruMessage,
  splitHl7,
  splitHl7Messages,
} from '../../../services/shared/hl7/index.ts';
import { damagedOru, hl7ishString, PER_INPUT_LIMIT_MS, timed, validOru } from './fuzz-inputs.ts';

// Property-based fuzzing of the HL7 extractor: whatever the bytes, it returns or throws a typed
// Hl7ParseError, and never takes long on one input (a hang or a pathological regex shows up here).

describe('fuzz: splitHl7Messages', () => {
  it('never throws on arbitrary bytes, and every message starts inside the input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        const input = Buffer.from(bytes);
        const { value, ms } = timed(() => splitHl7Messages(input));
        assert.ok(ms < PER_INPUT_LIMIT_MS, `took ${ms} ms`);
        let last = -1;
        for (const m of value) {
          assert.equal(typeof m.message, 'string');
          assert.ok(m.offset > last && m.offset < input.length, 'offsets increase and lie in the input');
          last = m.offset;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on HL7-like strings and damaged messages', () => {
    fc.assert(
      fc.property(hl7ishString, (text) => {
        const { value, ms } = timed(() => splitHl7Messages(text));
        assert.ok(ms < PER_INPUT_LIMIT_MS, `took ${ms} ms`);
        assert.ok(Array.isArray(value));
      }),
      { numRuns: 300 },
    );
  });

  it('finds every message of a concatenation of valid ones, whatever the segment breaks', () => {
    fc.assert(
      fc.property(
        fc.array(validOru, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('\r', '\n', '\r\n'),
        (msgs, brk) => {
          const input = msgs.map((m) => m.split('\r').join(brk)).join('');
          assert.equal(splitHl7Messages(input).length, msgs.length);
        },
      ),
      { numRuns: 100 },
    );
  });
});

/** A line that is not an HL7 segment: anything but a segment name + "|" (or "MSH" + a separator). */
const garbageLine = fc
  .string({ minLength: 1, maxLength: 80, unit: 'binary' })
  // eslint-disable-next-line no-control-regex -- MLLP block bytes end a line too: not part of one
  .map((x) => x.replace(/[\r\n\x0b\x1c]/g, ' '))
  .filter((x) => x.trim() !== '' && !/^[A-Z][A-Z0-9]{2}(?:\||$)/.test(x) && !/^MSH[^A-Za-z0-9\s]/.test(x));

describe('fuzz: garbage lines in an HL7 file', () => {
  it('a valid file with garbage lines inserted at random places loses no valid message', () => {
    fc.assert(
      fc.property(
        fc.array(validOru, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), garbageLine), { minLength: 1, maxLength: 8 }),
        fc.constantFrom('\r', '\n', '\r\n'),
        (msgs, inserts, brk) => {
          const segments = msgs.map((m) => m.replace(/\r+$/, ''));
          const lines = segments.flatMap((m) => m.split('\r'));
          const marked = lines.map((l) => ({ text: l, garbage: false }));
          for (const [at, text] of inserts)
            marked.splice(at % (marked.length + 1), 0, { text, garbage: true });
          const input = Buffer.from(marked.map((l) => l.text).join(brk) + brk, 'utf8');
          const { value, ms } = timed(() => splitHl7(input));
          assert.ok(ms < PER_INPUT_LIMIT_MS, `took ${ms} ms`);
          assert.deepEqual(
            value.messages.map((m) => m.message),
            segments,
          );
          for (const m of value.messages) assert.ok(parseOruMessage(m.message).length > 0);
          // Each garbage line is reported on its own, at its own line.
          const want = marked.flatMap((l, i) => (l.garbage ? [i + 1] : []));
          assert.deepEqual(
            value.garbage.map((g) => g.line),
            want,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('fuzz: parseOruMessage', () => {
  it('returns reports or throws Hl7ParseError, never anything else, on any input', () => {
    fc.assert(
      fc.property(hl7ishString, (text) => {
        const { ms } = timed(() => {
          try {
            const reports = parseOruMessage(text);
            for (const r of reports) {
              assert.equal(typeof r.accession, 'string');
              assert.equal(typeof r.text, 'string');
              assert.ok(Number.isInteger(r.obrIndex) && r.obrIndex >= 0);
            }
          } catch (err) {
            if (!(err instanceof Hl7ParseError)) throw err;
            assert.ok(err.message.length < 1_000, 'error messages stay short (they go into DLQ headers)');
          }
        });
        assert.ok(ms < PER_INPUT_LIMIT_MS, `took ${ms} ms`);
      }),
      { numRuns: 500 },
    );
  });

  it('parses every undamaged builder message into one report with its accession', () => {
    fc.assert(
      fc.property(validOru, (text) => {
        const reports = parseOruMessage(text);
        assert.equal(reports.length, 1);
        assert.ok(reports[0]!.accession.length > 0);
      }),
      { numRuns: 100 },
    );
  });

  it('damaged messages with huge segments are handled within the time bound', () => {
    fc.assert(
      fc.property(damagedOru, (text) => {
        const { ms } = timed(() => {
          try {
            parseOruMessage(text);
          } catch (err) {
            if (!(err instanceof Hl7ParseError)) throw err;
          }
        });
        assert.ok(ms < PER_INPUT_LIMIT_MS, `took ${ms} ms on ${text.length} chars`);
      }),
      { numRuns: 200 },
    );
  });
});
