import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { studyLabelFromEvent } from '../../../services/pseudo-labeler/events.ts';
import {
  compareReportRefs,
  decideClass,
  type StudyLabel,
} from '../../../services/pseudo-labeler/join-decision.ts';
import type { ReportVersion } from '../../../services/report-labeler/extract.ts';
import { reportLabelEvent } from '../../../services/report-labeler/report-label-event.ts';
import {
  statusRank,
  supersedes,
  type ReportStatus,
} from '../../../services/report-labeler/status-precedence.ts';
import { latestPerReport } from '../../../services/report-labeler/store.ts';

const label = (status: 'positive' | 'negative') => ({
  status,
  acuity: null,
  side: null,
  ribs: [],
  evidence: [],
});
const EXAM_TIME = new Date('2024-01-05T08:00:00Z'); // OBR-7: the same in every version of the exam

const version = (
  status: ReportStatus,
  id: string,
  sent: string,
  rib: 'positive' | 'negative',
): ReportVersion => ({
  sourceOffset: '0',
  sendingFacility: 'H1',
  messageControlId: id,
  obrIndex: 0,
  accession: 'ACC-1',
  status,
  statusRank: statusRank(status),
  provisional: status === 'P',
  observedAt: EXAM_TIME,
  reportedAt: new Date(sent),
  patientPseudonym: 'p',
  procedureCode: '71046',
  procedureText: '',
  hl7Version: '2.5.1',
  text: '',
  labels: { rib: label(rib), clavicle: label('negative'), other: label('negative'), ruleVersion: 't' },
});

// Two corrections of one exam; the later one has the lower MSH-10, so an order that ignored MSH-7
// (OBR-7 is equal) would keep the first correction.
const FINAL = version('F', 'MSG-M', '2024-01-05T09:00:00Z', 'negative');
const FIRST_CORRECTION = version('C', 'MSG-Z', '2024-01-06T09:00:00Z', 'positive');
const SECOND_CORRECTION = version('C', 'MSG-A', '2024-01-07T09:00:00Z', 'negative');

/** The report-labeler's reports row after the versions arrive one by one (its upsert guard). */
function reportLabelerKeeps(arrivals: ReportVersion[]): ReportVersion {
  return arrivals.reduce((current, next) => (supersedes(next, current) ? next : current));
}

/** The pseudo-labeler's study_record_labels row after the ReportLabel events arrive one by one. */
function pseudoLabelerKeeps(arrivals: ReportVersion[]): StudyLabel {
  const labels = arrivals.map((v) => studyLabelFromEvent(reportLabelEvent(v, new Date(0))));
  return labels.reduce((current, next) => (compareReportRefs(next, current) > 0 ? next : current));
}

describe('report-labeler and pseudo-labeler agree on the current report version', () => {
  for (const [name, arrivals] of [
    ['first correction, then second', [FINAL, FIRST_CORRECTION, SECOND_CORRECTION]],
    ['second correction, then first', [FINAL, SECOND_CORRECTION, FIRST_CORRECTION]],
    ['corrections before the final', [SECOND_CORRECTION, FIRST_CORRECTION, FINAL]],
  ] as const) {
    it(`keeps the correction sent last (${name})`, () => {
      const labeler = reportLabelerKeeps([...arrivals]);
      const pseudo = pseudoLabelerKeeps([...arrivals]);
      assert.equal(labeler.messageControlId, 'MSG-A');
      assert.equal(pseudo.messageControlId, labeler.messageControlId);
      assert.equal(pseudo.labels.rib, 'negative');
      // one batch of all of them: the report-labeler's in-batch choice is the same version
      assert.equal(latestPerReport([...arrivals])[0]!.messageControlId, 'MSG-A');
    });
  }

  it('replaces a pseudo-label from the first correction when the second arrives, never the reverse', () => {
    const [first, second] = [FIRST_CORRECTION, SECOND_CORRECTION].map((v) =>
      studyLabelFromEvent(reportLabelEvent(v, new Date(0))),
    );
    const policy = { uncertain: 'skip', acceptProvisional: false } as const;
    assert.equal(
      decideClass('rib', second!, { report: first!, eventPublished: true }, policy).kind,
      'compute',
    );
    assert.deepEqual(decideClass('rib', first!, { report: second!, eventPublished: true }, policy), {
      kind: 'current',
      publish: false,
    });
  });

  it('orders a ReportLabel written before reportedAt existed by its observation time', () => {
    const { reportedAt: _dropped, ...old } = reportLabelEvent(FINAL, new Date(0));
    assert.equal(studyLabelFromEvent(old).reportedAt.getTime(), EXAM_TIME.getTime());
    assert.equal(studyLabelFromEvent({ ...old, reportedAt: null }).reportedAt.getTime(), EXAM_TIME.getTime());
  });
});
