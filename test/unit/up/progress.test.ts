import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatProgress, progressEvents, type ProgressSnapshot } from '../../../services/up/progress.ts';

const empty: ProgressSnapshot = {
  reports: 0,
  images: 0,
  failedImages: 0,
  pseudoLabels: 0,
  trainingInputs: 0,
  reviewedImages: 0,
  jobs: [],
  decisions: [],
  activeTeacher: null,
};

const job = (status: string, extra: Partial<ProgressSnapshot['jobs'][number]> = {}) => ({
  id: '1',
  status,
  attempt: status === 'requested' ? 0 : 1,
  outputModel: null,
  durationSeconds: null,
  error: null,
  ...extra,
});

describe('harvester up progress', () => {
  it('says what changed: job states, each gate decision once, the active teacher', () => {
    const a = { ...empty, activeTeacher: 'teacher-1', jobs: [job('requested')] };
    assert.deepEqual(progressEvents(null, a), ['distill job 1 requested']);
    const b = {
      ...a,
      jobs: [job('succeeded', { outputModel: 'student-job1-a1', durationSeconds: 95.4 })],
      decisions: [
        {
          candidate: 'student-job1-a1',
          active: 'teacher-1',
          decision: 'promoted',
          reasons: ['rib auroc +0.03'],
        },
      ],
      activeTeacher: 'student-job1-a1',
    };
    assert.deepEqual(progressEvents(a, b), [
      'distill job 1 succeeded: student-job1-a1 in 95 s',
      'gate: student-job1-a1 promoted against teacher-1 (rib auroc +0.03)',
      'active teacher: student-job1-a1',
    ]);
    assert.deepEqual(progressEvents(b, b), [], 'nothing new, nothing said');
    assert.deepEqual(progressEvents(empty, { ...empty, jobs: [job('running')] }), [
      'distill job 1 requested',
      'distill job 1 running (attempt 1)',
    ]);
    const retried = { ...b, jobs: [job('requested', { attempt: 1 })] };
    assert.deepEqual(progressEvents(b, retried), ['distill job 1 requested (retry after attempt 1)']);
  });

  it('shows services, feed, labels, store, jobs, gate and teacher in one block', () => {
    const lines = formatProgress(
      {
        ...empty,
        reports: 5,
        images: 7,
        failedImages: 1,
        pseudoLabels: 12,
        trainingInputs: 7,
        jobs: [job('running')],
      },
      [
        { name: 'report-labeler', state: 'running', restarts: 0 },
        { name: 'pseudo-labeler', state: 'restarting', restarts: 2 },
      ],
      75,
      '10/20 messages',
    );
    assert.equal(
      lines[0],
      'harvester up  1:15  report-labeler running, pseudo-labeler restarting (2 restarts)',
    );
    assert.deepEqual(lines.slice(1), [
      '  feed          10/20 messages',
      '  reports       5 labelled',
      '  images        7 recorded, 1 unreadable (DLQ)',
      '  pseudo-labels 12; training store 7 inputs; D_R 0 reviewed images',
      '  jobs          1 (0 requested, 1 running, 0 succeeded, 0 failed)',
      '  gate          0 decisions (0 promoted, 0 rejected)',
      '  teacher       none active yet',
    ]);
  });
});
