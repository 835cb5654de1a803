import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Hl7ParseError, parseOruMessage, splitHl7Messages } from '../../../services/shared/hl7/index.ts';
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
