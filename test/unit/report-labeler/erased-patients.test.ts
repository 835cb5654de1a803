import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutErasedPatients } from '../../../services/report-labeler/erased-patients.ts';
import type { ReportVersion } from '../../../services/report-labeler/extract.ts';
import type { LedgerEntry } from '../../../services/report-labeler/store.ts';

const version = (offset: string, patientPseudonym: string) =>
  ({ sourceOffset: offset, patientPseudonym, accession: `A${offset}` }) as ReportVersion;
const entry = (offset: string, outcome: LedgerEntry['outcome'], reportCount: number): LedgerEntry => ({
  topic: 't',
  partition: 0,
  offset,
  sendingFacility: 'F',
  messageControlId: `M${offset}`,
  outcome,
  reason: outcome === 'stored' ? null : 'not-chest-radiograph',
  reportCount,
  messageBytes: 10,
});

describe('a batch without erased patients (report-labeler)', () => {
  const batch = {
    versions: [version('1', 'kept'), version('2', 'gone'), version('3', 'gone'), version('3', 'kept')],
    ledger: [
      entry('1', 'stored', 1),
      entry('2', 'stored', 1),
      entry('3', 'stored', 2),
      entry('4', 'skipped', 0),
    ],
  };

  it("drops the erased patient's versions and ledgers a record left empty as skipped / erased-patient", () => {
    const out = withoutErasedPatients(batch, new Set(['gone']));
    assert.deepEqual(
      out.versions.map((v) => [v.sourceOffset, v.patientPseudonym]),
      [
        ['1', 'kept'],
        ['3', 'kept'],
      ],
    );
    assert.deepEqual(
      out.ledger.map((e) => [e.offset, e.outcome, e.reason, e.reportCount]),
      [
        ['1', 'stored', null, 1],
        ['2', 'skipped', 'erased-patient', 0],
        ['3', 'stored', null, 1],
        ['4', 'skipped', 'not-chest-radiograph', 0],
      ],
    );
    assert.equal(out.erasedRecords, 1);
  });

  it('changes nothing when no patient of the batch was erased', () => {
    const out = withoutErasedPatients(batch, new Set(['someone-else']));
    assert.deepEqual(out.versions, batch.versions);
    assert.deepEqual(out.ledger, batch.ledger);
    assert.equal(out.erasedRecords, 0);
  });
});
