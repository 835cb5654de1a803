/**
 * The distiller's training speed on the same images read two ways, same model, seed and machine:
 * from a prepared folder (`harvester prepare`: a memory-mapped uint8 file) and from the training
 * store through Postgres (what a distillation job reads: distiller/snapshot.py). Both train the
 * supervised detector on the region-train images and evaluate on region-test; the figures are the
 * time until training starts (reading the data), the images/s of each epoch and the wall time.
 * Run: npm run bench:train-source [-- --studies 400 --region-train 200 --size 256 --epochs 2 --model cpu]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { importAnnotations, readAnnotationsInput } from '../services/app/import-annotations.ts';
import { prepareCohort } from '../services/app/prepare-cohort.ts';
import { writeCohort } from '../tools/synth/write-cohort.ts';
import { DISTILLER_DIR } from '../services/distill-worker/worker.ts';
import { migrateDatabase } from '../services/shared/db/migrate.ts';
import { DEFAULT_COHORT_OPTIONS } from '../tools/synth/cohort.ts';
import { storeAnnotatedInputs } from '../services/shared/training-store/annotated-inputs.ts';
import { FileTrainingStore } from '../services/shared/training-store/training-store.ts';
import { createTestSchema, getTestStack, releaseTestStack } from '../test/support/index.ts';

const { values } = parseArgs({
  options: {
    studies: { type: 'string', default: '400' },
    'region-train': { type: 'string', default: '200' },
    size: { type: 'string', default: '256' },
    epochs: { type: 'string', default: '2' },
    model: { type: 'string', default: 'cpu' },
    threads: { type: 'string', default: '2' },
  },
});
const size = Number(values.size);
const python = process.env.DISTILLER_PYTHON ?? '/usr/bin/python3';

interface RunFigures {
  source: string;
  secondsToTrainingStart: number;
  imagesPerSecondByEpoch: number[];
  trainingImages: number;
  wallSeconds: number;
}

function distil(args: string[], source: string): Promise<RunFigures> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(python, ['-m', 'distiller', 'supervised', ...args], {
      env: { ...process.env, PYTHONPATH: DISTILLER_DIR },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const figures: RunFigures = {
      source,
      secondsToTrainingStart: 0,
      imagesPerSecondByEpoch: [],
      trainingImages: 0,
      wallSeconds: 0,
    };
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (e.event === 'start') {
        figures.secondsToTrainingStart = Math.round((performance.now() - t0) / 10) / 100;
        figures.trainingImages = Number(e.images);
      } else if (e.event === 'epoch') figures.imagesPerSecondByEpoch.push(Number(e.images_per_s));
    });
    child.on('exit', (code) => {
      figures.wallSeconds = Math.round((performance.now() - t0) / 10) / 100;
      if (code === 0) resolve(figures);
      else reject(new Error(`distiller (${source}) exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

const dir = await mkdtemp(path.join(tmpdir(), 'fh-bench-train-source-'));
const stack = await getTestStack();
const db = await createTestSchema(stack, 'bench_train_source');
try {
  const cohort = path.join(dir, 'cohort');
  const regionTrain = Number(values['region-train']);
  await writeCohort(cohort, {
    ...DEFAULT_COHORT_OPTIONS,
    studies: Number(values.studies),
    seed: 'bench-train-source',
    regionTrain,
    regionTest: Math.max(20, Math.round(regionTrain / 4)),
  });
  await prepareCohort({ cohort, out: path.join(dir, 'prepared'), size: String(size) });
  await migrateDatabase({ database: stack.databaseUrl, schema: db.schema });
  const input = readAnnotationsInput({
    input: path.join(cohort, 'annotations.coco.json'),
    format: 'coco',
    imagesFrom: cohort,
  });
  await importAnnotations(db.pool, input);
  const store = new FileTrainingStore(path.join(dir, 'store'));
  await store.prepare();
  const files = new Map([...input.manifest!].map(([sop, m]) => [sop, m.file!]));
  await storeAnnotatedInputs(db.pool, store, { width: size, height: size, files });

  const common = [
    '--epochs',
    values.epochs!,
    '--model',
    values.model!,
    '--seed',
    '0',
    '--threads',
    values.threads!,
  ];
  const sep = stack.databaseUrl.includes('?') ? '&' : '?';
  const url = `${stack.databaseUrl}${sep}options=${encodeURIComponent(`-c search_path=${db.schema}`)}`;
  const prepared = await distil(
    ['--prepared', path.join(dir, 'prepared'), '--out', path.join(dir, 'run-prepared'), ...common],
    'prepared folder',
  );
  const fromStore = await distil(
    [
      '--database',
      url,
      '--store',
      store.url,
      '--input-size',
      String(size),
      '--out',
      path.join(dir, 'run-store'),
      ...common,
    ],
    'training store (Postgres + shards)',
  );
  console.log(
    JSON.stringify(
      {
        bench: 'train-source',
        model: values.model,
        size,
        epochs: Number(values.epochs),
        runs: [prepared, fromStore],
      },
      null,
      1,
    ),
  );
} finally {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
  await releaseTestStack();
}
