import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { labelReport } from '../../../services/shared/report-rules/index.ts';
import { PER_INPUT_LIMIT_MS, reportText, timed } from './fuzz-inputs.ts';

// Property-based fuzzing of the rule engine: any text gets a well-formed label for every class,
// evidence inside the text, and no input (long repetitions included) takes long.

const STATUSES = new Set(['positive', 'negative', 'uncertain']);

describe('fuzz: labelReport', () => {
  it('labels any text with well-formed labels, within the time bound', () => {
    fc.assert(
      fc.property(reportText, (text) => {
        const { value: labels, ms } = timed(() => labelReport(text));
        assert.ok(ms < PER_INPUT_LIMIT_MS, `took ${ms} ms on ${text.length} chars`);
        assert.equal(typeof labels.ruleVersion, 'string');
        for (const cls of ['rib', 'clavicle', 'other'] as const) {
          const l = labels[cls];
          assert.ok(STATUSES.has(l.status), `${cls}: ${l.status}`);
          for (const ev of l.evidence as Array<{ start: number; end: number }>) {
            assert.ok(
              ev.start >= 0 && ev.start <= ev.end && ev.end <= text.length,
              'evidence inside the text',
            );
          }
          for (const rib of l.ribs ?? []) assert.ok(Number.isInteger(rib) && rib >= 1 && rib <= 12);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('is deterministic: the same text gives the same labels', () => {
    fc.assert(
      fc.property(reportText, (text) => {
        assert.deepEqual(labelReport(text), labelReport(text));
      }),
      { numRuns: 100 },
    );
  });
});
