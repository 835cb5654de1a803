import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareReportRefs,
  decideClass,
  decideImage,
  type JoinPolicy,
  type ReportRef,
  type StudyLabel,
} from '../../../services/pseudo-labeler/join-decision.ts';

// at: when the version was sent (MSH-7); OBR-7 is the exam time, the same for every version
const ref = (status: 'P' | 'F' | 'C', at: string, mcid = 'M1', obr = 0): ReportRef => ({
  status,
  statusRank: { P: 1, F: 2, C: 3 }[status],
  observedAt: new Date('2024-01-01T00:00:00Z'),
  reportedAt: new Date(at),
  messageControlId: mcid,
  obrIndex: obr,
});
const study = (
  r: ReportRef,
  rib: StudyLabel['labels']['rib'],
  clavicle: StudyLabel['labels']['clavicle'] = 'negative',
): StudyLabel => ({
  ...r,
  accession: 'A1',
  provisional: r.status === 'P',
  labels: { rib, clavicle },
});
const skip: JoinPolicy = { uncertain: 'skip', acceptProvisional: false };
const F1 = ref('F', '2024-01-01T10:00:00Z');
const C1 = ref('C', '2024-01-02T10:00:00Z', 'M2');

describe('join decision', () => {
  it('waits in Postgres while the image has no report (image first)', () => {
    assert.deepEqual(decideClass('rib', null, null, skip), { kind: 'wait', reason: 'no-report' });
  });

  it('computes a positive target for a record-positive class and a zero target for a negative one (report first or when it arrives)', () => {
    const actions = decideImage(study(F1, 'positive', 'negative'), {}, skip);
    assert.deepEqual(actions.rib, {
      kind: 'compute',
      recordStatus: 'positive',
      target: 'positive',
      supersedes: false,
    });
    assert.deepEqual(actions.clavicle, {
      kind: 'compute',
      recordStatus: 'negative',
      target: 'negative',
      supersedes: false,
    });
  });

  it('skips uncertain classes by default, and follows the configured policy otherwise', () => {
    assert.deepEqual(decideClass('rib', study(F1, 'uncertain'), null, skip), { kind: 'skip' });
    assert.equal(
      (
        decideClass('rib', study(F1, 'uncertain'), null, { ...skip, uncertain: 'as-negative' }) as {
          target: string;
        }
      ).target,
      'negative',
    );
    assert.equal(
      (
        decideClass('rib', study(F1, 'uncertain'), null, { ...skip, uncertain: 'as-positive' }) as {
          target: string;
        }
      ).target,
      'positive',
    );
  });

  it('waits for the final report unless provisional reports are accepted', () => {
    const p = study(ref('P', '2024-01-01T09:00:00Z'), 'positive');
    assert.deepEqual(decideClass('rib', p, null, skip), { kind: 'wait', reason: 'provisional' });
    assert.equal(decideClass('rib', p, null, { ...skip, acceptProvisional: true }).kind, 'compute');
  });

  it('is idempotent: a label from the same report version is current (publish only if unpublished)', () => {
    assert.deepEqual(decideClass('rib', study(F1, 'positive'), { report: F1, eventPublished: true }, skip), {
      kind: 'current',
      publish: false,
    });
    assert.deepEqual(decideClass('rib', study(F1, 'positive'), { report: F1, eventPublished: false }, skip), {
      kind: 'current',
      publish: true,
    });
  });

  it('recomputes when a corrected report supersedes the one the label came from', () => {
    assert.deepEqual(decideClass('rib', study(C1, 'negative'), { report: F1, eventPublished: true }, skip), {
      kind: 'compute',
      recordStatus: 'negative',
      target: 'negative',
      supersedes: true,
    });
  });

  it('withdraws a stored label when the correction makes the class uncertain (skipped)', () => {
    assert.deepEqual(decideClass('rib', study(C1, 'uncertain'), { report: F1, eventPublished: true }, skip), {
      kind: 'withdraw',
    });
  });

  it('orders report versions by status, then when they were sent (MSH-7), then MSH-10 and OBR index', () => {
    assert.ok(compareReportRefs(ref('C', '2024-01-01T00:00:00Z'), ref('F', '2024-02-01T00:00:00Z')) > 0);
    assert.ok(compareReportRefs(ref('F', '2024-01-02T00:00:00Z'), ref('F', '2024-01-01T00:00:00Z')) > 0);
    assert.ok(
      compareReportRefs(ref('F', '2024-01-01T00:00:00Z', 'B'), ref('F', '2024-01-01T00:00:00Z', 'a')) < 0,
    );
    assert.ok(
      compareReportRefs(ref('F', '2024-01-01T00:00:00Z', 'A', 1), ref('F', '2024-01-01T00:00:00Z', 'A', 0)) >
        0,
    );
    assert.equal(compareReportRefs(F1, { ...F1 }), 0);
  });
});
