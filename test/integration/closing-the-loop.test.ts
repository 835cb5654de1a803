import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { feedCohort } from '../../services/app/feed-cohort.ts';
import { prepareCohort } from '../../services/app/prepare-cohort.ts';
import { writeCohort } from '../../tools/synth/write-cohort.ts';
import { loadDistillSchedulerConfig } from '../../services/distill-scheduler/config.ts';
import {
  DistillScheduler,
  startDistillScheduler,
  type RunningDistillScheduler,
} from '../../services/distill-scheduler/scheduler.ts';
import type { DistillJobPublisher } from '../../services/shared/distill/job-events.ts';
import { loadDistillWorkerConfig } from '../../services/distill-worker/config.ts';
import { DISTILLER_DIR, startDistillWorker, type JobResult } from '../../services/distill-worker/worker.ts';
import { loadPseudoLabelerConfig } from '../../services/pseudo-labeler/config.ts';
import { startPseudoLabeler, type RunningPseudoLabeler } from '../../services/pseudo-labeler/service.ts';
import { loadReportLabelerConfig } from '../../services/report-labeler/config.ts';
import { startReportLabeler } from '../../services/report-labeler/service.ts';
import { migrateDatabase } from '../../services/shared/db/migrate.ts';
import { decidePromotion, type ModelMetrics } from '../../services/shared/distill/index.ts';
import { getJob } from '../../services/shared/distill/job-store.ts';
import { createSchemaRegistry, registerEventSchemas } from '../../services/shared/events/registry.ts';
import { createLogger } from '../../services/shared/observability/logger.ts';
import { EventEncoder } from '../../services/shared/events/encoder.ts';
import type { ModelReleasedEvent } from '../../services/distill-worker/promotion.ts';
import { DEFAULT_COHORT_OPTIONS } from '../../tools/synth/cohort.ts';
import {
  Cleanup,
  createTestKafka,
  createTestProducer,
  createTestSchema,
  createTopics,
  getTestStack,
  uniqueTopicName,
  type TestSchema,
  type TestStack,
} from '../support/index.ts';
import { TEST_HMAC_KEY, waitFor } from '../support/report-labeler.ts';

/**
 * Issue 8 end to end on the real stack: a synthetic cohort fed through Kafka -> report labels and
 * pseudo-labels (both services in-process) -> two schedulers, one job -> the worker's first attempt
 * is killed and retried -> a small student is trained, exported and registered -> the gate decides
 * on the held-out set -> on promotion every pseudo-labeler serves the new teacher for later images.
 */

const PYTHON = process.env.DISTILLER_PYTHON ?? '/usr/bin/python3';
const torch = spawnSync(PYTHON, ['-c', 'import torch, numpy, onnx, psycopg2'], { encoding: 'utf8' });
const skip =
  torch.status === 0
    ? false
    : `the Python distiller is not importable with ${PYTHON} (${(torch.stderr || torch.error?.message || '').trim().split('\n').pop()}): apt-get install python3-torch python3-numpy python3-onnx python3-psycopg2`;

const SIZE = 64; // model input: small enough that the student trains in seconds on CPU
const logger = createLogger('closing-the-loop-test', process.env.LOG_LEVEL ?? 'warn');

function python(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(PYTHON, ['-m', 'distiller', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env, PYTHONPATH: DISTILLER_DIR },
  });
  assert.equal(r.status, 0, `distiller ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

describe('closing the loop on the real stack', { skip }, () => {
  const cleanup = new Cleanup();
  const topics = {
    hl7: uniqueTopicName('hl7.oru.raw'),
    dicom: uniqueTopicName('dicom.arrived'),
    labels: uniqueTopicName('labels.report'),
    pseudo: uniqueTopicName('labels.pseudo'),
    jobs: uniqueTopicName('distill.jobs'),
    released: uniqueTopicName('models.released'),
  };
  let stack: TestStack;
  let db: TestSchema;
  let work: string;
  let distillerDbUrl: string;
  const labelers: RunningPseudoLabeler[] = [];
  const results: JobResult[] = [];
  const killed: number[] = [];
  const timings: Record<string, number> = {};
  let student = '';
  const t0 = Date.now();

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await db.pool.query<{ n: string }>(`SELECT (${sql})::bigint AS n`, params)).rows[0]!.n);

  before(async () => {
    stack = await getTestStack();
    const kafka = createTestKafka(stack);
    db = await createTestSchema(stack, 'loop');
    cleanup.add(() => db.drop());
    await migrateDatabase({ database: stack.databaseUrl, schema: db.schema });
    // libpq reads %20 (not +) as a space in URI parameters
    const sep = stack.databaseUrl.includes('?') ? '&' : '?';
    distillerDbUrl = `${stack.databaseUrl}${sep}options=${encodeURIComponent(`-c search_path=${db.schema},public`)}`;
    const registry = createSchemaRegistry({ url: stack.schemaRegistryUrl });
    await registerEventSchemas(registry, {
      DicomArrived: topics.dicom,
      ReportLabel: topics.labels,
      PseudoLabelCreated: topics.pseudo,
      DistillJobRequested: topics.jobs,
      ModelReleased: topics.released,
    });
    cleanup.add(
      await createTopics(kafka, [
        ...Object.values(topics).map((topic) => ({ topic })),
        { topic: `${topics.hl7}.dlq` },
        { topic: `${topics.dicom}.dlq` },
        { topic: `${topics.labels}.dlq` },
      ]),
    );
    work = await mkdtemp(path.join(tmpdir(), 'fh-loop-'));
    cleanup.add(() => rm(work, { recursive: true, force: true }));

    // cohort A: region-labelled images for training and the gate, record studies for the feed
    const cohortOptions = {
      ...DEFAULT_COHORT_OPTIONS,
      size: 128,
      ribPrevalence: 0.5,
      claviclePrevalence: 0.3,
      compressedFraction: 0.2,
    };
    await writeCohort(path.join(work, 'a'), {
      ...cohortOptions,
      studies: 110,
      seed: 'loop-a',
      regionTrain: 30,
      regionTest: 30,
    });
    await writeCohort(path.join(work, 'b'), {
      ...cohortOptions,
      studies: 6,
      seed: 'loop-b',
      regionTrain: 0,
      regionTest: 0,
    });
    await writeCohort(path.join(work, 'c'), {
      ...cohortOptions,
      studies: 6,
      seed: 'loop-c',
      regionTrain: 0,
      regionTest: 0,
    });
    const stderr = process.stderr.write;
    process.stderr.write = () => true; // prepare's progress line
    try {
      await prepareCohort({ cohort: path.join(work, 'a'), size: String(SIZE) });
    } finally {
      process.stderr.write = stderr;
    }
    // the active teacher: a weak supervised detector (1 epoch), registered and made active
    const registered = python([
      'supervised',
      '--prepared',
      path.join(work, 'a/prepared'),
      '--out',
      path.join(work, 'teacher'),
      '--model',
      'tiny',
      '--epochs',
      '1',
      '--threads',
      '1',
      '--version',
      'loop-teacher-0',
      '--export',
      path.join(work, 'teacher.onnx'),
      '--database',
      distillerDbUrl,
    ]);
    assert.match(registered, /"event": "registered"/);
    await db.pool.query(
      `UPDATE model_versions SET status = 'active', status_changed_at = now() WHERE version = 'loop-teacher-0'`,
    );
    timings.setup = (Date.now() - t0) / 1000;

    const env = {
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      DATABASE_URL: stack.databaseUrl,
      LOG_LEVEL: 'warn',
    };
    const reportLabeler = await startReportLabeler(
      loadReportLabelerConfig({
        ...env,
        PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
        REPORT_LABELER_GROUP_ID: uniqueTopicName('report-labeler'),
        REPORT_LABELER_INPUT_TOPIC: topics.hl7,
        REPORT_LABELER_OUTPUT_TOPIC: topics.labels,
        REPORT_LABELER_HTTP_PORT: '0',
        REPORT_LABELER_HTTP_HOST: '127.0.0.1',
      }),
      logger,
      { pool: db.pool },
    );
    cleanup.add(() => reportLabeler.stop());
    // two pseudo-labeler instances in one group: both must follow models.released
    const plGroup = uniqueTopicName('pseudo-labeler');
    for (let i = 0; i < 2; i++) {
      const service = await startPseudoLabeler(
        loadPseudoLabelerConfig({
          ...env,
          TEACHER_MODEL_PATH: path.join(work, 'teacher.onnx'),
          TRAINING_STORE_URL: path.join(work, 'training-store'),
          TEACHER_MODEL_VERSION: 'loop-teacher-0',
          TEACHER_EXECUTION_PROVIDERS: 'cpu',
          TEACHER_HOT_SWAP: 'true',
          TEACHER_RELEASES_TOPIC: topics.released,
          MODEL_CACHE_DIR: path.join(work, `cache-${i}`),
          PSEUDO_LABELER_GROUP_ID: plGroup,
          PSEUDO_LABELER_DICOM_TOPIC: topics.dicom,
          PSEUDO_LABELER_LABELS_TOPIC: topics.labels,
          PSEUDO_LABELER_OUTPUT_TOPIC: topics.pseudo,
          PSEUDO_LABELER_HTTP_PORT: '0',
          PSEUDO_LABELER_HTTP_HOST: '127.0.0.1',
        }),
        logger,
        { pool: db.pool },
      );
      labelers.push(service);
      cleanup.add(() => service.stop());
    }
  });

  after(async () => {
    await cleanup.run();
  });

  const schedulerEnv = () => ({
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    DATABASE_URL: stack.databaseUrl,
    DISTILL_JOBS_TOPIC: topics.jobs,
    DISTILL_MIN_NEW_LABELS: '30',
    DISTILL_MAX_ATTEMPTS: '2',
    DISTILL_LEASE_SECONDS: '60',
    DISTILL_SCHEDULER_POLL_SECONDS: '3600', // ticks are driven by the test
    DISTILL_RECIPE_MODEL: 'tiny',
    DISTILL_RECIPE_EPOCHS: '4',
    DISTILL_RECIPE_THREADS: '1',
  });

  it('feeds a cohort, requests one job from two schedulers, recovers a killed attempt, gates and hot-swaps', async () => {
    const feedStart = Date.now();
    await feedCohort({
      dir: path.join(work, 'a'),
      brokers: stack.kafkaBrokers.join(','),
      registry: stack.schemaRegistryUrl,
      hl7Topic: topics.hl7,
      dicomTopic: topics.dicom,
      progress: false,
    });
    // the threshold is reached once enough record images have their final report joined
    await waitFor(
      '30 pseudo-labels of one class',
      async () =>
        (await count(`SELECT max(n) FROM (SELECT count(*) AS n FROM pseudo_labels GROUP BY class) c`)) >= 30,
      120_000,
    );
    timings.feedToThreshold = (Date.now() - feedStart) / 1000;

    // two scheduler replicas tick at once, several times: exactly one job
    const schedulers: RunningDistillScheduler[] = [];
    for (let i = 0; i < 2; i++) {
      const pool = new pg.Pool({
        connectionString: stack.databaseUrl,
        max: 2,
        options: `-c search_path="${db.schema}",public`,
      });
      cleanup.add(() => pool.end());
      const s = await startDistillScheduler(loadDistillSchedulerConfig(schedulerEnv()), logger, { pool });
      cleanup.add(() => s.stop());
      schedulers.push(s);
    }
    for (let round = 0; round < 3; round++) {
      await Promise.all(schedulers.map((s) => s.scheduler.tick()));
    }
    assert.equal(await count('SELECT count(*) FROM distill_jobs'), 1, 'two schedulers, one job');
    const { rows: jobs } = await db.pool.query<{ id: string }>('SELECT id::text FROM distill_jobs');
    const jobId = jobs[0]!.id;

    // the worker: its first attempt's child is killed (a crash), the job is retried and runs
    const worker = await startDistillWorker(
      loadDistillWorkerConfig({
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
        DATABASE_URL: stack.databaseUrl,
        DISTILLER_DATABASE_URL: distillerDbUrl,
        DISTILLER_PYTHON: PYTHON,
        DISTILL_JOBS_TOPIC: topics.jobs,
        MODELS_RELEASED_TOPIC: topics.released,
        DISTILL_WORKER_GROUP_ID: uniqueTopicName('distill-worker'),
        DISTILL_PREPARED_DIR: path.join(work, 'a/prepared'),
        DISTILL_WORK_DIR: path.join(work, 'distill'),
        DISTILL_HEARTBEAT_SECONDS: '1',
        PROMOTION_EXECUTION_PROVIDERS: 'cpu',
        MODEL_CACHE_DIR: path.join(work, 'cache-worker'),
      }),
      logger,
      {
        pool: db.pool,
        onSpawn: (pid) => {
          if (killed.length === 0) {
            killed.push(pid);
            process.kill(pid, 'SIGKILL');
          }
        },
        onJobDone: (r) => results.push(r),
      },
    );
    cleanup.add(() => worker.stop());
    const jobStart = Date.now();
    await waitFor(
      'the job to finish',
      () => results.some((r) => r.outcome === 'succeeded' || r.outcome === 'failed'),
      300_000,
    );
    timings.job = (Date.now() - jobStart) / 1000;

    const job = (await getJob(db.pool, jobId))!;
    assert.equal(killed.length, 1);
    assert.deepEqual(
      results.map((r) => r.outcome),
      ['retry', 'succeeded'],
      JSON.stringify(job.attempts),
    );
    assert.equal(job.status, 'succeeded');
    assert.equal(job.attempt, 2);
    assert.equal(job.attempts.length, 2);
    assert.equal(job.attempts[0]!.outcome, 'failed');
    assert.match(job.attempts[0]!.error!, /killed by SIGKILL/);
    assert.equal(job.attempts[1]!.outcome, 'succeeded');
    assert.equal(job.outputModelVersion, 'student-job' + jobId + '-a2');
    assert.ok(job.durationSeconds! > 0);
    assert.equal(job.baseModelVersion, 'loop-teacher-0');
    assert.equal(job.runner, 'local');
    student = job.outputModelVersion!;

    // registered by the distiller, distilled from the active teacher's pseudo-labels
    const { rows: models } = await db.pool.query<{
      version: string;
      status: string;
      parent_version: string;
      checksum_sha256: string;
    }>(`SELECT version, status, parent_version, checksum_sha256 FROM model_versions WHERE version = $1`, [
      job.outputModelVersion,
    ]);
    assert.equal(models.length, 1);
    assert.equal(models[0]!.parent_version, 'loop-teacher-0');
    assert.equal(models[0]!.checksum_sha256, job.outputChecksum);

    // the gate's decision is recorded with both metric sets, and follows the rule
    const { rows: decisions } = await db.pool.query<{
      decision: string;
      reasons: string[];
      rule: { classes: string[]; margin: number; minImprovement: number };
      candidate_metrics: ModelMetrics;
      active_metrics: ModelMetrics;
      active_version: string;
      released_event_at: Date | null;
    }>('SELECT * FROM model_promotions WHERE candidate_version = $1', [job.outputModelVersion]);
    assert.equal(decisions.length, 1);
    const d = decisions[0]!;
    assert.equal(d.active_version, 'loop-teacher-0');
    assert.ok(d.active_metrics, 'the active teacher was evaluated on the same set');
    const expected = decidePromotion(d.candidate_metrics, d.active_metrics, d.rule);
    assert.equal(d.decision, expected.promote ? 'promoted' : 'rejected', d.reasons.join('; '));
    const promoted = d.decision === 'promoted';
    const active = (
      await db.pool.query<{ version: string }>(`SELECT version FROM model_versions WHERE status = 'active'`)
    ).rows[0]!.version;
    assert.equal(active, promoted ? job.outputModelVersion : 'loop-teacher-0');
    assert.equal(d.released_event_at !== null, promoted, 'models.released goes out on promotion only');

    // every pseudo-labeler serves the active teacher; later images are labelled by it
    const serving = promoted ? job.outputModelVersion! : 'loop-teacher-0';
    await waitFor(
      'both pseudo-labelers to serve the active teacher',
      () => labelers.every((l) => l.teacher.version === serving),
      60_000,
    );
    timings.decisionToSwap = (Date.now() - jobStart) / 1000 - timings.job;
    const before = await count('SELECT count(*) FROM pseudo_labels');
    const laterStart = Date.now();
    await feedCohort({
      dir: path.join(work, 'b'),
      brokers: stack.kafkaBrokers.join(','),
      registry: stack.schemaRegistryUrl,
      hl7Topic: topics.hl7,
      dicomTopic: topics.dicom,
      seed: '2',
      lateImageRate: '0',
      progress: false,
    });
    const laterSops = readFileSync(path.join(work, 'b/manifest.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { sopInstanceUid: string }).sopInstanceUid);
    await waitFor(
      'pseudo-labels for the later images',
      async () =>
        (await count(
          'SELECT count(DISTINCT sop_instance_uid) FROM pseudo_labels WHERE sop_instance_uid = ANY($1)',
          [laterSops],
        )) > 0 && (await count('SELECT count(*) FROM pseudo_labels')) > before,
      120_000,
    );
    // let the rest of cohort B arrive, then check every label of it
    await new Promise((r) => setTimeout(r, 3000));
    const { rows: later } = await db.pool.query<{ model_version: string; n: string }>(
      'SELECT model_version, count(*) AS n FROM pseudo_labels WHERE sop_instance_uid = ANY($1) GROUP BY model_version',
      [laterSops],
    );
    assert.deepEqual(
      later.map((r) => r.model_version),
      [serving],
      'later images carry the serving version only',
    );
    timings.laterImages = (Date.now() - laterStart) / 1000;
    timings.total = (Date.now() - t0) / 1000;
    timings.loop = (Date.now() - feedStart) / 1000;
    process.stdout.write(
      `# closing the loop: ${JSON.stringify({ decision: d.decision, reasons: d.reasons, timings, candidate: flat(d.candidate_metrics), active: flat(d.active_metrics) })}\n`,
    );
  });

  it('every pseudo-labeler verifies a released model, ignores a bad one, and labels later images with it', async () => {
    const { rows } = await db.pool.query<{
      artefact_uri: string;
      checksum_sha256: string;
      input_size: number;
      output_stride: number;
    }>(
      'SELECT artefact_uri, checksum_sha256, input_size, output_stride FROM model_versions WHERE version = $1',
      [student],
    );
    const m = rows[0]!;
    const registry = createSchemaRegistry({ url: stack.schemaRegistryUrl });
    const encoder = new EventEncoder<ModelReleasedEvent>(registry, 'ModelReleased', topics.released);
    await encoder.ready();
    const producer = createTestProducer(createTestKafka(stack));
    await producer.connect();
    cleanup.add(() => producer.disconnect());
    const release = (version: string, sha256: string) =>
      producer.send({
        topic: topics.released,
        messages: [
          {
            key: version,
            value: encoder.encode({
              version,
              releasedAt: Date.now(),
              artefactUri: m.artefact_uri,
              sha256,
              format: 'onnx',
              inputSize: m.input_size,
              outputStride: m.output_stride,
              classes: ['rib', 'clavicle'],
              trainingJobId: null,
              parentVersion: null,
              metrics: {},
              evaluationSet: 'test',
            }),
          },
        ],
      });
    const servingBefore = labelers[0]!.teacher.version;
    await release('tampered-model', '0'.repeat(64));
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(
      labelers.every((l) => l.teacher.version === servingBefore),
      'a release whose checksum fails is not loaded',
    );
    await release(student, m.checksum_sha256);
    await waitFor(
      'both pseudo-labelers to serve the released model',
      () => labelers.every((l) => l.teacher.version === student),
      60_000,
    );
    await feedCohort({
      dir: path.join(work, 'c'),
      brokers: stack.kafkaBrokers.join(','),
      registry: stack.schemaRegistryUrl,
      hl7Topic: topics.hl7,
      dicomTopic: topics.dicom,
      seed: '3',
      lateImageRate: '0',
      progress: false,
    });
    const sops = readFileSync(path.join(work, 'c/manifest.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { sopInstanceUid: string }).sopInstanceUid);
    await waitFor(
      'pseudo-labels for cohort C',
      async () =>
        (await count('SELECT count(*) FROM pseudo_labels WHERE sop_instance_uid = ANY($1)', [sops])) > 0,
      120_000,
    );
    await new Promise((r) => setTimeout(r, 3000));
    const { rows: versions } = await db.pool.query<{ model_version: string }>(
      'SELECT DISTINCT model_version FROM pseudo_labels WHERE sop_instance_uid = ANY($1)',
      [sops],
    );
    assert.deepEqual(
      versions.map((v) => v.model_version),
      [student],
    );
  });

  it('a running job whose worker stopped heartbeating is retried, then failed at the attempt limit', async () => {
    const pool = db.pool;
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO distill_jobs (status, label_watermark, attempt, max_attempts, claimed_by, started_at, heartbeat_at, event_published_at, base_model_version)
       VALUES ('running', now(), 1, 2, 'dead-worker', now() - interval '10 minutes', now() - interval '5 minutes', now(), 'loop-teacher-0')
       RETURNING id::text`,
    );
    const id = rows[0]!.id;
    // ticks driven here; requests go nowhere (the first test's worker is still listening)
    const published: string[] = [];
    const publisher = {
      publish: async (j: { id: string }) => void published.push(j.id),
    } as unknown as DistillJobPublisher;
    const s = {
      scheduler: new DistillScheduler(pool, publisher, loadDistillSchedulerConfig(schedulerEnv()), logger),
    };
    const first = await s.scheduler.tick();
    assert.deepEqual(first.retried, [id], JSON.stringify(await getJob(pool, id)));
    let job = (await getJob(pool, id))!;
    assert.equal(job.status, 'requested');
    assert.equal(job.attempts[0]!.outcome, 'lease-expired');
    assert.ok(job.eventPublishedAt, 'the retry is published again');
    assert.deepEqual(published, [id]);
    // a second worker claims attempt 2 and dies too
    await pool.query(
      `UPDATE distill_jobs SET status = 'running', attempt = 2, claimed_by = 'dead-again', started_at = now() - interval '9 minutes',
         heartbeat_at = now() - interval '5 minutes' WHERE id = $1`,
      [id],
    );
    const second = await s.scheduler.tick();
    assert.deepEqual(second.failed, [id]);
    job = (await getJob(pool, id))!;
    assert.equal(job.status, 'failed');
    assert.match(job.error!, /lease expired/);
  });
});

function flat(m: ModelMetrics | null): Record<string, number | null> | null {
  if (!m) return null;
  const out: Record<string, number | null> = {};
  for (const cls of ['rib', 'clavicle']) {
    const c = m[cls] as { auroc: number | null; froc: number | null };
    out[`${cls}.auroc`] = c.auroc === null ? null : Math.round(c.auroc * 1000) / 1000;
    out[`${cls}.froc`] = c.froc === null ? null : Math.round(c.froc * 1000) / 1000;
  }
  return out;
}
