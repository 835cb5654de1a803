import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { sharpenAALS } from '../../../services/shared/aals/index.ts';
import {
  computedLabels,
  inferJobs,
  planComputeJobs,
} from '../../../services/pseudo-labeler/compute-labels.ts';
import { StorageError, type ImageStorage } from '../../../services/shared/storage/image-storage.ts';
import { S3Failure } from '../../../services/shared/storage/s3-bucket.ts';
import type { JoinPolicy, StudyLabel } from '../../../services/pseudo-labeler/join-decision.ts';
import { MicroBatcher } from '../../../services/pseudo-labeler/micro-batcher.ts';
import type { JoinRow } from '../../../services/pseudo-labeler/store.ts';
import type { TeacherMaps } from '../../../services/shared/onnx/teacher.ts';

const F1: StudyLabel = {
  accession: 'A1',
  status: 'F',
  statusRank: 2,
  provisional: false,
  observedAt: new Date('2024-01-01T10:00:00Z'),
  reportedAt: new Date('2024-01-01T10:00:00Z'),
  messageControlId: 'M1',
  obrIndex: 0,
  labels: { rib: 'positive', clavicle: 'negative' },
};

const row = (sop: string, study: StudyLabel | null, uri = `file:///x/${sop}.dcm`): JoinRow => ({
  sopInstanceUid: sop,
  accession: study?.accession ?? 'A0',
  uri,
  arrivedAt: new Date('2024-01-01T09:00:00Z'),
  eventTopic: 't',
  eventPartition: 0,
  eventOffset: '0',
  eventValue: Buffer.from('x'),
  study,
  existing: {},
});

const skip: JoinPolicy = { uncertain: 'skip', acceptProvisional: false };

describe('compute labels (shared by the Kafka processor and the backfill)', () => {
  it('plans teacher runs only for images whose study has a usable label', () => {
    const uncertain = {
      ...F1,
      accession: 'A2',
      labels: { rib: 'uncertain', clavicle: 'uncertain' },
    } as const;
    const { jobs, withdrawals } = planComputeJobs(
      [row('s1', F1), row('s2', null), row('s3', { ...uncertain })],
      skip,
    );
    assert.deepEqual(
      jobs.map((j) => [j.row.sopInstanceUid, j.classes.map((c) => `${c.cls}:${c.target}`)]),
      [['s1', ['rib:positive', 'clavicle:negative']]],
    );
    assert.deepEqual(withdrawals, []);
  });

  it('withdraws a stored label whose study became uncertain', () => {
    const corrected = { ...F1, status: 'C' as const, statusRank: 3, messageControlId: 'M2' };
    const r = row('s1', { ...corrected, labels: { rib: 'uncertain', clavicle: 'negative' } });
    r.existing = {
      rib: { report: F1, eventPublished: true },
      clavicle: { report: F1, eventPublished: true },
    };
    const { jobs, withdrawals } = planComputeJobs([r], skip);
    assert.deepEqual(
      withdrawals.map((w) => [w.sopInstanceUid, w.cls]),
      [['s1', 'rib']],
    );
    assert.deepEqual(
      jobs[0]!.classes.map((c) => c.cls),
      ['clavicle'],
    );
  });

  it('sharpens the positive class with AALS and zeroes the negative one, quantised to 8 bits', () => {
    const { jobs } = planComputeJobs([row('s1', F1)], skip);
    const rib = new Float32Array([0.1, 0.3, 0.6, 0.2]);
    const clavicle = new Float32Array([0.9, 0.1, 0.1, 0.1]);
    const aals = { t: 0.4, a0: 4, eps: 1e-6 };
    const labels = computedLabels(
      jobs[0]!,
      { maps: [rib, clavicle], height: 2, width: 2 },
      { targetMethod: 'aals', aals },
    );
    const [ribLabel, clavicleLabel] = labels;
    const expected = sharpenAALS(rib, aals);
    assert.deepEqual(
      [...ribLabel!.target],
      [...expected].map((v) => Math.round(Math.max(v, 0) * 255)),
    );
    assert.equal(ribLabel!.targetMethod, 'aals');
    assert.ok(Math.abs(ribLabel!.teacherScore - 0.6) < 1e-6);
    assert.deepEqual([...clavicleLabel!.target], [0, 0, 0, 0]);
    assert.equal(clavicleLabel!.targetMethod, 'zero');
    assert.ok(Math.abs(clavicleLabel!.teacherScore - 0.9) < 1e-6, 'the score is the teacher map max');
    assert.equal(clavicleLabel!.report, F1);
  });

  it('runs readable images through the teacher in batches and reports unreadable ones as failures', async () => {
    const good = readFileSync(new URL('../../fixtures/dicom/explicit-le.dcm', import.meta.url));
    const storage: ImageStorage = {
      read: async (uri) => {
        if (uri.endsWith('missing.dcm')) throw new StorageError('not-found', 'no file at the uri (ENOENT)');
        if (uri.endsWith('broken.dcm')) return new Uint8Array([1, 2, 3, 4]);
        return new Uint8Array(good);
      },
    };
    const batches: number[] = [];
    const batcher = new MicroBatcher<Float32Array, TeacherMaps>(
      async (images) => {
        batches.push(images.length);
        return images.map((img) => ({ maps: [img.slice(0, 4), img.slice(4, 8)], height: 2, width: 2 }));
      },
      { maxBatchSize: 2, maxWaitMs: 0 },
    );
    const { jobs } = planComputeJobs(
      [
        row('s1', F1),
        row('s2', F1),
        row('s3', F1, 'file:///x/missing.dcm'),
        row('s4', F1, 'file:///x/broken.dcm'),
      ],
      skip,
    );
    const results = await inferJobs(jobs, {
      storage,
      teacher: { inputWidth: 16, inputHeight: 16 },
      batcher,
      maxQueue: 4,
      decodeConcurrency: 2,
    });
    const bySop = new Map(results.map((r) => [r.job.row.sopInstanceUid, r]));
    assert.equal(bySop.get('s1')!.ok, true);
    assert.equal(bySop.get('s2')!.ok, true);
    const missing = bySop.get('s3')!;
    assert.ok(!missing.ok && missing.reason === 'not-found');
    const broken = bySop.get('s4')!;
    assert.ok(!broken.ok && broken.reason.length > 0);
    assert.equal(
      batches.reduce((a, b) => a + b, 0),
      2,
    );
  });

  it('a storage outage (S3 refusing the credentials) fails the whole batch, to be retried, not the images', async () => {
    const storage: ImageStorage = {
      read: async () => {
        throw new S3Failure('s3-access-denied', 'S3 refused the request (InvalidAccessKeyId 403)', {
          retriable: true,
        });
      },
    };
    const batcher = new MicroBatcher<Float32Array, TeacherMaps>(
      async (images) => images.map(() => ({ maps: [], height: 0, width: 0 })),
      {
        maxBatchSize: 2,
        maxWaitMs: 0,
      },
    );
    const { jobs } = planComputeJobs([row('s1', F1, 's3://fh-images/a.dcm')], skip);
    await assert.rejects(
      inferJobs(jobs, {
        storage,
        teacher: { inputWidth: 16, inputHeight: 16 },
        batcher,
        maxQueue: 4,
        decodeConcurrency: 1,
      }),
      (err: S3Failure) => err.code === 's3-access-denied' && err.retriable,
    );
  });
});
