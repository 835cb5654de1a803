import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseOruMessage } from '../../../services/shared/hl7/index.ts';
import { isChestRadiograph, labelReport } from '../../../services/shared/report-rules/index.ts';
import { extractRecord, type ExtractionDeps } from '../../../services/report-labeler/extract.ts';
import { buildOruMessage } from '../../support/hl7-builder.ts';
import { damagedOru, hl7ishString, PER_INPUT_LIMIT_MS, timed } from './fuzz-inputs.ts';

// The report-labeler's whole per-record step (charset, MSH, parse, filter, label, pseudonymise):
// every input ends as stored, skipped or dead-lettered with a reason; none throws or hangs.

const deps: ExtractionDeps = {
  parseOruMessage,
  isChestRadiograph,
  labelReport,
  hmacKey: 'fuzz-test-hmac-key-0123456789abcdef0123',
  maxMessageBytes: 1_048_576,
};

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
  hl7ishString.map((s) => Buffer.from(s, 'utf8')),
  damagedOru.map((s) => Buffer.from(s, 'latin1')),
  // UTF-16 where UTF-8 or ASCII is declared
  damagedOru.map((s) => Buffer.from(s, 'utf16le')),
);

describe('fuzz: extractRecord', () => {
  it('dead-letters a report too long to label in bounded time (a run of findings)', () => {
    const text = 'fracture '.repeat(100_000);
    const value = Buffer.from(
      buildOruMessage({ messageControlId: 'M1', accession: 'A1', status: 'F', text }),
    );
    const record = { topic: 't', partition: 0, offset: '1', key: null, value, timestamp: 0 };
    const { value: result, ms } = timed(() => extractRecord(record, deps));
    assert.equal(result.outcome, 'dlq');
    assert.equal(result.outcome === 'dlq' && result.reason, 'report-too-long');
    assert.ok(ms < PER_INPUT_LIMIT_MS, `took ${ms} ms`);
  });

  it('never throws: stored, skipped or DLQ with a reason, within the time bound', () => {
    fc.assert(
      fc.property(bytes, (value) => {
        const record = { topic: 't', partition: 0, offset: '1', key: null, value, timestamp: 0 };
        const { value: result, ms } = timed(() => extractRecord(record, deps));
        assert.ok(ms < PER_INPUT_LIMIT_MS, `took ${ms} ms on ${value.length} bytes`);
        assert.ok(['stored', 'skipped', 'dlq'].includes(result.outcome));
        if (result.outcome === 'dlq') {
          assert.ok(result.reason.length > 0 && result.detail.length <= 300);
        }
        if (result.outcome === 'stored') {
          for (const v of result.versions) assert.match(v.patientPseudonym, /^[0-9a-f]{64}$/);
        }
      }),
      { numRuns: 500 },
    );
  });
});
