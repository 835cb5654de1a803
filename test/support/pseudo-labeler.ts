import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import type pg from 'pg';
import { writeCohort } from '../../tools/synth/write-cohort.ts';
import { migrateDatabase } from '../../services/shared/db/migrate.ts';
import { createSchemaRegistry, registerEventSchemas } from '../../services/shared/events/registry.ts';
import { parseDicomImage } from '../../services/shared/imaging/index.ts';
import { createLogger } from '../../services/shared/observability/logger.ts';
import { DEFAULT_COHORT_OPTIONS } from '../../tools/synth/cohort.ts';
import type { ManifestLine } from '../../tools/synth/study-output.ts';
import { loadPseudoLabelerConfig, type PseudoLabelerConfig } from '../../services/pseudo-labeler/config.ts';
import type {
  DicomArrivedEvent,
  PseudoLabelCreatedEvent,
  ReportLabelEvent,
} from '../../services/pseudo-labeler/events.ts';
import { startPseudoLabeler, type RunningPseudoLabeler } from '../../services/pseudo-labeler/service.ts';
import { Cleanup } from './cleanup.ts';
import { createTestKafka, createTestProducer, createTopics } from './kafka.ts';
import { uniqueTopicName } from './names.ts';
import { createTestSchema, type TestSchema } from './postgres.ts';
import { getTestStack, type TestStack } from './stack.ts';

/** The small ONNX detector the distiller's parity test exported (input 64 x 64, output 16 x 16). */
export const PARITY_MODEL = path.resolve(import.meta.dirname, '../fixtures/distiller-parity/model.onnx');

export interface DeadLetterSeen {
  topic: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** A synthetic cohort on disk (harvester synth's writer) and its manifest. */
export interface TestCohort {
  dir: string;
  images: ManifestLine[];
}

/** Writes a small record-only cohort with many positives and hedges (so every kind of label occurs). */
export async function writeTestCohort(
  studies: number,
  seed = 'pseudo-labeler-test',
  size = 128,
): Promise<TestCohort> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fh-pl-cohort-'));
  await writeCohort(dir, {
    ...DEFAULT_COHORT_OPTIONS,
    studies,
    seed,
    size,
    regionTrain: 0,
    regionTest: 0,
    ribPrevalence: 0.5,
    claviclePrevalence: 0.3,
    hedgeRate: 0.2,
    missRate: 0.1,
    compressedFraction: 0.3,
  });
  const images = readFileSync(path.join(dir, 'manifest.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ManifestLine);
  return { dir, images };
}

/** The DicomArrived event a PACS router would send for a cohort image (header read from the file). */
export function dicomArrivedFor(
  cohortDir: string,
  m: ManifestLine,
  arrivedAt = Date.now(),
): DicomArrivedEvent {
  const file = path.join(cohortDir, m.file);
  const bytes = readFileSync(file);
  const { header } = parseDicomImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return {
    studyInstanceUid: m.studyInstanceUid,
    seriesInstanceUid: m.seriesInstanceUid,
    sopInstanceUid: m.sopInstanceUid,
    sopClassUid: null,
    accession: m.accession,
    patientPseudonym: null,
    modality: m.modality,
    viewPosition: m.viewPosition,
    bodyPartExamined: 'CHEST',
    rows: header.rows,
    columns: header.columns,
    bitsAllocated: header.bitsAllocated,
    bitsStored: header.bitsStored,
    pixelRepresentation: header.pixelRepresentation,
    samplesPerPixel: header.samplesPerPixel,
    numberOfFrames: header.numberOfFrames,
    pixelSpacing: null,
    photometricInterpretation: header.photometricInterpretation,
    transferSyntaxUid: header.transferSyntax.uid,
    uri: pathToFileURL(file).href,
    sizeBytes: bytes.length,
    sha256: null,
    arrivedAt,
  };
}

/**
 * A ReportLabel event (what the report-labeler publishes) with the given rib/clavicle statuses.
 * The same arguments give the same report version (MSH-10 derived from them): a redelivery.
 */
export function reportLabelFor(
  accession: string,
  labels: { rib: string; clavicle: string },
  options: { status?: 'P' | 'F' | 'C'; observedAt?: number; messageControlId?: string } = {},
): ReportLabelEvent {
  const cls = (status: string) => ({ status, acuity: null, side: null, ribs: [] });
  const status = options.status ?? 'F';
  const observedAt = options.observedAt ?? Date.UTC(2024, 0, 1);
  return {
    accession,
    sendingFacility: 'SYNTH_HOSP',
    messageControlId: options.messageControlId ?? `MSG-${accession}-${status}-${observedAt}`,
    obrIndex: 0,
    reportStatus: status,
    provisional: status === 'P',
    observedAt,
    patientPseudonym: 'pseudonym',
    procedureCode: null,
    ruleVersion: 'test',
    rib: cls(labels.rib),
    clavicle: cls(labels.clavicle),
    other: cls('negative'),
    labelledAt: Date.now(),
  };
}

/**
 * A pseudo-labeler on the real stack with its own topics, consumer group, Postgres schema and
 * registry subjects, plus collectors of what it publishes (events and dead letters).
 */
export class PseudoLabelerHarness {
  readonly cleanup = new Cleanup();
  readonly events: PseudoLabelCreatedEvent[] = [];
  readonly deadLetters: DeadLetterSeen[] = [];
  readonly dicomTopic = uniqueTopicName('dicom.arrived');
  readonly labelsTopic = uniqueTopicName('labels.report');
  readonly output = uniqueTopicName('labels.pseudo');
  readonly groupId = uniqueTopicName('pseudo-labeler');
  stack!: TestStack;
  kafka!: Kafka;
  db!: TestSchema;
  registry!: SchemaRegistry;
  private ids: Record<string, number> = {};
  private collector: Consumer | undefined;

  /** TRAINING_STORE_URL of the services this harness starts (not created: the service does that). */
  trainingStore!: string;

  get pool(): pg.Pool {
    return this.db.pool;
  }

  async setUp(options: { partitions?: number; collect?: boolean } = {}): Promise<void> {
    // the folder the service's training store goes in; the service creates the store itself
    const parent = await mkdtemp(path.join(tmpdir(), 'fh-pseudo-store-'));
    this.cleanup.add(() => rm(parent, { recursive: true, force: true }));
    this.trainingStore = path.join(parent, 'training-store');
    this.stack = await getTestStack();
    this.kafka = createTestKafka(this.stack);
    this.db = await createTestSchema(this.stack, 'pseudo');
    this.cleanup.add(() => this.db.drop());
    await migrateDatabase({ database: this.stack.databaseUrl, schema: this.db.schema });
    this.registry = createSchemaRegistry({ url: this.stack.schemaRegistryUrl });
    const registered = await registerEventSchemas(this.registry, {
      DicomArrived: this.dicomTopic,
      ReportLabel: this.labelsTopic,
      PseudoLabelCreated: this.output,
    });
    for (const r of registered) this.ids[r.name] = r.id;
    const partitions = options.partitions ?? 1;
    this.cleanup.add(
      await createTopics(this.kafka, [
        { topic: this.dicomTopic, numPartitions: partitions },
        { topic: this.labelsTopic, numPartitions: partitions },
        { topic: this.output },
        { topic: `${this.dicomTopic}.dlq` },
        { topic: `${this.labelsTopic}.dlq` },
      ]),
    );
    if (options.collect === false) return;
    const collector = this.kafka.consumer({ groupId: uniqueTopicName('collector') });
    this.collector = collector;
    await collector.connect();
    this.cleanup.add(() => collector.disconnect());
    await collector.subscribe({
      topics: [this.output, `${this.dicomTopic}.dlq`, `${this.labelsTopic}.dlq`],
      fromBeginning: true,
    });
    await collector.run({
      eachMessage: async ({ topic, message }) => {
        if (topic === this.output) {
          this.events.push((await this.registry.decode(message.value!)) as PseudoLabelCreatedEvent);
        } else {
          this.deadLetters.push({
            topic,
            key: message.key?.toString() ?? null,
            value: message.value,
            headers: stringHeaders(message.headers ?? {}),
          });
        }
      },
    });
  }

  config(overrides: Record<string, string> = {}): PseudoLabelerConfig {
    return loadPseudoLabelerConfig({
      KAFKA_BROKERS: this.stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: this.stack.schemaRegistryUrl,
      DATABASE_URL: this.stack.databaseUrl,
      TEACHER_MODEL_PATH: PARITY_MODEL,
      TEACHER_MODEL_VERSION: 'parity-teacher-1',
      TEACHER_EXECUTION_PROVIDERS: 'cpu',
      PSEUDO_LABELER_GROUP_ID: this.groupId,
      PSEUDO_LABELER_DICOM_TOPIC: this.dicomTopic,
      PSEUDO_LABELER_LABELS_TOPIC: this.labelsTopic,
      PSEUDO_LABELER_OUTPUT_TOPIC: this.output,
      PSEUDO_LABELER_HTTP_PORT: '0',
      PSEUDO_LABELER_HTTP_HOST: '127.0.0.1',
      PSEUDO_LABELER_RETRY_INITIAL_MS: '100',
      PSEUDO_LABELER_RETRY_MAX_MS: '1000',
      TRAINING_STORE_URL: this.trainingStore,
      ...overrides,
    });
  }

  async start(overrides: Record<string, string> = {}): Promise<RunningPseudoLabeler> {
    const service = await startPseudoLabeler(
      this.config(overrides),
      createLogger('pseudo-labeler-test', 'warn'),
      {
        pool: this.pool,
      },
    );
    this.cleanup.add(() => service.stop());
    return service;
  }

  async produceImages(events: DicomArrivedEvent[]): Promise<void> {
    const messages = await Promise.all(
      events.map(async (e) => ({
        key: e.accession,
        value: await this.registry.encode(this.ids.DicomArrived!, e),
      })),
    );
    await this.send(this.dicomTopic, messages);
  }

  async produceLabels(events: ReportLabelEvent[]): Promise<void> {
    const messages = await Promise.all(
      events.map(async (e) => ({
        key: e.accession,
        value: await this.registry.encode(this.ids.ReportLabel!, e),
      })),
    );
    await this.send(this.labelsTopic, messages);
  }

  async send(topic: string, messages: Array<{ key: string | null; value: Buffer | string }>): Promise<void> {
    const producer = createTestProducer(this.kafka);
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages });
    } finally {
      await producer.disconnect();
    }
  }

  async count(sql: string, params: unknown[] = []): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(`SELECT (${sql})::int AS n`, params);
    return rows[0]!.n;
  }

  async tearDown(): Promise<void> {
    await this.cleanup.run();
  }
}

export async function removeCohort(cohort: TestCohort): Promise<void> {
  await rm(cohort.dir, { recursive: true, force: true });
}

function stringHeaders(headers: IHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k] = (Array.isArray(v) ? v[v.length - 1] : v)!.toString();
  }
  return out;
}
