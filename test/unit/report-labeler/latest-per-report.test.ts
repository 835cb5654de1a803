import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReportVersion } from '../../../services/report-labeler/extract.ts';
import { statusRank, type ReportStatus } from '../../../services/report-labeler/status-precedence.ts';
import { latestPerReport } from '../../../services/report-labeler/store.ts';

const negative = { status: 'negative', acuity: null, side: null, ribs: [], evidence: [] };
const v = (
  facility: string,
  accession: string,
  status: ReportStatus,
  id: string,
  reported: string,
): ReportVersion => ({
  sourceOffset: '0',
  sendingFacility: facility,
  messageControlId: id,
  obrIndex: 0,
  accession,
  status,
  statusRank: statusRank(status),
  provisional: status === 'P',
  observedAt: new Date('2024-01-01T00:00:00Z'),
  reportedAt: new Date(reported),
  patientPseudonym: 'p',
  procedureCode: '71046',
  procedureText: '',
  hl7Version: '2.5.1',
  text: '',
  labels: { rib: negative, clavicle: negative, other: negative, ruleVersion: 't' },
});

describe('latestPerReport', () => {
  it('keeps one version per facility + accession: the highest precedence', () => {
    const latest = latestPerReport([
      v('H1', 'A', 'F', 'm1', '2024-01-02T00:00:00Z'),
      v('H1', 'A', 'C', 'm2', '2024-01-03T00:00:00Z'),
      v('H1', 'A', 'P', 'm3', '2024-01-04T00:00:00Z'),
      v('H2', 'A', 'P', 'm4', '2024-01-01T00:00:00Z'), // same accession, other facility: another report
      v('H1', 'B', 'C', 'm5', '2024-01-02T00:00:00Z'),
      v('H1', 'B', 'C', 'm6', '2024-01-05T00:00:00Z'),
    ]);
    assert.deepEqual(
      latest.map((x) => [x.sendingFacility, x.accession, x.messageControlId]),
      [
        ['H1', 'A', 'm2'],
        ['H1', 'B', 'm6'],
        ['H2', 'A', 'm4'],
      ],
    );
  });

  it('returns reports in a stable key order (row locks taken in one order by every consumer)', () => {
    const a = v('H1', 'Z', 'F', 'm1', '2024-01-02T00:00:00Z');
    const b = v('H1', 'A', 'F', 'm2', '2024-01-02T00:00:00Z');
    assert.deepEqual(
      latestPerReport([a, b]).map((x) => x.accession),
      latestPerReport([b, a]).map((x) => x.accession),
    );
  });
});
