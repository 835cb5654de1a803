/**
 * Chaos soak: the whole loop (the gateways, report-labeler, pseudo-labeler, distill-scheduler and
 * distill-worker under `harvester up`'s supervisor, a synthetic hospital fed through Kafka) while a
 * seeded schedule kills -9 a random service (the supervisor restarts it), restarts the broker and
 * stops Postgres and the schema registry for --outage-seconds each. After the feed and the faults it
 * waits for the system to settle, then audits: every report and image fed stored and labelled
 * exactly once (exact counts against the cohort), every distill job ended, the dead-letter topics
 * empty (the synthetic feed holds nothing a service should refuse), and each service's RSS flat
 * (mean of the first quartile of its longest run's samples against the last quartile's).
 *
 *   npm run bench:chaos -- [--minutes 20] [--seed chaos-1] [--feed-rate 3] [--chaos-interval 60]
 *                          [--outage-seconds 30] [--every 15] [--drain-minutes 20]
 *                          [--gateway-rate 0.5 | --no-gateways]
 *
 * Uses the local stack of the FH_* variables (deploy/local/stack, which it stops and starts: never
 * point it at a stack others use), in a database and topic prefix of its own per run (the registry
 * keeps its schemas in the stack's PostgreSQL, so its restart keeps the ids). Exit code 1 when
 * the audit finds anything.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { z } from 'zod';
import { feedCohort, planCohortFeed } from '../services/app/feed-cohort.ts';
import { readFeedableCohort } from '../services/app/feedable-cohort.ts';
import { ensureSystemTopics } from '../services/app/ensure-topics.ts';
import { loadConfig } from '../services/shared/config/env.ts';
import { migrateDatabase } from '../services/shared/db/migrate.ts';
import { createPool } from '../services/shared/db/pool.ts';
import { registerSystemSchemas } from '../services/shared/events/register-system-schemas.ts';
import { createSchemaRegistry } from '../services/shared/events/registry.ts';
import { createKafka } from '../services/shared/kafka/client.ts';
import { kafkaConnectionFromEnv, kafkaEnvShape } from '../services/shared/kafka/config.ts';
import { topicProvisioningEnvShape, withTopicDefaults } from '../services/shared/kafka/system-topics.ts';
import { createLogger } from '../services/shared/observability/logger.ts';
import { DEFAULT_FEED_PLAN_OPTIONS } from '../tools/synth/feed-plan.ts';
import { SupervisedProcess, type SupervisorEvent } from '../services/up/supervised-process.ts';
import { storeHospitalAnnotations, syntheticHospital } from '../services/up/up.ts';
import { freePorts } from '../test/support/fault-stack.ts';
import { deliverHl7 } from '../test/support/gateways.ts';
import { buildOruMessage, FINDINGS } from '../test/support/hl7-builder.ts';
import { auditLabeler, formatAudit, topicRecordCount } from '../test/support/labeler-audit.ts';
import { parseStackEnv } from '../test/support/stack.ts';
import { chaosSchedule, describeFault, type ChaosFault } from './chaos/schedule.ts';

const execFileAsync = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));
const STACK = path.join(REPO, 'deploy/local/stack');
const MB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '20' },
    seed: { type: 'string', default: 'chaos-1' },
    'feed-rate': { type: 'string', default: '3' },
    'chaos-interval': { type: 'string', default: '60' },
    'outage-seconds': { type: 'string', default: '30' },
    every: { type: 'string', default: '15' },
    'drain-minutes': { type: 'string', default: '20' },
    'no-gateways': { type: 'boolean', default: false },
    'gateway-rate': { type: 'string', default: '0.5' },
    dir: { type: 'string', default: path.join(REPO, 'var/chaos') },
  },
});
const minutes = Number(values.minutes);
const feedRate = Number(values['feed-rate']);
const chaosInterval = Number(values['chaos-interval']);
const outageSeconds = Number(values['outage-seconds']);
const everyMs = Number(values.every) * 1000;
const drainMs = Number(values['drain-minutes']) * 60_000;
const gatewayRate = values['no-gateways'] ? 0 : Number(values['gateway-rate']);
if (!Number.isFinite(gatewayRate) || gatewayRate < 0) throw new Error('--gateway-rate must be >= 0');
for (const [name, v] of Object.entries({
  minutes,
  feedRate,
  chaosInterval,
  outageSeconds,
  everyMs,
  drainMs,
})) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
}
const seed = values.seed!;
const durationS = minutes * 60;
const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s`;
const say = (line: string) => console.log(`[${clock()}] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** deploy/local/stack with the caller's FH_* settings (never a DATABASE_URL: it would use that server). */
async function stack(...args: string[]): Promise<string> {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const { stdout } = await execFileAsync(STACK, args, { cwd: REPO, env, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

function rssOf(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const GATEWAY_TEXTS = [FINDINGS.ribPositive, FINDINGS.normal, FINDINGS.clavicleOld, FINDINGS.uncertain];
/** Distiller processes (python -m distiller) of this run: their command line names the run's folder. */
function trainers(runDir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes('distiller') && cmd.includes(runDir) && !cmd.includes('harvester.js'))
        found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

// ---------------------------------------------------------------- the stack and the run's namespace

const stackDir = process.env.FH_STACK_DIR ?? path.join(REPO, '.stack');
say(`deploy/local/stack up (${stackDir})`);
await stack('up');
const stackEnv = parseStackEnv(await stack('env')) as Record<string, string>;
const runId = `chaos-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
const runDir = path.join(values.dir!, runId);
mkdirSync(path.join(runDir, 'logs'), { recursive: true });
const adminUrl = stackEnv.DATABASE_URL!;
{
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${runId.replace(/-/g, '_')}"`);
  await admin.end();
}
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${runId.replace(/-/g, '_')}`;
const [hl7Port, dicomPort] = await freePorts(2);

const env: NodeJS.ProcessEnv = {
  ...process.env,
  KAFKA_BROKERS: stackEnv.KAFKA_BROKERS,
  SCHEMA_REGISTRY_URL: stackEnv.SCHEMA_REGISTRY_URL,
  DATABASE_URL: dbUrl.toString(),
  KAFKA_TOPIC_PREFIX: `${runId}.`,
  PATIENT_ID_HMAC_KEY: 'chaos-soak-hmac-key-0123456789abcdef012345',
  REPORT_LABELER_GROUP_ID: `${runId}-report-labeler`,
  PSEUDO_LABELER_GROUP_ID: `${runId}-pseudo-labeler`,
  DISTILL_WORKER_GROUP_ID: `${runId}-distill-worker`,
  REPORT_LABELER_HTTP_PORT: '0',
  PSEUDO_LABELER_HTTP_PORT: '0',
  HL7_GATEWAY_HTTP_PORT: '0',
  DICOM_GATEWAY_HTTP_PORT: '0',
  HL7_GATEWAY_PORT: String(hl7Port),
  DICOM_GATEWAY_PORT: String(dicomPort),
  DICOM_GATEWAY_STORE_URI: `file://${path.join(runDir, 'dicom-store')}`,
  TRAINING_STORE_URL: path.join(runDir, 'training-store'),
  DISTILL_WORK_DIR: path.join(runDir, 'distill'),
  MODEL_CACHE_DIR: path.join(runDir, 'model-cache'),
  DISTILL_RECIPE_EPOCHS: process.env.DISTILL_RECIPE_EPOCHS ?? '2',
  DISTILL_SCHEDULER_POLL_SECONDS: '10',
  TEACHER_HOT_SWAP: 'true',
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
};
const topics = withTopicDefaults(env);
const names = {
  hl7: topics.REPORT_LABELER_INPUT_TOPIC!,
  dicom: topics.PSEUDO_LABELER_DICOM_TOPIC!,
  dlqs: ['hl7.oru.raw.dlq', 'dicom.arrived.dlq', 'labels.report.dlq'].map((t) => `${runId}.${t}`),
};

// ---------------------------------------------------------------- the hospital and the plan

// a study is about 2.4 messages (a report or two, an image or two, a resend now and then): size the
// cohort so the feed lasts the run at --feed-rate, then pace the feed on the plan's exact length
const studies = Math.max(40, Math.round((feedRate * durationS) / 2.4));
const hospital = await syntheticHospital({ dir: values.dir!, studies, seed }, (line) => say(line));
const cohort = await readFeedableCohort(hospital.dir);
const plan = planCohortFeed(cohort, { seed, ...DEFAULT_FEED_PLAN_OPTIONS });
const paceRate = plan.length / (durationS * 0.9);
const expected = {
  reports: cohort.reports.length,
  accessions: new Set(cohort.reports.map((r) => r.line.accession)).size,
  images: new Set(cohort.images.map((im) => im.manifest.sopInstanceUid)).size,
  pseudoLabels: hospital.expectedLabels,
};

const pool = createPool({ url: env.DATABASE_URL!, maxConnections: 3, applicationName: 'chaos-soak' });
pool.on('error', () => {}); // idle clients die with Postgres during its outage
await migrateDatabase({ database: env.DATABASE_URL! });
await registerSystemSchemas(
  createSchemaRegistry({ url: env.SCHEMA_REGISTRY_URL! }),
  env,
  loadConfig(z.object(topicProvisioningEnvShape), env),
);
await ensureSystemTopics({}, env);
// DISTILL_MIN_NEW_LABELS: a job about every quarter of the run, so jobs run while faults happen
env.DISTILL_MIN_NEW_LABELS ??= String(Math.max(20, Math.floor(hospital.ribLabels / 4)));
await storeHospitalAnnotations(pool, env, hospital, say);

const serviceNames = [
  ...(values['no-gateways'] ? [] : ['hl7-gateway', 'dicom-gateway']),
  'report-labeler',
  'pseudo-labeler',
  'distill-scheduler',
  'distill-worker',
];
const schedule = chaosSchedule({
  seed,
  services: serviceNames,
  startSeconds: Math.min(60, durationS * 0.1),
  endSeconds: durationS * 0.9,
  intervalSeconds: chaosInterval,
  outageSeconds,
});
say(
  `run ${runId}: ${minutes} min, seed ${seed}, hospital of ${studies} studies (${plan.length} messages: ` +
    `${expected.reports} reports, ${expected.images} images, duplicates included) fed at ${paceRate.toFixed(2)} msgs/s; ` +
    `${schedule.length} faults; DISTILL_MIN_NEW_LABELS=${env.DISTILL_MIN_NEW_LABELS}; logs ${runDir}/logs; load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);
for (const s of schedule) say(`  planned at ${s.at} s: ${describeFault(s.fault)}`);

// ---------------------------------------------------------------- the services

const pids = new Map<string, number>();
let shuttingDown = false;
const runsOf = new Map<string, number>();
const exits: Array<{ at: number; name: string; code: number | null; signal: string | null }> = [];
const onEvent = (e: SupervisorEvent) => {
  if (e.kind === 'started') {
    pids.set(e.name, e.pid);
    runsOf.set(e.name, e.run);
  } else if (e.kind === 'exited') {
    pids.delete(e.name);
    exits.push({ at: (Date.now() - t0) / 1000, name: e.name, code: e.code, signal: e.signal });
    if (e.signal !== 'SIGKILL' && !shuttingDown)
      say(`${e.name} exited by itself (code ${e.code}, signal ${e.signal})`);
  }
};
const services = serviceNames.map(
  (name) =>
    new SupervisedProcess({
      name,
      command: process.execPath,
      args: [path.join(REPO, 'bin/harvester.js'), 'run', name],
      cwd: REPO,
      env,
      logFile: path.join(runDir, 'logs', `${name}.log`),
      onEvent,
    }),
);
for (const s of services) s.start();

/** RSS samples per service, per run (pid): [seconds, bytes]. */
const rss = new Map<string, Map<number, Array<[number, number]>>>();
const sample = () => {
  for (const [name, pid] of pids) {
    const r = rssOf(pid);
    if (r === null) continue;
    const runs = rss.get(name) ?? new Map<number, Array<[number, number]>>();
    rss.set(name, runs);
    const xs = runs.get(pid) ?? [];
    runs.set(pid, xs);
    xs.push([(Date.now() - t0) / 1000, r]);
  }
};

interface Counts {
  ledger: number;
  reports: number;
  images: number;
  failed: number;
  pseudo: number;
  openJobs: number;
  jobs: number;
}
async function counts(): Promise<Counts | null> {
  try {
    const { rows } = await pool.query<Counts>(
      `SELECT (SELECT count(*)::int FROM hl7_message_ledger) AS ledger,
              (SELECT count(*)::int FROM reports) AS reports,
              (SELECT count(*)::int FROM images) AS images,
              (SELECT count(*)::int FROM images WHERE failed_reason IS NOT NULL) AS failed,
              (SELECT count(*)::int FROM pseudo_labels) AS pseudo,
              (SELECT count(*)::int FROM distill_jobs WHERE status IN ('requested', 'running')) AS "openJobs",
              (SELECT count(*)::int FROM distill_jobs) AS jobs`,
    );
    return rows[0]!;
  } catch {
    return null;
  }
}
let maxTrainers = 0;
const trainerCount = () => {
  const n = trainers(runDir).length;
  maxTrainers = Math.max(maxTrainers, n);
  return n;
};
const status = async (phase: string) => {
  sample();
  const c = await counts();
  const mem = serviceNames
    .map((n) => {
      const pid = pids.get(n);
      const r = pid ? rssOf(pid) : null;
      return `${n} ${r === null ? 'down' : Math.round(r / MB)}`;
    })
    .join(', ');
  say(
    `${phase}: fed ${fed.position}/${plan.length}; ` +
      (c
        ? `ledger ${c.ledger}, reports ${c.reports}/${expected.accessions}, images ${c.images}/${expected.images} ` +
          `(${c.failed} failed), pseudo-labels ${c.pseudo}/${expected.pseudoLabels}, jobs ${c.jobs} (${c.openJobs} open)`
        : 'database unavailable') +
      `; trainers ${trainerCount()}; RSS MB ${mem}; load ${loadavg()[0]!.toFixed(1)}`,
  );
  return c;
};

// ---------------------------------------------------------------- the feed (resumed after a broker outage)

const fed = { position: 0, restarts: 0, seconds: 0 };
const feedAbort = new AbortController();
// feedCohort reads the brokers, registry, topic prefix and key from the environment, as the CLI does
Object.assign(process.env, {
  KAFKA_BROKERS: env.KAFKA_BROKERS,
  SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL,
  KAFKA_TOPIC_PREFIX: env.KAFKA_TOPIC_PREFIX,
  PATIENT_ID_HMAC_KEY: env.PATIENT_ID_HMAC_KEY,
});
const t0Load = Date.now();
const feeding = (async () => {
  while (fed.position < plan.length && !feedAbort.signal.aborted) {
    try {
      const r = await feedCohort(
        {
          dir: hospital.dir,
          rate: String(paceRate),
          seed,
          startAt: String(fed.position),
          progress: false,
        },
        { signal: feedAbort.signal, onProgress: (p) => (fed.position = p.position) },
      );
      fed.position = r.position;
      fed.seconds += r.seconds;
    } catch (err) {
      fed.restarts++;
      say(`feed stopped at ${fed.position} (${(err as Error).message.split('\n')[0]}); resuming in 5 s`);
      await sleep(5000);
    }
  }
  say(`feed done: ${fed.position} messages, resumed ${fed.restarts} times`);
})();

// ---------------------------------------------------------------- HL7 through the hl7-gateway (MLLP)

// an interface engine's sender: each report is sent again until the gateway answers AA (it does
// only once Kafka has the message), so every report acknowledged here must be stored exactly once
const gatewayAcked: string[] = [];
let gatewayAttempts = 0;
const trickle = (async () => {
  if (gatewayRate <= 0) return;
  const stopAt = t0Load + durationS * 0.9 * 1000;
  for (let n = 0; Date.now() < stopAt && !feedAbort.signal.aborted; n++) {
    const due = t0Load + (n / gatewayRate) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
    const id = `${runId}-GW-${n}`;
    const text = buildOruMessage({
      messageControlId: id,
      accession: `${runId}-GWACC-${n}`,
      status: 'F',
      patientId: `GWMRN${n % 97}`,
      text: GATEWAY_TEXTS[n % GATEWAY_TEXTS.length]!,
    });
    try {
      const d = await deliverHl7(hl7Port!, text, 12_000, 60);
      gatewayAttempts += d.attempts;
      gatewayAcked.push(id);
    } catch (err) {
      say(`hl7-gateway: ${id} not delivered: ${(err as Error).message}`);
    }
  }
  say(`hl7-gateway sender done: ${gatewayAcked.length} reports acknowledged (${gatewayAttempts} attempts)`);
})();

// ---------------------------------------------------------------- the faults

const chaosLog: Array<{ at: number; fault: string; tookSeconds: number; error?: string }> = [];
async function inject(fault: ChaosFault): Promise<void> {
  switch (fault.kind) {
    case 'kill-9': {
      const pid = pids.get(fault.service);
      if (!pid) throw new Error(`${fault.service} is not running (restarting)`);
      process.kill(pid, 'SIGKILL');
      // back when the supervisor has started it again
      const run = runsOf.get(fault.service)!;
      while ((runsOf.get(fault.service) ?? 0) <= run) await sleep(500);
      return;
    }
    case 'restart-broker':
      await stack('restart', 'kafka');
      return;
    case 'stop-postgres':
    case 'stop-registry': {
      const which = fault.kind === 'stop-postgres' ? 'postgres' : 'registry';
      await stack('down', which);
      await sleep(fault.seconds * 1000);
      await stack('up', which);
      return;
    }
  }
}
const chaos = (async () => {
  for (const s of schedule) {
    const wait = t0Load + s.at * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    const started = Date.now();
    const what = describeFault(s.fault);
    say(`FAULT ${what}`);
    try {
      await inject(s.fault);
      chaosLog.push({
        at: (started - t0Load) / 1000,
        fault: what,
        tookSeconds: (Date.now() - started) / 1000,
      });
      say(`  done: ${what} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    } catch (err) {
      const error = (err as Error).message.split('\n').slice(0, 3).join(' ');
      chaosLog.push({
        at: (started - t0Load) / 1000,
        fault: what,
        tookSeconds: (Date.now() - started) / 1000,
        error,
      });
      say(`  FAILED: ${what}: ${error}`);
    }
  }
})();

let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  feedAbort.abort();
});

let loadDone = false;
const load = Promise.all([feeding, chaos, trickle]);
void load.finally(() => (loadDone = true));
while (!loadDone && !interrupted) {
  await Promise.race([load, sleep(everyMs)]);
  if (!loadDone) await status('load');
}
await load;
expected.reports += gatewayAcked.length;
expected.accessions += gatewayAcked.length;

// ---------------------------------------------------------------- settle

const kafka: Kafka = createKafka(
  kafkaConnectionFromEnv(loadConfig(z.object(kafkaEnvShape), env)),
  createLogger('chaos-soak', 'fatal'),
);
const complete = (c: Counts | null) =>
  c !== null &&
  c.reports >= expected.accessions &&
  c.images >= expected.images &&
  c.pseudo >= expected.pseudoLabels &&
  c.openJobs === 0;
say(`load and faults done after ${((Date.now() - t0Load) / 1000).toFixed(0)} s; settling`);
const settleStart = Date.now();
let last = await status('settle');
let lastChange = Date.now();
while (!complete(last) && Date.now() - settleStart < drainMs && !interrupted) {
  await sleep(Math.min(everyMs, 10_000));
  const c = await status('settle');
  if (JSON.stringify(c) !== JSON.stringify(last)) lastChange = Date.now();
  last = c;
  // nothing moved for 5 minutes and no job is open: what is missing will not come
  if (c && c.openJobs === 0 && Date.now() - lastChange > 5 * 60_000) break;
}
const settleSeconds = (Date.now() - settleStart) / 1000;
// a last quarter of samples at rest: the memory check needs them after the faults too
sample();

// ---------------------------------------------------------------- audit

const ackedIds = [...cohort.reports.map((r) => r.key.split('|')[1]!), ...gatewayAcked];
const labeler = await auditLabeler(kafka, pool, names.hl7, ackedIds);
const { rows: img } = await pool.query<{
  images: number;
  failed: number;
  pseudo: number;
  pseudo_keys: number;
  pseudo_image_keys: number;
  unpublished: number;
  models: string[];
}>(
  `SELECT (SELECT count(*)::int FROM images) AS images,
          (SELECT count(*)::int FROM images WHERE failed_reason IS NOT NULL) AS failed,
          (SELECT count(*)::int FROM pseudo_labels) AS pseudo,
          (SELECT count(DISTINCT (sop_instance_uid, class, model_version))::int FROM pseudo_labels) AS pseudo_keys,
          (SELECT count(DISTINCT (sop_instance_uid, class))::int FROM pseudo_labels) AS pseudo_image_keys,
          (SELECT count(*)::int FROM pseudo_labels WHERE NOT event_published) AS unpublished,
          (SELECT coalesce(array_agg(DISTINCT model_version), '{}') FROM pseudo_labels) AS models`,
);
const { rows: jobs } = await pool.query<{
  id: string;
  status: string;
  attempt: number;
  error: string | null;
}>('SELECT id::text, status, attempt, error FROM distill_jobs ORDER BY id');
const dlq: Record<string, number> = {};
for (const t of names.dlqs) dlq[t] = await topicRecordCount(kafka, t);

const memory = Object.fromEntries(
  serviceNames.map((name) => {
    const runs = [...(rss.get(name)?.values() ?? [])];
    const longest = runs.sort((a, b) => b.length - a.length)[0] ?? [];
    const q = Math.max(1, Math.floor(longest.length / 4));
    const first = mean(longest.slice(0, q).map(([, b]) => b)) / MB;
    const lastQ = mean(longest.slice(-q).map(([, b]) => b)) / MB;
    return [
      name,
      {
        runs: runs.length,
        samples: longest.length,
        spanSeconds: longest.length ? Math.round(longest.at(-1)![0] - longest[0]![0]) : 0,
        firstQuartileMB: +first.toFixed(1),
        lastQuartileMB: +lastQ.toFixed(1),
        growthPercent: +((100 * (lastQ - first)) / Math.max(first, 1)).toFixed(1),
      },
    ];
  }),
);

const i = img[0]!;
const problems: string[] = [];
if (labeler.lost.length) problems.push(`${labeler.lost.length} reports lost`);
if (labeler.duplicates) problems.push(`${labeler.duplicates} report duplicates`);
if (labeler.ledgerRows !== labeler.topicRecords) problems.push('ledger rows != HL7 topic records');
if (labeler.storedIds !== expected.reports)
  problems.push(`stored reports ${labeler.storedIds} != ${expected.reports}`);
if (labeler.reports !== expected.accessions)
  problems.push(`reports ${labeler.reports} != ${expected.accessions}`);
if (i.images !== expected.images) problems.push(`images ${i.images} != ${expected.images}`);
if (i.failed) problems.push(`${i.failed} images failed`);
if (i.pseudo_image_keys !== expected.pseudoLabels)
  problems.push(`labelled (image, class) ${i.pseudo_image_keys} != ${expected.pseudoLabels}`);
if (i.pseudo !== i.pseudo_image_keys)
  problems.push(`${i.pseudo - i.pseudo_image_keys} images labelled twice`);
if (i.unpublished) problems.push(`${i.unpublished} pseudo-labels never published`);
const open = jobs.filter((j) => j.status === 'requested' || j.status === 'running');
if (open.length) problems.push(`${open.length} distill jobs never ended`);
if (jobs.length === 0) problems.push('no distill job ran');
for (const [t, n] of Object.entries(dlq)) if (n) problems.push(`${n} records on ${t}`);
for (const [name, m] of Object.entries(memory))
  if (m.growthPercent > 25) problems.push(`${name} RSS grew ${m.growthPercent}%`);
const leftTrainers = trainers(runDir);
if (leftTrainers.length)
  problems.push(`${leftTrainers.length} distiller processes still running with no job open`);
const kills = exits.filter((e) => e.signal === 'SIGKILL').length;
const selfExits = exits.filter((e) => e.signal !== 'SIGKILL' && e.signal !== 'SIGTERM');

const summary = {
  run: runId,
  minutes,
  seed,
  feedRatePerSec: +paceRate.toFixed(2),
  chaosIntervalSeconds: chaosInterval,
  outageSeconds,
  fed: { messages: fed.position, planned: plan.length, resumed: fed.restarts },
  hl7Gateway: { acknowledged: gatewayAcked.length, attempts: gatewayAttempts },
  faults: chaosLog,
  kills,
  selfExits: selfExits.map((e) => `${e.name} code ${e.code} at ${e.at.toFixed(0)} s`),
  settleSeconds: Math.round(settleSeconds),
  trainers: { mostAtOnce: maxTrainers, leftAtTheEnd: leftTrainers },
  reports: {
    expectedMessages: expected.reports,
    expectedAccessions: expected.accessions,
    line: formatAudit('hl7', labeler),
  },
  images: {
    expected: expected.images,
    stored: i.images,
    failed: i.failed,
    pseudoLabelsExpected: expected.pseudoLabels,
    pseudoLabels: i.pseudo,
    labelledImageClasses: i.pseudo_image_keys,
    unpublished: i.unpublished,
    models: i.models,
  },
  jobs: jobs.map(
    (j) => `${j.id} ${j.status} (attempt ${j.attempt})${j.error ? `: ${j.error.slice(0, 120)}` : ''}`,
  ),
  dlq,
  memory,
  load: loadavg().map((l) => +l.toFixed(1)),
  problems,
};
writeFileSync(path.join(runDir, 'summary.json'), JSON.stringify(summary, null, 2));
// every RSS sample, per service and run (pid): [seconds since start, MB]
writeFileSync(
  path.join(runDir, 'rss.json'),
  JSON.stringify(
    Object.fromEntries(
      [...rss].map(([name, runs]) => [
        name,
        Object.fromEntries(
          [...runs].map(([pid, xs]) => [pid, xs.map(([t, b]) => [Math.round(t), +(b / MB).toFixed(1)])]),
        ),
      ]),
    ),
  ),
);
console.log(`chaos soak summary ${JSON.stringify(summary, null, 2)}`);
say(
  problems.length
    ? `AUDIT FAILED: ${problems.join('; ')}`
    : 'audit: nothing lost, nothing duplicated, every job ended',
);
if (problems.length) process.exitCode = 1;

// ---------------------------------------------------------------- stop

shuttingDown = true;
await Promise.all(services.map((s) => s.stop()));
await pool.end().catch(() => {});
