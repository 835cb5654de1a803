import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  distillerArgs,
  readDistillerLine,
  studentVersion,
  type DistillerReport,
} from '../../../services/shared/distill/distiller-args.ts';

const base = {
  jobId: '5',
  attempt: 1,
  teacherVersion: 'teacher-synth-v1',
  watermark: new Date('2026-12-03T10:00:00.000Z'),
  storeUrl: 'file:///data/training-store',
  workDir: '/work',
  databaseUrl: 'postgres://db/h',
  recipe: {},
};

describe('distillerArgs', () => {
  it('trains on the snapshot of the job (training store, teacher, watermark), exports and registers a per-attempt version', () => {
    const { args, version, onnxPath, runDir } = distillerArgs({
      ...base,
      recipe: { epochs: '2', model: 'tiny' },
    });
    assert.equal(version, 'student-job5-a1');
    assert.equal(onnxPath, '/work/models/student-job5-a1.onnx');
    assert.equal(runDir, '/work/runs/student-job5-a1');
    assert.deepEqual(args, [
      'distill',
      '--store',
      'file:///data/training-store',
      '--watermark',
      '2026-12-03T10:00:00.000Z',
      '--out',
      runDir,
      '--database',
      'postgres://db/h',
      '--teacher-version',
      'teacher-synth-v1',
      '--version',
      version,
      '--export',
      onnxPath,
      '--epochs',
      '2',
      '--model',
      'tiny',
    ]);
  });

  it('reads images and boxes from a prepared folder instead when one is given (offline runs)', () => {
    const { args } = distillerArgs({ ...base, preparedDir: '/data/prepared' });
    assert.deepEqual(args.slice(0, 5), [
      'distill',
      '--prepared',
      '/data/prepared',
      '--watermark',
      '2026-12-03T10:00:00.000Z',
    ]);
  });

  it('a retry gets its own version', () => {
    assert.notEqual(studentVersion('5', 1), studentVersion('5', 2));
  });

  it('a job may ask for the training recipe: EMA teacher, stage 1, balanced batches', () => {
    const { args } = distillerArgs({
      ...base,
      recipe: {
        'teacher-mode': 'ema',
        'ema-momentum': '0.99',
        'pretrain-epochs': '2',
        sampling: 'balanced:1:1:2',
      },
    });
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(value('--teacher-mode'), 'ema');
    assert.equal(value('--ema-momentum'), '0.99');
    assert.equal(value('--pretrain-epochs'), '2');
    assert.equal(value('--sampling'), 'balanced:1:1:2');
  });

  it('rejects recipe options the distiller job does not accept, and unsafe values', () => {
    assert.throws(
      () => distillerArgs({ ...base, recipe: { database: 'x' } }),
      /recipe option database is not one/,
    );
    assert.throws(
      () => distillerArgs({ ...base, recipe: { epochs: '2 --export /etc/passwd' } }),
      /unsafe value/,
    );
    assert.throws(() => distillerArgs({ ...base, teacherVersion: '' }), /no teacher version/);
  });
});

describe('readDistillerLine', () => {
  it('collects the version, the export, the registration and the metrics from the JSON events', () => {
    const r: DistillerReport = {};
    for (const line of [
      '{"event": "start", "mode": "distill"}',
      'a plain line',
      '{"event": "evaluated", "metrics": {"rib": {"auroc": 0.7, "froc": 0.1}}}',
      '{"event": "done", "version": "student-job5-a1"}',
      '{"event": "exported", "path": "/work/models/s.onnx", "sha256": "ab"}',
      '{"event": "registered", "registered": true}',
    ])
      readDistillerLine(line, r);
    assert.deepEqual(r, {
      metrics: { rib: { auroc: 0.7, froc: 0.1 } },
      version: 'student-job5-a1',
      exportedPath: '/work/models/s.onnx',
      sha256: 'ab',
      registered: true,
    });
  });

  it('reports a failed registration with its reason', () => {
    const r: DistillerReport = {};
    readDistillerLine('{"event": "not_registered", "reason": "no psycopg2"}', r);
    assert.equal(r.registered, false);
    assert.equal(r.notRegisteredReason, 'no psycopg2');
    assert.equal(readDistillerLine('[1, 2]', r), null);
  });
});
