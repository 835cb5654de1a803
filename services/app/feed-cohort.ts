/**
 * Feeding a cohort (`harvester feed`, `harvester up --feed`): publishes it to Kafka as a hospital would: raw HL7 ORU
 * messages to hl7.oru.raw (key MSH-4|MSH-10) and DicomArrived events to dicom.arrived (key
 * accession, uri = the file in DIR, which stays where it is), in the order planFeed chooses.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { COMPATIBILITY, SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { z } from 'zod';
import { loadConfig } from '../shared/config/env.ts';
import { loadEventSchema, valueSubject } from '../shared/events/catalog.ts';
import { createSchemaRegistry } from '../shared/events/registry.ts';
import { createKafka } from '../shared/kafka/client.ts';
import { idempotentProducer } from '../shared/kafka/producer.ts';
import { kafkaConnectionFromEnv, kafkaEnvShape } from '../shared/kafka/config.ts';
import { ensureTopics } from '../shared/kafka/topics.ts';
import { withTopicDefaults } from '../shared/kafka/system-topics.ts';
import { createLogger } from '../shared/observability/logger.ts';
import { MIN_HMAC_KEY_BYTES, pseudonymisePatientId } from '../shared/privacy/pseudonymise.ts';
import { dicomArrivedRecord } from '../../tools/synth/dicom-arrival.ts';
import {
  DEFAULT_FEED_PLAN_OPTIONS,
  planFeed,
  summarisePlan,
  type FeedPlanOptions,
  type FeedStep,
} from '../../tools/synth/feed-plan.ts';
import { mapLimited, readFeedableCohort, type FeedableCohort } from './feedable-cohort.ts';
import { ExpectedError } from '../shared/errors.ts';

export interface FeedCliOptions {
  dir: string;
  rate?: string;
  seed?: string;
  duplicateRate?: string;
  lateImageRate?: string;
  brokers?: string;
  registry?: string;
  hl7Topic?: string;
  dicomTopic?: string;
  partitions?: string;
  batchSize?: string;
  startAt?: string;
  progress?: boolean;
}

export interface FeedProgress {
  /** Plan steps done (including those skipped by --start-at). */
  position: number;
  total: number;
  sent: { hl7: number; dicom: number };
}

export interface FeedSummary extends FeedProgress {
  topics: { hl7: string; dicom: string };
  duplicates: { hl7: number; dicom: number };
  planned: { hl7: number; dicom: number };
  seconds: number;
  /** Stopped by the signal before the plan's end. */
  interrupted: boolean;
}

function num(
  name: string,
  raw: string | undefined,
  fallback: number,
  check: (v: number) => boolean,
  what: string,
): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || !check(v)) {
    throw new ExpectedError(`${name} must be ${what} (got "${raw}")`);
  }
  return v;
}

/** Largest produce request we build; brokers refuse record batches over 1 MiB by default. */
const MAX_BATCH_BYTES = 512 * 1024;

interface PreparedBatch {
  steps: FeedStep[];
  topicMessages: TopicMessages[];
}
/** Files read (and hashed) at once while building a batch. */
const READ_CONCURRENCY = 16;

const NETWORK_ERROR =
  /(connect )?(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ECONNRESET)[^,;)]*/;

function unreachable(what: string, where: string, setting: string, err: unknown): ExpectedError {
  const message = (err as Error)?.message ?? String(err);
  const why = message.match(NETWORK_ERROR)?.[0] ?? message;
  return new ExpectedError(`${what} at ${where} is unreachable (${why}); start it, or ${setting}`);
}

/**
 * A plain TCP connect to each bootstrap broker, a few seconds at most: kafkajs retries for over a
 * minute before giving up, which is no way to learn that the stack is not running.
 */
async function probeBrokers(brokers: string[], timeoutMs = 3000): Promise<void> {
  const errors: string[] = [];
  for (const broker of brokers) {
    const at = broker.lastIndexOf(':');
    const host = broker.slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(broker.slice(at + 1));
    if (at < 0 || !Number.isInteger(port)) {
      errors.push(`${broker} is not host:port`);
      continue;
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      const done = (result: boolean, why?: string): void => {
        if (why) errors.push(`${broker}: ${why}`);
        socket.destroy();
        resolve(result);
      };
      socket.setTimeout(timeoutMs, () => done(false, `no answer in ${timeoutMs / 1000} s`));
      socket.once('connect', () => done(true));
      socket.once('error', (err) => done(false, (err as NodeJS.ErrnoException).code ?? err.message));
    });
    if (ok) return;
  }
  throw new Error(errors.join('; '));
}

/** Registers DicomArrived under `<topic>-value` (a no-op when it is there) and returns its id. */
async function dicomArrivedSchemaId(registry: SchemaRegistry, topic: string, url: string): Promise<number> {
  try {
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(loadEventSchema('DicomArrived')) },
      { subject: valueSubject(topic), compatibility: COMPATIBILITY.BACKWARD },
    );
    return id;
  } catch (err) {
    const message = (err as Error).message ?? '';
    const status = (err as { status?: number }).status;
    if (
      status === undefined ||
      /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed|ETIMEDOUT|socket/i.test(message)
    ) {
      throw unreachable('the schema registry', url, 'pass --registry URL / set SCHEMA_REGISTRY_URL', err);
    }
    throw new ExpectedError(
      `the schema registry at ${url} refused DicomArrived for ${valueSubject(topic)}: ${message}`,
    );
  }
}

function isKafkaConnectionError(err: unknown): boolean {
  for (let e = err as { name?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (
      /KafkaJS(Connection|NumberOfRetriesExceeded|BrokerNotFound|ConnectionClosed|Request)Error/.test(
        e.name ?? '',
      )
    ) {
      return true;
    }
  }
  return false;
}

/** The order in which a cohort's images and reports reach the system (duplicates and late images included). */
export function planCohortFeed(cohort: FeedableCohort, options: FeedPlanOptions): FeedStep[] {
  return planFeed(
    cohort.images.map((im) => ({ accession: im.manifest.accession, studyTime: im.header.studyTime! })),
    cohort.reports.map((r) => ({
      accession: r.line.accession,
      status: r.line.status,
      time: Date.parse(r.line.time),
    })),
    options,
  );
}

/**
 * Publishes the cohort; the pure plan decides the order, this function only does the I/O. Stops
 * after the batch in flight when `signal` aborts. Batches hold consecutive plan steps, so each
 * topic (and partition) sees the plan's order.
 */
export async function feedCohort(
  opts: FeedCliOptions,
  hooks: {
    signal?: AbortSignal;
    onProgress?: (p: FeedProgress) => void;
    /** Called once the cohort is read, the plan made and the producer connected. */
    onPlanned?: (total: number) => void;
  } = {},
): Promise<FeedSummary> {
  const rate = num(
    '--rate',
    opts.rate,
    0,
    (v) => v >= 0,
    'a number of messages per second >= 0 (0: as fast as possible)',
  );
  const duplicateRate = num(
    '--duplicate-rate',
    opts.duplicateRate,
    DEFAULT_FEED_PLAN_OPTIONS.duplicateRate,
    (v) => v >= 0 && v <= 1,
    'between 0 and 1',
  );
  const lateImageRate = num(
    '--late-image-rate',
    opts.lateImageRate,
    DEFAULT_FEED_PLAN_OPTIONS.lateImageRate,
    (v) => v >= 0 && v <= 1,
    'between 0 and 1',
  );
  const topicDefaults = withTopicDefaults(process.env);
  const partitions = num(
    '--partitions',
    opts.partitions ?? process.env.KAFKA_TOPIC_PARTITIONS,
    6,
    (v) => Number.isInteger(v) && v >= 1,
    'a positive integer',
  );
  const maxBatch = num(
    '--batch-size',
    opts.batchSize,
    500,
    (v) => Number.isInteger(v) && v >= 1,
    'a positive integer',
  );
  const startAt = num(
    '--start-at',
    opts.startAt,
    0,
    (v) => Number.isInteger(v) && v >= 0,
    'a plan position >= 0',
  );
  // the names the services use unless told otherwise (KAFKA_TOPIC_PREFIX, their topic variables)
  const topics = {
    hl7: opts.hl7Topic ?? topicDefaults.REPORT_LABELER_INPUT_TOPIC!,
    dicom: opts.dicomTopic ?? topicDefaults.PSEUDO_LABELER_DICOM_TOPIC!,
  };
  const brokers = opts.brokers ?? process.env.KAFKA_BROKERS;
  if (!brokers)
    throw new ExpectedError('no Kafka brokers: pass --brokers host:port[,host:port] or set KAFKA_BROKERS');
  const registryUrl = (opts.registry ?? process.env.SCHEMA_REGISTRY_URL)?.replace(/\/+$/, '');
  const hmacKey = process.env.PATIENT_ID_HMAC_KEY;
  if (hmacKey !== undefined && Buffer.byteLength(hmacKey) < MIN_HMAC_KEY_BYTES) {
    throw new ExpectedError(
      `PATIENT_ID_HMAC_KEY must be at least ${MIN_HMAC_KEY_BYTES} bytes (or unset it: no pseudonym is sent)`,
    );
  }

  const cohort: FeedableCohort = await readFeedableCohort(opts.dir);
  if (cohort.images.length > 0 && !registryUrl) {
    throw new ExpectedError(
      'no schema registry for DicomArrived: pass --registry URL or set SCHEMA_REGISTRY_URL',
    );
  }
  const plan = planCohortFeed(cohort, { seed: opts.seed ?? '1', duplicateRate, lateImageRate });
  const planned = summarisePlan(plan);
  if (startAt > plan.length)
    throw new ExpectedError(`--start-at ${startAt} is past the plan's end (${plan.length} messages)`);

  let schemaId = 0;
  let registry: SchemaRegistry | undefined;
  if (registryUrl && cohort.images.length > 0) {
    registry = createSchemaRegistry({
      url: registryUrl,
      username: process.env.SCHEMA_REGISTRY_USERNAME,
      password: process.env.SCHEMA_REGISTRY_PASSWORD,
    });
    schemaId = await dicomArrivedSchemaId(registry, topics.dicom, registryUrl);
  }

  const env = loadConfig(z.object(kafkaEnvShape), { ...process.env, KAFKA_BROKERS: brokers });
  const connection = kafkaConnectionFromEnv(env);
  try {
    await probeBrokers(connection.brokers);
  } catch (err) {
    throw new ExpectedError(
      `Kafka at ${brokers} is unreachable (${(err as Error).message}); start it, or pass --brokers / set KAFKA_BROKERS`,
    );
  }
  // Our own clear messages replace kafkajs' error logs, unless LOG_LEVEL asks for them.
  const kafka: Kafka = createKafka(connection, createLogger('feed', process.env.LOG_LEVEL ?? 'fatal'));
  try {
    await ensureTopics(kafka, [
      { topic: topics.hl7, numPartitions: partitions },
      { topic: topics.dicom, numPartitions: partitions },
    ]);
  } catch (err) {
    if (isKafkaConnectionError(err))
      throw unreachable('Kafka', brokers, 'pass --brokers / set KAFKA_BROKERS', err);
    throw err;
  }
  const producer: Producer = idempotentProducer(kafka);
  await producer.connect();

  // A duplicate is the same event again (same arrivedAt), so it encodes to the same bytes.
  const arrivedAt = new Map<number, number>();
  for (const s of plan) if (s.kind === 'dicom' && !s.duplicate) arrivedAt.set(s.index, s.time);
  const encodeImage = async (index: number): Promise<Buffer> => {
    const im = cohort.images[index]!;
    const bytes = await readFile(im.path);
    const record = dicomArrivedRecord(
      im.manifest,
      im.header,
      { uri: im.uri, sizeBytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
      arrivedAt.get(index)!,
      hmacKey ? pseudonymisePatientId(im.manifest.patientId, hmacKey) : null,
    );
    return registry!.encode(schemaId, record);
  };

  /** The plan steps from `from` that fit one request, as messages per topic in plan order. */
  const prepare = async (from: number): Promise<PreparedBatch> => {
    const steps: FeedStep[] = [];
    let bytes = 0;
    for (let i = from; i < plan.length && steps.length < batchSize; i++) {
      const s = plan[i]!;
      const size = s.kind === 'hl7' ? cohort.reports[s.index]!.raw.length : 1024;
      if (steps.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      steps.push(s);
      bytes += size;
    }
    const values = await mapLimited(steps, READ_CONCURRENCY, async (s): Promise<Message> => {
      if (s.kind === 'hl7') {
        const r = cohort.reports[s.index]!;
        return { key: r.key, value: r.raw };
      }
      return { key: cohort.images[s.index]!.manifest.accession, value: await encodeImage(s.index) };
    });
    const topicMessages: TopicMessages[] = [
      { topic: topics.hl7, messages: values.filter((_, k) => steps[k]!.kind === 'hl7') },
      { topic: topics.dicom, messages: values.filter((_, k) => steps[k]!.kind === 'dicom') },
    ].filter((t) => t.messages.length > 0);
    return { steps, topicMessages };
  };

  const sent = { hl7: 0, dicom: 0 };
  const duplicates = { hl7: 0, dicom: 0 };
  // Paced sends: about ten requests a second at the requested rate, one message at least.
  const batchSize = rate > 0 ? Math.max(1, Math.min(maxBatch, Math.ceil(rate / 10))) : maxBatch;
  hooks.onPlanned?.(plan.length);
  const started = performance.now();
  let position = startAt;
  try {
    // The next batch is read and encoded while the current one is in flight.
    let next: Promise<PreparedBatch> | undefined = position < plan.length ? prepare(position) : undefined;
    while (next && !hooks.signal?.aborted) {
      const { steps, topicMessages } = await next;
      const after = position + steps.length;
      next = after < plan.length ? prepare(after) : undefined;
      next?.catch(() => {}); // its error, if any, is raised when it is awaited
      if (rate > 0) {
        const due = started + ((position - startAt) / rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      try {
        await producer.sendBatch({ acks: -1, topicMessages });
      } catch (err) {
        if (isKafkaConnectionError(err)) {
          throw new ExpectedError(
            `Kafka at ${brokers} stopped answering after ${position} of ${plan.length} messages (${(err as Error).message}); ` +
              `rerun with --start-at ${position} to continue`,
          );
        }
        throw err;
      }
      for (const s of steps) {
        sent[s.kind]++;
        if (s.duplicate) duplicates[s.kind]++;
      }
      position = after;
      hooks.onProgress?.({ position, total: plan.length, sent: { ...sent } });
    }
  } finally {
    await producer.disconnect();
  }
  return {
    position,
    total: plan.length,
    sent,
    duplicates,
    planned: { hl7: planned.hl7, dicom: planned.dicom },
    topics,
    seconds: (performance.now() - started) / 1000,
    interrupted: position < plan.length,
  };
}
