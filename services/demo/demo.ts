import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import {
  labelCounts,
  modelHistory,
  prevalenceMonthly,
  recordVsTeacher,
  scoreHistogram,
} from '../app/analytics/queries.ts';
import { loadBackfillConfig } from '../app/backfill/config.ts';
import { formatBackfillSummary } from '../app/backfill/format-summary.ts';
import { backfillWithConfig } from '../app/backfill-archive.ts';
import { prepareCohort } from '../app/prepare-cohort.ts';
import { writeCohort } from '../../tools/synth/write-cohort.ts';
import { evaluateTeacher, loadHeldOutSet, type HeldOutMetrics } from '../shared/distill/evaluate-onnx.ts';
import { LocalRunner } from '../shared/distill/local-runner.ts';
import { OnnxTeacher, type Teacher } from '../shared/onnx/teacher.ts';
import { createLogger } from '../shared/observability/logger.ts';
import { DEFAULT_COHORT_OPTIONS, type CohortOptions } from '../../tools/synth/cohort.ts';
import { recordingQueryable } from './recording-queryable.ts';
import { renderDemoReport, type DemoReportData } from './render-report.ts';
import { sampleImages } from './sample-images.ts';
import { ExpectedError } from '../shared/errors.ts';

/**
 * A pseudonymisation key for the synthetic hospital only: its patient ids are invented. Real
 * archives go through `harvester backfill`, which refuses to run without PATIENT_ID_HMAC_KEY.
 */
export const DEMO_HMAC_KEY = 'fracture-harvester-demo-key-synthetic-patients-only';

const MARKER = '.harvester-demo';
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_TEACHER_ONNX = join(REPO, 'models/teacher/teacher.onnx');
const DEFAULT_TEACHER_CHECKPOINT = join(REPO, 'models/teacher/teacher.pt');
const INSTALL_TORCH = 'apt-get install python3-torch python3-numpy python3-onnx python3-psycopg2';

export interface DemoOptions {
  out: string;
  studies: number;
  /** Distillation epochs (0: skip the distillation). */
  epochs: number;
  seed?: string;
  progress?: boolean;
  python?: string;
  say?: (line: string) => void;
}

export interface DemoResult {
  reportPath: string;
  databaseDir: string;
  data: DemoReportData;
}

/**
 * The demo hospital: a small cohort, positives enriched so a few hundred studies show fractures,
 * stored at 512 px like the cohort the default teacher was trained on (models/teacher/RECIPE.md).
 */
export function demoCohortOptions(studies: number, seed: string): CohortOptions {
  const regionTest = Math.max(8, Math.round(studies * 0.2));
  const regionTrain = Math.max(4, Math.round(studies * 0.1));
  return {
    ...DEFAULT_COHORT_OPTIONS,
    studies,
    seed,
    size: 512,
    ribPrevalence: 0.15,
    claviclePrevalence: 0.06,
    regionTrain,
    regionTest,
  };
}

/** Whether `python` can import PyTorch, numpy and onnx (what the distiller needs on CPU). */
export function distillerProblem(python: string): string | null {
  const check = spawnSync(python, ['-c', 'import torch, numpy, onnx, psycopg2'], { encoding: 'utf8' });
  if (check.error) return `${python} not found (install Python 3 and PyTorch: ${INSTALL_TORCH})`;
  if (check.status !== 0) {
    return `PyTorch is not importable by ${python}: install it with \`${INSTALL_TORCH}\` (Debian/Ubuntu), then rerun the demo`;
  }
  return null;
}

/** Clears a previous demo's output; refuses a folder that is not one (never deletes user data). */
function prepareOutput(out: string): void {
  if (existsSync(out)) {
    const entries = readdirSync(out);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new ExpectedError(`${out} is not empty and not a demo output folder: choose another --out`);
    }
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, MARKER), 'written by harvester demo; deleted and rewritten by the next run\n');
}

/**
 * `harvester demo`: a synthetic hospital, backfilled into embedded PostgreSQL with the default
 * teacher (AALS pseudo-labels), one distillation when PyTorch is there, and a self-contained HTML
 * report. Everything in `out`; no servers.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const say = options.say ?? ((line: string) => process.stderr.write(`demo: ${line}\n`));
  const out = resolve(options.out);
  const seed = options.seed ?? 'demo';
  const python = options.python ?? process.env.DISTILLER_PYTHON ?? '/usr/bin/python3';
  const steps: DemoReportData['steps'] = [];
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    say(`${name} ...`);
    const t0 = performance.now();
    const result = await work();
    const seconds = (performance.now() - t0) / 1000;
    steps.push({ name, seconds });
    say(`${name}: ${seconds.toFixed(1)} s`);
    return result;
  };
  prepareOutput(out);
  const cohortDir = join(out, 'cohort');
  const preparedDir = join(cohortDir, 'prepared');
  const databaseDir = join(out, 'pglite');
  const cohortOptions = demoCohortOptions(options.studies, seed);
  const commands = [
    `harvester synth --out ${cohortDir} --studies ${options.studies} --seed ${seed} --rib-prevalence ` +
      `${cohortOptions.ribPrevalence} --clavicle-prevalence ${cohortOptions.claviclePrevalence} --region-train ` +
      `${cohortOptions.regionTrain} --region-test ${cohortOptions.regionTest}`,
    `harvester prepare --cohort ${cohortDir} --size 256`,
    `PATIENT_ID_HMAC_KEY=<demo key> harvester backfill --reports ${join(cohortDir, 'reports.hl7')} --dicom ` +
      `${join(cohortDir, 'dicom')} --data-dir ${databaseDir}`,
  ];

  const cohort = await step('synthetic hospital', () => writeCohort(cohortDir, cohortOptions));
  await step('model inputs (prepare)', () => prepareCohort({ cohort: cohortDir, size: '256' }));

  const config = loadBackfillConfig({
    ...process.env,
    PATIENT_ID_HMAC_KEY: DEMO_HMAC_KEY,
    TEACHER_MODEL_PATH: process.env.TEACHER_MODEL_PATH ?? DEFAULT_TEACHER_ONNX,
    TEACHER_EXECUTION_PROVIDERS: process.env.TEACHER_EXECUTION_PROVIDERS ?? 'cpu',
  });
  const logger = createLogger('demo', process.env.LOG_LEVEL ?? 'warn');
  let data: DemoReportData | undefined;
  const t0 = performance.now();
  say('backfill into embedded PostgreSQL (PGlite) with the default teacher ...');
  await backfillWithConfig(config, {
    reports: join(cohortDir, 'reports.hl7'),
    dicom: join(cohortDir, 'dicom'),
    dataDir: databaseDir,
    store: join(out, 'training-store'),
    logger,
    progress: options.progress,
    onProblem: (line) => say(`backfill: ${line}`),
    use: async (pool, run) => {
      const seconds = (performance.now() - t0) / 1000;
      steps.push({ name: 'backfill (labels, images, teacher, AALS)', seconds });
      say(`backfill: ${seconds.toFixed(1)} s\n${formatBackfillSummary(run.summary)}`);
      const version = run.summary.modelVersion;
      const heldOut = await loadHeldOutSet(preparedDir, 'region-test');

      const teacher = await OnnxTeacher.load({
        modelPath: config.TEACHER_MODEL_PATH,
        version,
        providers: config.TEACHER_EXECUTION_PROVIDERS,
        intraOpThreads: config.TEACHER_INTRA_OP_THREADS,
        fallbackInputSize: config.TEACHER_INPUT_SIZE,
        logger,
      });
      try {
        const teacherMetrics = await step('teacher on the held-out set', () =>
          evaluateTeacher(teacher, heldOut),
        );

        let student: DemoReportData['student'];
        const problem = options.epochs > 0 ? distillerProblem(python) : 'skipped (--epochs 0)';
        if (problem) {
          say(`no distillation: ${problem}`);
          student = { ran: false, reason: problem };
        } else {
          student = await step('distillation (student from AALS pseudo-labels)', () =>
            distill(run.databaseUrl, version, preparedDir, join(out, 'student'), options.epochs, python, say),
          );
          commands.push(
            `harvester distill distill --prepared ${preparedDir} --out ${join(out, 'student')} --database URL ` +
              `--teacher-version ${version} --teacher models/teacher/teacher.pt --init-from-teacher --method aals ` +
              `--lr 5e-4 --epochs ${options.epochs} --threads 2 --export ${join(out, 'student', 'student.onnx')}`,
          );
        }

        const recorded = recordingQueryable(pool);
        const db = recorded.db;
        const analytics = await step('analytics queries and samples', async () => ({
          prevalence: await prevalenceMonthly(db),
          byView: await labelCounts(db, 'view'),
          recordVsTeacher: await recordVsTeacher(db),
          scoreHistogram: await scoreHistogram(db, version),
          models: await modelHistory(db),
          samples: await sampleImages(db, teacher, version, { positive: 4, negative: 2 }),
        }));
        data = {
          generatedAt: new Date(),
          cohort: {
            studies: cohort.studies,
            images: cohort.images,
            reports: cohort.reports,
            regionTrain: cohortOptions.regionTrain,
            regionTest: cohortOptions.regionTest,
            seed,
          },
          steps,
          backfill: run.summary,
          databaseDir,
          teacher: { version, path: config.TEACHER_MODEL_PATH, metrics: teacherMetrics },
          aals: { t: config.AALS_T, a0: config.AALS_A0, eps: config.AALS_EPS },
          student,
          ...analytics,
          sql: recorded.statements,
          commands,
        };
      } finally {
        await teacher.release();
      }
    },
  });
  const reportPath = join(out, 'report.html');
  writeFileSync(reportPath, renderDemoReport(data!));
  return { reportPath, databaseDir, data: data! };
}

/** One distillation with the distill worker's local runner, reading targets from the database. */
async function distill(
  databaseUrl: string,
  teacherVersion: string,
  preparedDir: string,
  runDir: string,
  epochs: number,
  python: string,
  say: (line: string) => void,
): Promise<DemoReportData['student']> {
  mkdirSync(runDir, { recursive: true });
  const onnxPath = join(runDir, 'student.onnx');
  const version = `student-demo-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;
  const logPath = join(runDir, 'distill.log');
  const logger = pino({ name: 'distill' }, pino.destination({ dest: logPath, sync: true }));
  say(`distilling ${epochs} epoch(s) on the CPU (log: ${logPath})`);
  const runner = new LocalRunner({ python, distillerDir: join(REPO, 'services/distiller') });
  const args = [
    'distill',
    '--prepared',
    preparedDir,
    '--out',
    runDir,
    '--database',
    databaseUrl,
    '--teacher-version',
    teacherVersion,
    '--teacher',
    DEFAULT_TEACHER_CHECKPOINT,
    '--init-from-teacher',
    '--method',
    'aals',
    '--epochs',
    String(epochs),
    // fine-tuning from the teacher's weights: a gentler rate than from scratch (bench/ablation)
    '--lr',
    '5e-4',
    '--threads',
    '2',
    '--model',
    'cpu',
    '--version',
    version,
    '--export',
    onnxPath,
  ];
  const result = await runner.run({
    jobId: 'demo',
    attempt: 1,
    version,
    args,
    onnxPath,
    logger,
    signal: new AbortController().signal,
  });
  if (!result.ok) {
    return { ran: false, reason: `the distiller failed (${result.error}); see ${logPath}` };
  }
  const student: Teacher = await OnnxTeacher.load({
    modelPath: onnxPath,
    version,
    providers: ['cpu'],
    intraOpThreads: 0,
    fallbackInputSize: 256,
    logger: createLogger('demo', 'warn'),
  });
  try {
    const metrics: HeldOutMetrics = await evaluateTeacher(
      student,
      await loadHeldOutSet(preparedDir, 'region-test'),
    );
    return { ran: true, version, path: onnxPath, epochs, metrics, seconds: result.seconds };
  } finally {
    await student.release();
  }
}
