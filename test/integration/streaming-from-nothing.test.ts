import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { writeCohort } from '../../tools/synth/write-cohort.ts';
import { DISTILLER_DIR } from '../../services/distill-worker/worker.ts';
import { SYSTEM_TOPICS } from '../../services/shared/kafka/system-topics.ts';
import { DEFAULT_COHORT_OPTIONS } from '../../tools/synth/cohort.ts';
import type { ManifestLine } from '../../tools/synth/study-output.ts';
import {
  Cleanup,
  freshDeployment,
  getTestStack,
  runHarvester,
  type FreshDeployment,
  type TestStack,
} from '../support/index.ts';
import { TEST_HMAC_KEY, waitFor } from '../support/report-labeler.ts';
import { ServiceProcess } from '../support/service-process.ts';

/**
 * Issue 14, point 7: the streaming system where nobody has built it a world. The broker has none of
 * the system's topics (a fresh KAFKA_TOPIC_PREFIX), the database schema does not exist, the
 * training store folder does not exist, there is no prepared cohort folder. Only documented
 * commands and the services themselves create anything: `harvester migrate`, `harvester schemas
 * register`, the services (topics, store), `harvester annotations import` (D_R and its inputs),
 * `harvester feed` (a synthetic hospital). The services start in the worst order: the
 * pseudo-labeler and the distill-worker first, the report-labeler last, each as its own process.
 */

const PYTHON = process.env.DISTILLER_PYTHON ?? '/usr/bin/python3';
const torch = spawnSync(PYTHON, ['-c', 'import torch, numpy, onnx, psycopg2'], { encoding: 'utf8' });
const skip =
  torch.status === 0
    ? false
    : `the Python distiller is not importable with ${PYTHON}: apt-get install python3-torch python3-numpy python3-onnx python3-psycopg2`;

const SIZE = 64; // the teacher's input: the tiny student trains in seconds on CPU

/**
 * A teacher that knows nothing: every map is the same low probability (AUROC 0.5 on any set), so
 * a student that learned anything from the expert boxes beats it and the gate promotes it.
 */
function writeConstantTeacher(file: string): void {
  const script = `
import sys, torch
from distiller.model import build_model, save_checkpoint
from distiller.export import export_onnx
torch.manual_seed(0)
m = build_model("tiny")
torch.nn.init.zeros_(m.head.weight)
torch.nn.init.constant_(m.head.bias, -3.0)
info = {"version": "constant-teacher", "inputSize": ${SIZE}, "stride": 4, "classes": ["rib", "clavicle"]}
save_checkpoint(sys.argv[1] + ".pt", m, {"version": "constant-teacher", "info": info})
export_onnx(sys.argv[1] + ".pt", sys.argv[1])
`;
  const r = spawnSync(PYTHON, ['-c', script, file], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: DISTILLER_DIR },
  });
  assert.equal(r.status, 0, r.stderr);
}

/** A documented command; fails the test with its stderr when it fails. */
const harvester = async (args: string[], env: NodeJS.ProcessEnv) => {
  const r = await runHarvester(args, env);
  assert.equal(r.code, 0, `harvester ${args.join(' ')}: ${r.stderr}`);
  return r;
};

const logOf = (service: ServiceProcess) =>
  existsSync(service.logFile) ? readFileSync(service.logFile, 'utf8') : '';

const manifestOf = (dir: string): ManifestLine[] =>
  readFileSync(path.join(dir, 'manifest.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ManifestLine);

describe(
  'the streaming system from nothing: no topics, no tables, no store, no prepared folder',
  { skip },
  () => {
    const cleanup = new Cleanup();
    let fresh: FreshDeployment;
    let stack: TestStack;
    let work: string;
    let env: NodeJS.ProcessEnv;
    let db: pg.Pool;
    const services: Record<string, ServiceProcess> = {};
    const t0 = Date.now();
    const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

    const count = async (sql: string, params: unknown[] = []) =>
      Number((await db.query<{ n: string }>(`SELECT (${sql})::bigint AS n`, params)).rows[0]!.n);

    const start = async (name: string) => {
      const service = new ServiceProcess(name, env, path.join(work, `${name}.log`));
      services[name] = service;
      cleanup.add(() => service.close());
      service.start();
      await waitFor(
        `${name} started`,
        () => {
          if (!service.running) throw new Error(`${name} exited: ${logOf(service).slice(-2000)}`);
          return logOf(service).includes(`"msg":"${name} started"`);
        },
        120_000,
      );
    };

    before(async () => {
      stack = await getTestStack();
      work = await mkdtemp(path.join(tmpdir(), 'fh-fresh-'));
      cleanup.add(() => rm(work, { recursive: true, force: true }));
      fresh = await freshDeployment(stack, 'fresh', cleanup);
      db = fresh.pool;
      assert.deepEqual(await fresh.topics(), [], 'the broker has none of the topics');
      writeConstantTeacher(path.join(work, 'teacher.onnx'));
      env = {
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
        DATABASE_URL: fresh.databaseUrl,
        KAFKA_TOPIC_PREFIX: fresh.prefix,
        KAFKA_TOPIC_PARTITIONS: '2',
        LOG_LEVEL: 'info',
        PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
        TRAINING_STORE_URL: path.join(work, 'store'),
        TEACHER_MODEL_PATH: path.join(work, 'teacher.onnx'),
        TEACHER_MODEL_VERSION: 'constant-teacher',
        TEACHER_EXECUTION_PROVIDERS: 'cpu',
        TEACHER_HOT_SWAP: 'true',
        MODEL_CACHE_DIR: path.join(work, 'model-cache'),
        REPORT_LABELER_HTTP_PORT: '0',
        PSEUDO_LABELER_HTTP_PORT: '0',
        REPORT_LABELER_GROUP_ID: `${fresh.prefix}report-labeler`,
        PSEUDO_LABELER_GROUP_ID: `${fresh.prefix}pseudo-labeler`,
        DISTILL_WORKER_GROUP_ID: `${fresh.prefix}distill-worker`,
        DISTILL_WORK_DIR: path.join(work, 'distill'),
        DISTILL_SCHEDULER_POLL_SECONDS: '2',
        DISTILL_GATE_RETRY_SECONDS: '5',
        DISTILL_RECIPE_MODEL: 'tiny',
        DISTILL_RECIPE_EPOCHS: '8',
        DISTILL_RECIPE_THREADS: '1',
        DISTILLER_PYTHON: PYTHON,
        // any drop is accepted, at least one metric must improve: the constant teacher has nothing to lose
        PROMOTION_MARGIN: '1',
        PROMOTION_EXECUTION_PROVIDERS: 'cpu',
      };
      delete env.DISTILL_PREPARED_DIR;
    });
    after(() => cleanup.run());

    it(
      'provisions itself, labels every image, trains on the store, gates on the test split and hot-swaps',
      { timeout: 900_000 },
      async () => {
        // the hospital's own data: an archive of DICOM files and HL7 reports with some expert boxes
        const cohort = path.join(work, 'cohort');
        await writeCohort(cohort, {
          ...DEFAULT_COHORT_OPTIONS,
          studies: 70,
          seed: 'from-nothing-a',
          size: 128,
          ribPrevalence: 0.45,
          claviclePrevalence: 0.25,
          regionTrain: 24,
          regionTest: 16,
          regionRibPrevalence: 0.6,
          regionClaviclePrevalence: 0.4,
          compressedFraction: 0.2,
        });
        const manifest = manifestOf(cohort);
        // retrain once this hospital's labels are mostly in (the default, 1000, suits a real feed)
        const ribLabels = manifest.filter((m) => m.reportLabel.rib !== 'uncertain').length;
        env.DISTILL_MIN_NEW_LABELS = String(Math.floor(ribLabels * 0.8));

        // documented set-up commands: the tables (and their schema) and the event schemas
        await harvester(['migrate'], env);
        assert.ok(
          (await count(`SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`, [
            fresh.schema,
          ])) > 20,
          "the tables are in DATABASE_URL's schema",
        );
        await harvester(['schemas', 'register'], env);

        // the worst order: the consumers of what does not exist yet first, the report-labeler last
        await start('pseudo-labeler');
        await start('distill-worker');
        await start('distill-scheduler');

        // expert boxes through the CLI (D_R, fracture-free images and their model inputs), then the feed
        const imported = await harvester(
          [
            'annotations',
            'import',
            '--input',
            path.join(cohort, 'annotations.coco.json'),
            '--images-from',
            cohort,
            '--database',
            env.DATABASE_URL!,
            '--size',
            String(SIZE),
          ],
          env,
        );
        const reviewed = manifest.filter((m) => m.split !== 'record').length;
        assert.match(imported.stdout, new RegExp(`model inputs \\(fh1-64x64-u8\\) ${reviewed} stored`));
        assert.equal(await count(`SELECT count(*) FROM region_annotated_images`), reviewed);
        await harvester(['feed', '--dir', cohort, '--no-progress'], env);
        await start('report-labeler');

        await waitFor(
          'every image recorded',
          async () => (await count('SELECT count(*) FROM images')) === manifest.length,
          180_000,
        );
        const expected = manifest.reduce(
          (n, m) => n + (['rib', 'clavicle'] as const).filter((c) => m.reportLabel[c] !== 'uncertain').length,
          0,
        );
        await waitFor(
          'every image pseudo-labelled',
          async () =>
            (await count(`SELECT count(*) FROM pseudo_labels WHERE model_version = 'constant-teacher'`)) ===
            expected,
          180_000,
        );
        const labelled = await count('SELECT count(DISTINCT sop_instance_uid) FROM pseudo_labels');
        assert.equal(
          await count(`SELECT count(*) FROM training_inputs WHERE preprocessing_version = 'fh1-64x64-u8'`),
          // the reviewed images were stored by the import; the pseudo-labeler reused those inputs
          new Set([
            ...manifest.filter((m) => m.split !== 'record').map((m) => m.sopInstanceUid),
            ...(
              await db.query<{ s: string }>('SELECT DISTINCT sop_instance_uid AS s FROM pseudo_labels')
            ).rows.map((r) => r.s),
          ]).size,
        );
        assert.ok(labelled > 0);

        // label volume -> a job -> a student trained from the database and the store -> the gate
        await waitFor(
          'a gate decision',
          async () => (await count('SELECT count(*) FROM model_promotions')) > 0,
          600_000,
        );
        const { rows: jobs } = await db.query(
          `SELECT id, status, base_model_version, output_model_version, snapshot FROM distill_jobs ORDER BY id`,
        );
        const job = jobs[0]!;
        assert.equal(job.status, 'succeeded');
        assert.equal(job.base_model_version, 'constant-teacher', 'the registered serving teacher');
        const snapshot = job.snapshot as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        assert.equal(snapshot.source, 'database');
        assert.equal(snapshot.teacherVersion, 'constant-teacher');
        assert.equal(snapshot.preprocessingVersion, 'fh1-64x64-u8');
        assert.equal(snapshot.regionTrain.images, manifest.filter((m) => m.split === 'region-train').length);
        assert.equal(snapshot.regionTest.images, manifest.filter((m) => m.split === 'region-test').length);
        assert.ok(snapshot.pseudoLabels.rib.negative > 0 && snapshot.shards.count > 0);
        assert.equal(snapshot.pseudoLabelsWithoutInput, 0);
        const { rows: students } = await db.query(
          `SELECT version, parent_version, training_snapshot FROM model_versions WHERE version = $1`,
          [job.output_model_version],
        );
        assert.equal(students[0]!.parent_version, 'constant-teacher');
        assert.equal(
          students[0]!.training_snapshot.digest,
          snapshot.digest,
          'the model is traced to the data',
        );
        const { rows: decisions } = await db.query(
          `SELECT candidate_version, active_version, decision, evaluation_set, reasons FROM model_promotions`,
        );
        const decision = decisions[0]!;
        assert.equal(decision.active_version, 'constant-teacher');
        assert.match(decision.evaluation_set, /^database#region-test:16:[0-9a-f]{12}@fh1-64x64-u8$/);
        assert.equal(decision.decision, 'promoted', decision.reasons.join('; '));
        assert.ok(
          !readdirSync(work).includes('prepared') && !existsSync(path.join(cohort, 'prepared')),
          'no prepared folder',
        );

        // the promoted student is hot-swapped: later images are labelled by it
        const student = decision.candidate_version as string;
        await waitFor(
          'the pseudo-labeler hot-swapped',
          () => logOf(services['pseudo-labeler']!).includes(`"to":"${student}"`),
          120_000,
        );
        const later = path.join(work, 'later');
        await writeCohort(later, {
          ...DEFAULT_COHORT_OPTIONS,
          studies: 6,
          seed: 'from-nothing-b',
          size: 128,
          regionTrain: 0,
          regionTest: 0,
        });
        const laterImages = manifestOf(later).filter((m) => m.reportLabel.rib !== 'uncertain');
        await harvester(['feed', '--dir', later, '--no-progress', '--duplicate-rate', '0'], env);
        await waitFor(
          'the later images labelled by the student',
          async () =>
            (await count(
              `SELECT count(*) FROM pseudo_labels WHERE class = 'rib' AND sop_instance_uid = ANY($1)`,
              [laterImages.map((m) => m.sopInstanceUid)],
            )) === laterImages.length,
          180_000,
        );
        assert.equal(
          await count(
            `SELECT count(*) FROM pseudo_labels WHERE class = 'rib' AND sop_instance_uid = ANY($1) AND model_version <> $2`,
            [laterImages.map((m) => m.sopInstanceUid), student],
          ),
          0,
        );

        // every topic of the system now exists, made by the services and the feed alone
        assert.deepEqual(
          (await fresh.topics()).sort(),
          SYSTEM_TOPICS.map((t) => `${fresh.prefix}${t.id}`).sort(),
        );

        for (const [name, service] of Object.entries(services)) {
          await service.stop();
          assert.deepEqual(service.exits.slice(-1), [0], `${name} stopped cleanly`);
        }
        process.stderr.write(
          `streaming from nothing: first gate decision and hot-swap within ${elapsed()}\n`,
        );
      },
    );
  },
);
