/**
 * Soak: N minutes of mixed traffic at a steady rate through the running services. The
 * report-labeler and the pseudo-labeler run as processes (`harvester run ...`, as deployed) on
 * fresh topics and a fresh Postgres schema; HL7 reports and DicomArrived events (images of a small
 * synthetic cohort, re-sent under new UIDs and the reports' accessions) are published at fixed
 * rates. Every --every seconds it prints the rates, each consumer group's lag and each service's
 * RSS; after the load stops it waits for the lag to return to zero and prints the totals.
 *   npm run bench:soak -- [--minutes 10] [--hl7-rate 100] [--image-rate 5] [--every 30]
 * Loopback only (the stack from the environment or deploy/local/stack); it stops by itself.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Kafka } from 'kafkajs';
import { migrateDatabase } from '../services/shared/db/migrate.ts';
import { EventEncoder } from '../services/shared/events/encoder.ts';
import { createSchemaRegistry, registerEventSchemas } from '../services/shared/events/registry.ts';
import type { DicomArrivedEvent } from '../services/pseudo-labeler/events.ts';
import { buildOruMessage, FINDINGS } from '../test/support/hl7-builder.ts';
import {
  Cleanup,
  createTestKafka,
  createTestSchema,
  createTopics,
  getTestStack,
  uniqueTopicName,
} from '../test/support/index.ts';
import { dicomArrivedFor, PARITY_MODEL, writeTestCohort } from '../test/support/pseudo-labeler.ts';
import { ServiceProcess } from '../test/support/service-process.ts';
import { SteadyLoad } from '../test/support/steady-load.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'hl7-rate': { type: 'string', default: '100' },
    'image-rate': { type: 'string', default: '5' },
    every: { type: 'string', default: '30' },
    'drain-minutes': { type: 'string', default: '5' },
    teacher: { type: 'string', default: PARITY_MODEL },
  },
});
const minutes = Number(values.minutes);
const hl7Rate = Number(values['hl7-rate']);
const imageRate = Number(values['image-rate']);
const everyMs = Number(values.every) * 1000;
const drainMs = Number(values['drain-minutes']) * 60_000;
for (const [name, v] of Object.entries({ minutes, hl7Rate, imageRate, everyMs, drainMs })) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
}

const MB = 1024 * 1024;
const TEXTS = [
  FINDINGS.ribPositive,
  FINDINGS.normal,
  FINDINGS.normal,
  FINDINGS.clavicleOld,
  FINDINGS.uncertain,
];

async function groupLag(kafka: Kafka, groupId: string, topics: string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let lag = 0;
    const committed = await admin.fetchOffsets({ groupId, topics });
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const p of ends) {
        const c = Number(mine.find((m) => m.partition === p.partition)?.offset ?? -1);
        lag += Number(p.high) - (c >= 0 ? c : Number(p.low));
      }
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

const cleanup = new Cleanup();
let aborted = false;
process.once('SIGINT', () => {
  aborted = true;
});

try {
  const stack = await getTestStack();
  const kafka = createTestKafka(stack, 'soak');
  const db = await createTestSchema(stack, 'soak');
  cleanup.add(() => db.drop());
  await migrateDatabase({ database: stack.databaseUrl, schema: db.schema });
  const topics = {
    hl7: uniqueTopicName('soak.hl7.oru.raw'),
    labels: uniqueTopicName('soak.labels.report'),
    dicom: uniqueTopicName('soak.dicom.arrived'),
    pseudo: uniqueTopicName('soak.labels.pseudo'),
  };
  const registry = createSchemaRegistry({ url: stack.schemaRegistryUrl });
  await registerEventSchemas(registry, {
    ReportLabel: topics.labels,
    DicomArrived: topics.dicom,
    PseudoLabelCreated: topics.pseudo,
  });
  cleanup.add(
    await createTopics(
      kafka,
      Object.values(topics).flatMap((topic) => [{ topic, numPartitions: 3 }, { topic: `${topic}.dlq` }]),
    ),
  );
  const cohort = await writeTestCohort(8, 'soak', 128);
  cleanup.add(() => rm(cohort.dir, { recursive: true, force: true }));
  const logDir = await mkdtemp(path.join(tmpdir(), 'fh-soak-'));
  cleanup.add(() => rm(logDir, { recursive: true, force: true }));

  const url = new URL(stack.databaseUrl);
  url.searchParams.set('options', `-c search_path=${db.schema},public`);
  const common = {
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    DATABASE_URL: url.toString(),
    LOG_LEVEL: 'warn',
  };
  const groups = { rl: uniqueTopicName('soak-rl'), pl: uniqueTopicName('soak-pl') };
  const services = {
    'report-labeler': new ServiceProcess(
      'report-labeler',
      {
        ...common,
        PATIENT_ID_HMAC_KEY: 'soak-hmac-key-0123456789abcdef0123456789',
        REPORT_LABELER_GROUP_ID: groups.rl,
        REPORT_LABELER_INPUT_TOPIC: topics.hl7,
        REPORT_LABELER_OUTPUT_TOPIC: topics.labels,
        REPORT_LABELER_HTTP_PORT: '0',
      },
      path.join(logDir, 'report-labeler.log'),
    ),
    'pseudo-labeler': new ServiceProcess(
      'pseudo-labeler',
      {
        ...common,
        TEACHER_MODEL_PATH: values.teacher!,
        TEACHER_MODEL_VERSION: 'soak-teacher',
        TEACHER_EXECUTION_PROVIDERS: 'cpu',
        TRAINING_STORE_URL: path.join(logDir, 'training-store'),
        PSEUDO_LABELER_GROUP_ID: groups.pl,
        PSEUDO_LABELER_DICOM_TOPIC: topics.dicom,
        PSEUDO_LABELER_LABELS_TOPIC: topics.labels,
        PSEUDO_LABELER_OUTPUT_TOPIC: topics.pseudo,
        PSEUDO_LABELER_HTTP_PORT: '0',
      },
      path.join(logDir, 'pseudo-labeler.log'),
    ),
  };
  for (const s of Object.values(services)) {
    cleanup.add(() => s.close());
    s.start();
  }

  // image i belongs to report accession 2i (so about every other report has an image)
  const encoder = new EventEncoder<DicomArrivedEvent>(registry, 'DicomArrived', topics.dicom);
  await encoder.ready();
  const templates = cohort.images.map((m) => dicomArrivedFor(cohort.dir, m));
  const durationMs = minutes * 60_000;
  const hl7 = new SteadyLoad({
    kafka,
    topic: topics.hl7,
    ratePerSecond: hl7Rate,
    durationMs,
    message: (i) => {
      const id = `SOAK-${i}`;
      return {
        id,
        key: `GENHOSP|${id}`,
        value: buildOruMessage({
          messageControlId: id,
          accession: `SOAK-ACC-${i}`,
          status: 'F',
          patientId: `MRN${i % 5000}`,
          text: TEXTS[i % TEXTS.length]!,
        }),
      };
    },
  });
  const images = new SteadyLoad({
    kafka,
    topic: topics.dicom,
    ratePerSecond: imageRate,
    durationMs,
    message: (i) => {
      const t = templates[i % templates.length]!;
      const event: DicomArrivedEvent = {
        ...t,
        sopInstanceUid: `2.25.7${i}`,
        accession: `SOAK-ACC-${2 * i}`,
        arrivedAt: Date.now(),
      };
      return { id: event.sopInstanceUid, key: event.accession, value: encoder.encode(event) };
    },
  });

  const started = Date.now();
  const rss: Record<string, number[]> = { 'report-labeler': [], 'pseudo-labeler': [] };
  const counts = async () => {
    const { rows } = await db.pool.query<{ ledger: number; images: number; pseudo: number }>(
      `SELECT (SELECT count(*)::int FROM hl7_message_ledger) AS ledger,
              (SELECT count(*)::int FROM images) AS images,
              (SELECT count(*)::int FROM pseudo_labels) AS pseudo`,
    );
    return rows[0]!;
  };
  const report = async (phase: string) => {
    const lagRl = await groupLag(kafka, groups.rl, [topics.hl7]);
    const lagPl = await groupLag(kafka, groups.pl, [topics.dicom, topics.labels]);
    const c = await counts();
    const mem: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      const r = s.rss();
      if (r !== null) rss[name]!.push(r);
      mem.push(`${name} ${r === null ? 'DOWN' : `${Math.round(r / MB)} MB`}`);
    }
    const secs = (Date.now() - started) / 1000;
    console.log(
      `[${phase} ${secs.toFixed(0)} s] sent hl7 ${hl7.acked.length} (${(hl7.acked.length / secs).toFixed(1)}/s), ` +
        `images ${images.acked.length} (${(images.acked.length / secs).toFixed(1)}/s); stored ledger ${c.ledger}, ` +
        `images ${c.images}, pseudo_labels ${c.pseudo}; lag report-labeler ${lagRl}, pseudo-labeler ${lagPl}; RSS ${mem.join(', ')}`,
    );
    return lagRl + lagPl;
  };

  console.log(
    `soak: ${minutes} min, HL7 ${hl7Rate}/s + DicomArrived ${imageRate}/s, stack ${stack.source}, teacher ${path.basename(values.teacher!)}`,
  );
  const loadDone = Promise.all([hl7.done, images.done]);
  let finished = false;
  void loadDone.finally(() => {
    finished = true;
  });
  while (!finished && !aborted) {
    await Promise.race([loadDone, new Promise((resolve) => setTimeout(resolve, everyMs))]);
    if (!finished) await report('load');
  }
  if (aborted) {
    hl7.stop();
    images.stop();
  }
  await loadDone;
  const loadSeconds = (Date.now() - started) / 1000;
  console.log(`load stopped after ${loadSeconds.toFixed(0)} s; waiting for the lag to return to zero`);
  const drainStart = Date.now();
  let lag = await report('drain');
  while (lag > 0 && Date.now() - drainStart < drainMs && !aborted) {
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    lag = await report('drain');
  }
  const c = await counts();
  const summary = {
    minutes,
    hl7Sent: hl7.acked.length,
    imagesSent: images.acked.length,
    hl7RatePerSec: +(hl7.acked.length / loadSeconds).toFixed(1),
    imageRatePerSec: +(images.acked.length / loadSeconds).toFixed(1),
    ledgerRows: c.ledger,
    imageRows: c.images,
    pseudoLabels: c.pseudo,
    finalLag: lag,
    drainSeconds: +((Date.now() - drainStart) / 1000).toFixed(0),
    rssMB: Object.fromEntries(
      Object.entries(rss).map(([k, v]) => [
        k,
        {
          first: Math.round((v[0] ?? 0) / MB),
          max: Math.round(Math.max(0, ...v) / MB),
          last: Math.round((v.at(-1) ?? 0) / MB),
        },
      ]),
    ),
    serviceExits: Object.fromEntries(Object.entries(services).map(([k, s]) => [k, s.exits])),
  };
  console.log(`soak summary ${JSON.stringify(summary)}`);
  if (lag > 0) process.exitCode = 1;
} finally {
  await cleanup.run();
}
