import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';
import { importAnnotations, readAnnotationsInput } from '../app/import-annotations.ts';
import { feedCohort, type FeedProgress } from '../app/feed-cohort.ts';
import { writeCohort } from '../../tools/synth/write-cohort.ts';
import { ensureSystemTopics } from '../app/ensure-topics.ts';
import { OnnxTeacher } from '../shared/onnx/teacher.ts';
import { loadConfig } from '../shared/config/env.ts';
import { createPool } from '../shared/db/pool.ts';
import { migrateDatabase } from '../shared/db/migrate.ts';
import { registerSystemSchemas } from '../shared/events/register-system-schemas.ts';
import { createSchemaRegistry } from '../shared/events/registry.ts';
import { KAFKA_SERVICES, topicProvisioningEnvShape } from '../shared/kafka/system-topics.ts';
import { createLogger } from '../shared/observability/logger.ts';
import { MIN_HMAC_KEY_BYTES } from '../shared/privacy/pseudonymise.ts';
import { DEFAULT_COHORT_OPTIONS } from '../../tools/synth/cohort.ts';
import { storeAnnotatedInputs } from '../shared/training-store/annotated-inputs.ts';
import { openTrainingStore } from '../shared/training-store/training-store.ts';
import { formatProgress, progressEvents, readProgress, type ProgressSnapshot } from './progress.ts';
import { SupervisedProcess, type SupervisorEvent } from './supervised-process.ts';
import { ExpectedError } from '../shared/errors.ts';

const execFileAsync = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const STACK = path.join(REPO, 'deploy/local/stack');

/**
 * The services `up` runs, in the order they are started: the gateways a hospital's RIS and PACS
 * send to (MLLP on 2575, DICOM on 11112), then the four services of DESIGN.md (the same list as
 * the Kafka principals: every one of them connects to Kafka).
 */
export const UP_SERVICES = KAFKA_SERVICES;

export type UpUntil = 'fed' | 'labelled' | 'first-decision';

export interface UpOptions {
  /** Publish a synthetic hospital (with its expert annotations) into the system. */
  feed?: 'synthetic';
  studies: number;
  seed: string;
  /** Messages per second of the synthetic feed (0: as fast as possible). */
  rate: number;
  /** Stop by itself once this is reached (otherwise: Ctrl-C). */
  until?: UpUntil;
  /** Leave the local stack running at the end. */
  keepStack: boolean;
  /** Folder for logs, the generated key and the synthetic hospital (default var/up). */
  dir: string;
  /** Progress and events, one call per line or block. */
  print: (text: string) => void;
  /** Redraw the status block in place (a terminal) rather than printing it now and then. */
  live: boolean;
  signal: AbortSignal;
}

export interface UpSummary {
  seconds: number;
  firstDecisionSeconds: number | null;
  progress: ProgressSnapshot | null;
  restarts: Record<string, number>;
}

function since(t0: number): string {
  const s = (Date.now() - t0) / 1000;
  return `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

/** The local stack (Kafka, registry, Postgres) unless the three endpoints are given; returns what it started. */
async function ensureStack(env: NodeJS.ProcessEnv, print: (s: string) => void): Promise<string[]> {
  if (env.KAFKA_BROKERS && env.SCHEMA_REGISTRY_URL && env.DATABASE_URL) {
    print('using KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL from the environment');
    return [];
  }
  const status = await execFileAsync(STACK, ['status'], { cwd: REPO }).then(
    (r) => r.stdout + r.stderr,
    (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
  );
  const started = ['kafka', 'registry', 'postgres'].filter(
    (s) => !new RegExp(`^stack: ${s} +healthy`, 'm').test(status),
  );
  if (started.length > 0) print(`starting the local stack (${started.join(', ')}): deploy/local/stack up`);
  try {
    await execFileAsync(STACK, ['up'], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? (err as Error).message;
    throw new ExpectedError(`deploy/local/stack up failed:\n${stderr.split('\n').slice(-15).join('\n')}`);
  }
  const { stdout } = await execFileAsync(STACK, ['env'], { cwd: REPO });
  for (const m of stdout.matchAll(/([A-Z_]+)=(\S+)/g)) env[m[1]!] = m[2]!;
  return started;
}

/** PATIENT_ID_HMAC_KEY, or one generated once and kept in the up folder (pseudonyms depend on it). */
function ensureHmacKey(env: NodeJS.ProcessEnv, dir: string, print: (s: string) => void): void {
  if (env.PATIENT_ID_HMAC_KEY) {
    if (Buffer.byteLength(env.PATIENT_ID_HMAC_KEY) < MIN_HMAC_KEY_BYTES)
      throw new ExpectedError(`PATIENT_ID_HMAC_KEY must be at least ${MIN_HMAC_KEY_BYTES} bytes`);
    return;
  }
  const file = path.join(dir, 'patient-id-hmac-key');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    print(`generated the patient-id pseudonymisation key in ${file} (keep it: pseudonyms depend on it)`);
  }
  env.PATIENT_ID_HMAC_KEY = readFileSync(file, 'utf8').trim();
}

/** The teacher's input side (the annotated images' inputs are stored at it). */
export async function teacherInputSize(env: NodeJS.ProcessEnv): Promise<number> {
  const teacher = await OnnxTeacher.load({
    modelPath: env.TEACHER_MODEL_PATH ?? path.join(REPO, 'models/teacher/teacher.onnx'),
    providers: ['cpu'],
    intraOpThreads: 1,
    fallbackInputSize: Number(env.TEACHER_INPUT_SIZE ?? 256),
    logger: createLogger('up', 'silent'),
  });
  const size = teacher.inputWidth;
  await teacher.release();
  return size;
}

export interface SyntheticHospital {
  dir: string;
  images: number;
  /** Images with a non-uncertain rib / clavicle label: each gets one pseudo-label per such class. */
  expectedLabels: number;
  ribLabels: number;
}

/** The synthetic hospital of `up --feed synthetic`: reused when it was written before with the same options. */
export async function syntheticHospital(
  o: Pick<UpOptions, 'dir' | 'studies' | 'seed'>,
  print: (s: string) => void,
): Promise<SyntheticHospital> {
  const dir = path.join(o.dir, `hospital-${o.studies}-${o.seed}`);
  const region = Math.max(5, Math.round(o.studies * 0.1));
  if (!existsSync(path.join(dir, 'cohort.json'))) {
    print(
      `writing a synthetic hospital of ${o.studies} studies (${region} + ${region} expert-annotated) to ${dir}`,
    );
    await writeCohort(dir, {
      ...DEFAULT_COHORT_OPTIONS,
      studies: o.studies,
      seed: o.seed,
      regionTrain: region,
      regionTest: region,
    });
  } else {
    print(`using the synthetic hospital in ${dir}`);
  }
  const manifest = readFileSync(path.join(dir, 'manifest.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { reportLabel: Record<'rib' | 'clavicle', string> });
  const labels = (cls: 'rib' | 'clavicle') =>
    manifest.filter((m) => m.reportLabel[cls] !== 'uncertain').length;
  return {
    dir,
    images: manifest.length,
    expectedLabels: labels('rib') + labels('clavicle'),
    ribLabels: labels('rib'),
  };
}

/**
 * The synthetic hospital's expert annotations into the database, and their images' model inputs into
 * the training store (what a site's import does before the feed starts).
 */
export async function storeHospitalAnnotations(
  pool: ReturnType<typeof createPool>,
  env: NodeJS.ProcessEnv,
  h: SyntheticHospital,
  print: (s: string) => void,
): Promise<void> {
  const input = readAnnotationsInput({
    input: path.join(h.dir, 'annotations.coco.json'),
    format: 'coco',
    imagesFrom: h.dir,
  });
  const { summary: a, rejects } = await importAnnotations(pool, input);
  const size = await teacherInputSize(env);
  const store = openTrainingStore(env.TRAINING_STORE_URL ?? path.join(REPO, 'var/training-store'));
  await store.prepare();
  const files = new Map([...(input.manifest ?? new Map())].map(([sop, m]) => [sop, m.file as string]));
  const inputs = await storeAnnotatedInputs(pool, store, { width: size, height: size, files });
  print(
    `expert annotations: ${a.imported + a.alreadyPresent} boxes, ` +
      `${a.fractureFree.imported + a.fractureFree.alreadyPresent} fracture-free images, ` +
      `${inputs.stored + inputs.alreadyStored} model inputs in the store` +
      (rejects.length ? `, ${rejects.length} rows rejected` : ''),
  );
}

/** Sets `name` for the services unless the user did. */
function defaultTo(
  env: NodeJS.ProcessEnv,
  name: string,
  value: string,
  print: (s: string) => void,
  why: string,
) {
  if (env[name] !== undefined && env[name] !== '') return;
  env[name] = value;
  print(`${name}=${value} (${why}; set it to change)`);
}

/**
 * `harvester up`: the whole streaming system on this machine under one supervisor. Starts the
 * local stack, applies the migrations, registers the event schemas and creates the topics, starts
 * the four services (logs in <dir>/logs, a crashed one restarted with back-off), optionally feeds a
 * synthetic hospital with its expert annotations, and shows progress until the signal (Ctrl-C) or
 * `until`, then stops everything it started.
 */
export async function runUp(o: UpOptions): Promise<UpSummary> {
  const t0 = Date.now();
  const print = (line: string) => o.print(`[${since(t0)}] ${line}`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  const logs = path.join(o.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const startedStack = await ensureStack(env, print);
  const services: SupervisedProcess[] = [];
  const summary: UpSummary = { seconds: 0, firstDecisionSeconds: null, progress: null, restarts: {} };
  const feedAbort = new AbortController();
  let pool: ReturnType<typeof createPool> | undefined;
  try {
    ensureHmacKey(env, o.dir, print);
    const topicSettings = loadConfig(z.object(topicProvisioningEnvShape), env);
    const migrated = await migrateDatabase({ database: env.DATABASE_URL! });
    print(migrated.length > 0 ? `applied ${migrated.length} migrations` : 'database is up to date');
    const registered = await registerSystemSchemas(
      createSchemaRegistry({
        url: env.SCHEMA_REGISTRY_URL!,
        username: env.SCHEMA_REGISTRY_USERNAME,
        password: env.SCHEMA_REGISTRY_PASSWORD,
      }),
      env,
      topicSettings,
    );
    print(`registered ${registered.length} event schemas`);
    const topics = await ensureSystemTopics({}, env);
    const created = topics.filter((t) => t.state === 'created').length;
    print(`topics: ${topics.length} (${created} created, ${topics.length - created} existed)`);

    let hospital: SyntheticHospital | undefined;
    if (o.feed === 'synthetic') {
      hospital = await syntheticHospital(o, print);
      defaultTo(
        env,
        'DISTILL_MIN_NEW_LABELS',
        String(Math.max(20, Math.floor(hospital.ribLabels * 0.8))),
        print,
        'retrain once 80% of this hospital is labelled',
      );
      defaultTo(env, 'DISTILL_RECIPE_EPOCHS', '3', print, 'a student in minutes on a CPU');
    }
    defaultTo(env, 'TEACHER_HOT_SWAP', 'true', print, 'promoted students replace the teacher');
    defaultTo(env, 'DISTILL_SCHEDULER_POLL_SECONDS', '10', print, 'look at the label volume often');

    const onEvent = (e: SupervisorEvent) => {
      const log = path.join(logs, `${e.name}.log`);
      if (e.kind === 'started')
        print(`${e.name} started (pid ${e.pid}${e.run > 1 ? `, run ${e.run}` : ''}); log ${log}`);
      else if (e.kind === 'exited' && !e.signal && e.code !== 0)
        print(`${e.name} exited with code ${e.code}; see ${log}`);
      else if (e.kind === 'exited' && e.signal && e.signal !== 'SIGTERM')
        print(`${e.name} was killed (${e.signal})`);
      else if (e.kind === 'restarting')
        print(`${e.name}: restarting in ${Math.round(e.inMs / 1000)} s (crash ${e.crashes})`);
    };
    // retire synchronously, before the services' own exits on the same Ctrl-C are handled
    o.signal.addEventListener('abort', () => services.forEach((s) => s.retire()), { once: true });
    for (const name of UP_SERVICES) {
      const service = new SupervisedProcess({
        name,
        command: process.execPath,
        args: [path.join(REPO, 'bin/harvester.js'), 'run', name],
        cwd: REPO,
        env,
        logFile: path.join(logs, `${name}.log`),
        onEvent,
      });
      services.push(service);
      service.start();
    }

    pool = createPool({ url: env.DATABASE_URL!, maxConnections: 2, applicationName: 'harvester-up' });
    let feedLine: string | null = null;
    let fed = false;
    const feeding = hospital
      ? (async () => {
          const h = hospital!;
          await storeHospitalAnnotations(pool!, env, h, print);
          const result = await feedCohort(
            {
              dir: h.dir,
              rate: String(o.rate),
              brokers: env.KAFKA_BROKERS,
              registry: env.SCHEMA_REGISTRY_URL,
              progress: false,
            },
            {
              signal: feedAbort.signal,
              onProgress: (p: FeedProgress) => {
                feedLine = `${p.position}/${p.total} messages (${p.sent.hl7} HL7, ${p.sent.dicom} DicomArrived)`;
              },
            },
          );
          fed = !result.interrupted;
          print(
            `feed ${fed ? 'done' : 'stopped'}: ${result.sent.hl7} HL7 reports, ${result.sent.dicom} images in ${Math.round(result.seconds)} s`,
          );
        })()
      : Promise.resolve();
    const feedFailed = feeding.catch((err: Error) => {
      print(`feed failed: ${err.message}`);
      throw err;
    });
    feedFailed.catch(() => {});

    let previous: ProgressSnapshot | null = null;
    let shown = 0;
    let lastBlock = 0;
    const states = () => services.map((s) => ({ name: s.name, state: s.state, restarts: s.restarts }));
    while (!o.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      let now: ProgressSnapshot;
      try {
        now = await readProgress(pool);
      } catch (err) {
        print(`progress unavailable: ${(err as Error).message}`);
        continue;
      }
      const events = progressEvents(previous, now);
      previous = now;
      summary.progress = now;
      if (summary.firstDecisionSeconds === null && now.decisions.length > 0)
        summary.firstDecisionSeconds = (Date.now() - t0) / 1000;
      const block = formatProgress(now, states(), (Date.now() - t0) / 1000, feedLine);
      if (o.live) {
        // move up over the last block, print the events above, redraw the block below them
        o.print(
          `${shown > 0 ? `\u001b[${shown}A\u001b[0J` : ''}${events.map((e) => `[${since(t0)}] ${e}\n`).join('')}${block.join('\n')}`,
        );
        shown = block.length;
      } else {
        for (const e of events) print(e);
        if (Date.now() - lastBlock > 15_000) {
          o.print(block.join('\n'));
          lastBlock = Date.now();
        }
      }
      if (o.until === 'first-decision' && now.decisions.length > 0) break;
      if (o.until === 'fed' && fed) break;
      if (o.until === 'labelled' && fed && hospital && now.pseudoLabels >= hospital.expectedLabels) break;
    }
    if (o.live) o.print('');
    feedAbort.abort();
    await feedFailed.catch(() => undefined);
    return summary;
  } finally {
    feedAbort.abort();
    if (services.length > 0) print(`stopping ${services.map((s) => s.name).join(', ')}`);
    await Promise.all(services.map((s) => s.stop()));
    for (const s of services) summary.restarts[s.name] = s.restarts;
    await pool?.end().catch(() => {});
    if (startedStack.length > 0 && !o.keepStack) {
      print(`stopping the local stack services it started (${startedStack.join(', ')})`);
      await execFileAsync(STACK, ['down', ...startedStack], { cwd: REPO }).catch((err: Error) =>
        print(`deploy/local/stack down failed: ${err.message}`),
      );
    }
    summary.seconds = (Date.now() - t0) / 1000;
  }
}
