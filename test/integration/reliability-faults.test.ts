import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import { loadConfig } from '../../services/shared/config/env.ts';
import { migrateDatabase } from '../../services/shared/db/migrate.ts';
import { EventEncoder } from '../../services/shared/events/encoder.ts';
import {
  createSchemaRegistry,
  lookupEventSchemaId,
  registerEventSchemas,
} from '../../services/shared/events/registry.ts';
import type { DicomArrivedEvent, ReportLabelEvent } from '../../services/pseudo-labeler/events.ts';
import { createKafka } from '../../services/shared/kafka/client.ts';
import { kafkaConnectionFromEnv, kafkaEnvShape } from '../../services/shared/kafka/config.ts';
import { Cleanup } from '../support/cleanup.ts';
import { FaultStack } from '../support/fault-stack.ts';
import { buildOruMessage, FINDINGS, NON_CHEST_PROCEDURE } from '../support/hl7-builder.ts';
import { createTopics } from '../support/kafka.ts';
import {
  auditLabeler,
  formatAudit,
  topicRecordCount,
  waitForDrain,
  type LabelerAudit,
} from '../support/labeler-audit.ts';
import { uniqueTopicName } from '../support/names.ts';
import { createTestSchema, type TestSchema } from '../support/postgres.ts';
import {
  dicomArrivedFor,
  PARITY_MODEL,
  removeCohort,
  reportLabelFor,
  writeTestCohort,
  type TestCohort,
} from '../support/pseudo-labeler.ts';
import { fileSize, waitForProgress } from '../support/progress.ts';
import { TEST_HMAC_KEY } from '../support/report-labeler.ts';
import { ServiceProcess } from '../support/service-process.ts';
import { SteadyLoad, type LoadMessage } from '../support/steady-load.ts';

// Faults under load on a stack of its own (the shared one stays undisturbed): the report-labeler
// runs as `node bin/harvester.js run report-labeler`, a steady HL7 stream (with dead letters and
// skips mixed in) flows while a fault hits, and an audit accounts for every message afterwards.

const RATE = 150; // messages per second
/**
 * The consumers' session timeout. Short, so that a member killed with -9 leaves the group soon, but
 * not so short that one busy stretch of the event loop gets a live member evicted: the first chunk
 * of a fresh process (cold code, synchronous parsing and labelling) blocked it for more than 6 s at
 * load 20 here, and the member was evicted and had to rejoin (issue 17).
 */
const SESSION_TIMEOUT_MS = '15000';
const TEXTS = [FINDINGS.ribPositive, FINDINGS.normal, FINDINGS.clavicleOld, FINDINGS.uncertain];

/** The i-th message of a run: P then F per accession; every 20th has no accession (DLQ), every 25th is not a chest study (skipped). */
function hl7Message(prefix: string, i: number): LoadMessage {
  const id = `${prefix}-${i}`;
  const poison = i % 20 === 19;
  const other = i % 25 === 24;
  return {
    id,
    key: `GENHOSP|${id}`,
    value: buildOruMessage({
      messageControlId: id,
      accession: poison ? '' : `${prefix}-ACC-${Math.floor(i / 2)}`,
      status: i % 2 === 0 ? 'P' : 'F',
      patientId: `MRN${100000 + i}`,
      text: TEXTS[i % TEXTS.length]!,
      ...(other ? { procedureCode: NON_CHEST_PROCEDURE.code, procedureText: NON_CHEST_PROCEDURE.text } : {}),
    }),
  };
}

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema},public`);
  return u.toString();
}

const stack = new FaultStack();
const cleanup = new Cleanup();
let kafka: Kafka;
let logDir: string;
const audits: string[] = [];

/** One scenario's topics, schema and labeler process. */
class Scenario {
  readonly input = uniqueTopicName('hl7.oru.raw');
  readonly output = uniqueTopicName('labels.report');
  readonly groupId = uniqueTopicName('report-labeler');
  db!: TestSchema;
  labeler!: ServiceProcess;

  constructor(readonly name: string) {}

  async setUp(): Promise<void> {
    this.db = await createTestSchema(stack.stack, this.name);
    // the test's own idle connections die when Postgres stops; the pool reconnects on next use
    this.db.pool.on('error', () => {});
    cleanup.add(() => this.db.drop());
    await migrateDatabase({ database: stack.stack.databaseUrl, schema: this.db.schema });
    await registerEventSchemas(createSchemaRegistry({ url: stack.stack.schemaRegistryUrl }), {
      ReportLabel: this.output,
    });
    cleanup.add(
      await createTopics(kafka, [
        { topic: this.input, numPartitions: 2 },
        { topic: this.output },
        { topic: `${this.input}.dlq` },
      ]),
    );
    this.labeler = new ServiceProcess(
      'report-labeler',
      {
        KAFKA_BROKERS: stack.stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.stack.schemaRegistryUrl,
        DATABASE_URL: withSearchPath(stack.stack.databaseUrl, this.db.schema),
        PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
        REPORT_LABELER_GROUP_ID: this.groupId,
        REPORT_LABELER_INPUT_TOPIC: this.input,
        REPORT_LABELER_OUTPUT_TOPIC: this.output,
        REPORT_LABELER_HTTP_PORT: '0',
        REPORT_LABELER_HTTP_HOST: '127.0.0.1',
        REPORT_LABELER_MAX_BATCH_MESSAGES: '100',
        REPORT_LABELER_SESSION_TIMEOUT_MS: SESSION_TIMEOUT_MS,
        REPORT_LABELER_RETRY_INITIAL_MS: '200',
        REPORT_LABELER_RETRY_MAX_MS: '2000',
        LOG_LEVEL: 'info',
      },
      path.join(logDir, `${this.name}.log`),
    );
    cleanup.add(() => this.labeler.close());
  }

  load(durationMs: number): SteadyLoad {
    return new SteadyLoad({
      kafka,
      topic: this.input,
      ratePerSecond: RATE,
      durationMs,
      message: (i) => hl7Message(this.name, i),
    });
  }

  /**
   * Waits for the labeler to have stored `n` rows, for as long as it shows signs of life (its log
   * grows while it starts and joins the group, then the ledger).
   */
  async stored(n: number): Promise<void> {
    await waitForProgress({
      what: `the labeler to store ${n} messages`,
      measure: async () => ({ rows: await this.ledgerRows(), log: fileSize(this.labeler.logFile) }),
      done: (state) => state.rows >= n,
    });
  }

  async ledgerRows(): Promise<number> {
    const { rows } = await this.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM hl7_message_ledger',
    );
    return rows[0]!.n;
  }

  /** Waits for the load to end and the labeler to catch up, then audits and checks exactly-once. */
  async finish(load: SteadyLoad): Promise<LabelerAudit> {
    await load.done;
    await explainStall(this.labeler, waitForDrain(kafka, this.db.pool, this.input));
    const audit = await auditLabeler(kafka, this.db.pool, this.input, load.acked);
    const line = `${formatAudit(this.name, audit)}, producer retries ${load.failedSends}`;
    audits.push(line);
    console.log(line);
    assert.ok(audit.sent >= RATE * 5, 'the load ran');
    assert.deepEqual(audit.lost, [], 'no acknowledged message is lost');
    assert.equal(
      audit.ledgerRows,
      audit.topicRecords,
      'every record of the topic has exactly one ledger row',
    );
    assert.equal(audit.dlqOffsets, audit.dlq, 'every dead-lettered record is in the DLQ');
    assert.ok(audit.dlq >= Math.floor(audit.sent / 20), 'the poison messages went to the DLQ');
    assert.ok(audit.skipped > 0, 'the non-chest studies were skipped');
    assert.equal(audit.reportVersions, audit.storedIds, 'one report version per stored message');
    assert.equal(audit.duplicates, 0, 'no duplicate rows');
    assert.doesNotMatch(
      readFileSync(this.labeler.logFile, 'utf8'),
      /Limiting retries for the idempotent producer|switched default partitioner/,
      'kafkajs prints no start-up notices (docs/kafka-clients.md)',
    );
    return audit;
  }
}

/** The pseudo-labeler's scenario: DicomArrived and ReportLabel streams for the same accessions. */
class PseudoScenario {
  readonly dicom = uniqueTopicName('dicom.arrived');
  readonly labels = uniqueTopicName('labels.report');
  readonly output = uniqueTopicName('labels.pseudo');
  db!: TestSchema;
  labeler!: ServiceProcess;
  private imageEncoder!: EventEncoder<DicomArrivedEvent>;
  private labelEncoder!: EventEncoder<ReportLabelEvent>;

  constructor(
    readonly name: string,
    private readonly cohort: TestCohort,
  ) {}

  async setUp(): Promise<void> {
    this.db = await createTestSchema(stack.stack, this.name);
    this.db.pool.on('error', () => {});
    cleanup.add(() => this.db.drop());
    await migrateDatabase({ database: stack.stack.databaseUrl, schema: this.db.schema });
    const registry = createSchemaRegistry({ url: stack.stack.schemaRegistryUrl });
    await registerEventSchemas(registry, {
      DicomArrived: this.dicom,
      ReportLabel: this.labels,
      PseudoLabelCreated: this.output,
    });
    this.imageEncoder = new EventEncoder(registry, 'DicomArrived', this.dicom);
    this.labelEncoder = new EventEncoder(registry, 'ReportLabel', this.labels);
    await this.imageEncoder.ready();
    await this.labelEncoder.ready();
    cleanup.add(
      await createTopics(kafka, [
        { topic: this.dicom, numPartitions: 2 },
        { topic: this.labels, numPartitions: 2 },
        { topic: this.output },
        { topic: `${this.dicom}.dlq` },
        { topic: `${this.labels}.dlq` },
      ]),
    );
    this.labeler = new ServiceProcess(
      'pseudo-labeler',
      {
        KAFKA_BROKERS: stack.stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.stack.schemaRegistryUrl,
        DATABASE_URL: withSearchPath(stack.stack.databaseUrl, this.db.schema),
        TEACHER_MODEL_PATH: PARITY_MODEL,
        TEACHER_MODEL_VERSION: 'parity-teacher-1',
        TEACHER_EXECUTION_PROVIDERS: 'cpu',
        TRAINING_STORE_URL: path.join(logDir, 'training-store'),
        PSEUDO_LABELER_GROUP_ID: uniqueTopicName('pseudo-labeler'),
        PSEUDO_LABELER_DICOM_TOPIC: this.dicom,
        PSEUDO_LABELER_LABELS_TOPIC: this.labels,
        PSEUDO_LABELER_OUTPUT_TOPIC: this.output,
        PSEUDO_LABELER_HTTP_PORT: '0',
        PSEUDO_LABELER_SESSION_TIMEOUT_MS: SESSION_TIMEOUT_MS,
        PSEUDO_LABELER_RETRY_INITIAL_MS: '200',
        PSEUDO_LABELER_RETRY_MAX_MS: '2000',
        LOG_LEVEL: 'info',
      },
      path.join(logDir, `${this.name}.log`),
    );
    cleanup.add(() => this.labeler.close());
  }

  /** Image i of accession PL-ACC-i; every 20th points at a file that is not there (DLQ not-found). */
  loads(rate: number, durationMs: number): SteadyLoad[] {
    const accession = (i: number) => `${this.name}-ACC-${i}`;
    const images = new SteadyLoad({
      kafka,
      topic: this.dicom,
      ratePerSecond: rate,
      durationMs,
      message: (i) => {
        const t = dicomArrivedFor(this.cohort.dir, this.cohort.images[i % this.cohort.images.length]!);
        const event = {
          ...t,
          sopInstanceUid: `2.25.6${i}`,
          accession: accession(i),
          uri: i % 20 === 19 ? `${t.uri}.missing` : t.uri,
        };
        return { id: event.sopInstanceUid, key: event.accession, value: this.imageEncoder.encode(event) };
      },
    });
    const labels = new SteadyLoad({
      kafka,
      topic: this.labels,
      ratePerSecond: rate,
      durationMs,
      message: (i) => ({
        id: accession(i),
        key: accession(i),
        value: this.labelEncoder.encode(
          reportLabelFor(accession(i), { rib: 'positive', clavicle: 'negative' }),
        ),
      }),
    });
    return [images, labels];
  }

  async counts(): Promise<{
    images: number;
    failed: number;
    labelled: number;
    labels: number;
    keys: number;
  }> {
    const { rows } = await this.db.pool.query(
      `SELECT (SELECT count(*)::int FROM images) AS images,
              (SELECT count(*)::int FROM images WHERE failed_reason IS NOT NULL) AS failed,
              (SELECT count(DISTINCT sop_instance_uid)::int FROM pseudo_labels) AS labelled,
              (SELECT count(*)::int FROM pseudo_labels) AS labels,
              (SELECT count(DISTINCT (sop_instance_uid, class, model_version))::int FROM pseudo_labels) AS keys`,
    );
    return rows[0];
  }

  /** Every acknowledged image is recorded once; good ones have both class targets, bad ones a DLQ record. */
  async finish(loads: SteadyLoad[]): Promise<void> {
    await Promise.all(loads.map((l) => l.done));
    const [images, labels] = loads;
    const sops = [...new Set(images!.acked)];
    // every image's report label was acknowledged too, or the join below could never complete
    assert.equal(new Set(labels!.acked).size, sops.length, 'one report label per image reached the broker');
    const bad = sops.filter((s) => Number(s.slice('2.25.6'.length)) % 20 === 19).length;
    await explainStall(
      this.labeler,
      waitForProgress({
        what: 'every image recorded, labelled or failed',
        measure: () => this.counts(),
        done: (c) => c.images === sops.length && c.failed === bad && c.labelled === sops.length - bad,
      }),
    ).catch(async (err: Error) => {
      // an image recorded but neither labelled nor failed: its rows and its study's label rows
      const stuck = await this.db.pool
        .query(
          `SELECT to_jsonb(i) AS image,
                  (SELECT jsonb_agg(to_jsonb(r)) FROM study_record_labels r WHERE r.accession = i.accession) AS labels
             FROM images i
            WHERE i.failed_reason IS NULL
              AND NOT EXISTS (SELECT 1 FROM pseudo_labels p WHERE p.sop_instance_uid = i.sop_instance_uid)`,
        )
        .then(
          (r) => JSON.stringify(r.rows),
          (e: Error) => `(could not read them: ${e.message})`,
        );
      throw new Error(`${err.message}\nimages recorded, not labelled nor failed: ${stuck}`, { cause: err });
    });
    const c = await this.counts();
    const dlqRecords = await topicRecordCount(kafka, `${this.dicom}.dlq`);
    const { rows } = await this.db.pool.query<{ sop: string }>(
      'SELECT sop_instance_uid AS sop FROM images WHERE NOT (sop_instance_uid = ANY ($1))',
      [sops],
    );
    const line =
      `${this.name}: images sent ${sops.length}, recorded ${c.images} (labelled ${c.labelled}, failed ${c.failed}), ` +
      `pseudo_labels ${c.labels} (keys ${c.keys}), DLQ records ${dlqRecords}, lost 0, duplicates ${c.labels - c.keys}`;
    audits.push(line);
    console.log(line);
    assert.equal(rows.length, 0, 'no image that was not sent');
    assert.equal(c.labels, c.keys, 'no duplicate pseudo-label rows');
    assert.equal(c.labels, 2 * c.labelled, 'both classes for every labelled image');
    assert.ok(dlqRecords >= bad, 'every missing file dead-lettered');
  }
}

/** The distinct schema ids in the Confluent headers of every record of a topic. */
async function schemaIdsIn(topic: string): Promise<number[]> {
  const total = await topicRecordCount(kafka, topic);
  const ids = new Set<number>();
  let records = 0;
  const consumer = kafka.consumer({ groupId: uniqueTopicName('schema-ids') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        records++;
        if (message.value && message.value.length >= 5) ids.add(message.value.readUInt32BE(1));
      },
    });
    await waitForProgress({
      what: `the ${total} records of ${topic}`,
      measure: () => records,
      done: (n) => n >= total,
    });
  } finally {
    await consumer.disconnect();
  }
  return [...ids].sort((a, b) => a - b);
}

/**
 * A stalled wait says whether the service is still running and how its log ends: a stall that
 * comes from a dead process reads differently from one that comes from a stuck one.
 */
async function explainStall<T>(service: ServiceProcess, wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    const tail = readFileSync(service.logFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
    throw new Error(
      `${(err as Error).message}; service exits so far: [${service.exits.join(', ')}]; its log ends:\n${tail}`,
      { cause: err },
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe(
  'reliability: faults under load (report-labeler, pseudo-labeler; dedicated stack)',
  // no overall deadline: every wait fails on its own when nothing moves for STALL_MS (progress.ts)
  () => {
    before(async () => {
      // FH_FAULT_LOG_DIR keeps the services' logs there (for reading after a failure)
      logDir = process.env.FH_FAULT_LOG_DIR ?? (await mkdtemp(path.join(tmpdir(), 'fh-fault-logs-')));
      await stack.up();
      // quiet: the broker restart makes every client log connection errors, which say nothing here
      kafka = new Kafka({
        clientId: 'reliability-faults',
        brokers: stack.stack.kafkaBrokers,
        logLevel: logLevel.NOTHING,
      });
    });
    after(async () => {
      try {
        await cleanup.run();
      } finally {
        await stack.down();
        if (!process.env.FH_FAULT_LOG_DIR) await rm(logDir, { recursive: true, force: true });
        console.log(audits.join('\n'));
      }
    });

    it('kill -9 of the consumer mid-stream, then a restart: nothing lost, no duplicate rows', async () => {
      const s = new Scenario('kill9');
      await s.setUp();
      s.labeler.start();
      const load = s.load(12_000);
      await s.stored(300);
      await s.labeler.kill9();
      const atKill = await s.ledgerRows();
      s.labeler.start();
      await s.finish(load);
      assert.ok(atKill < load.sent, 'killed while messages were still arriving');
      assert.deepEqual(s.labeler.exits, ['SIGKILL'], 'only the deliberate kill ended a labeler');
    });

    it('a Kafka broker restart under load: the consumer and producers carry on, nothing lost', async () => {
      const s = new Scenario('broker');
      await s.setUp();
      s.labeler.start();
      const load = s.load(25_000);
      await s.stored(150);
      await stack.restart('kafka');
      await s.finish(load);
      assert.deepEqual(s.labeler.exits, [], 'the labeler kept running through the restart');
    });

    it('PostgreSQL stopped for 30 s under load: back-off, then catch-up, nothing lost', async () => {
      const s = new Scenario('postgres');
      await s.setUp();
      s.labeler.start();
      const load = s.load(40_000);
      await s.stored(150);
      await stack.stop('postgres');
      await sleep(30_000);
      await stack.start('postgres');
      // the registry keeps its schemas in this PostgreSQL: every request after the restart is
      // answered (its pool checks a connection before use; a stale one used to give a 500 each)
      const registry = createSchemaRegistry({ url: stack.stack.schemaRegistryUrl });
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await lookupEventSchemaId(registry, 'ReportLabel', s.output));
      assert.equal(new Set(ids).size, 1);
      await s.finish(load);
      assert.deepEqual(s.labeler.exits, [], 'the labeler kept running through the outage');
      assert.match(readFileSync(s.labeler.logFile, 'utf8'), /offsets not committed, retrying/);
    });

    it('the registry stopped for 30 s, with a consumer restarted (kill -9) during the outage: nothing lost, every schema id kept', async () => {
      const s = new Scenario('registry');
      await s.setUp();
      const registry = createSchemaRegistry({ url: stack.stack.schemaRegistryUrl });
      const idBefore = await lookupEventSchemaId(registry, 'ReportLabel', s.output);
      s.labeler.start();
      const load = s.load(40_000);
      await s.stored(150);
      await stack.stop('registry');
      // a fresh process has no cached schema id: it must wait for the registry, not write or skip
      await s.labeler.kill9();
      const atKill = await s.ledgerRows();
      s.labeler.start();
      await sleep(30_000);
      assert.equal(await s.ledgerRows(), atKill, 'nothing written while events could not be encoded');
      await stack.start('registry');
      // the restarted registry (schemas in the stack's PostgreSQL) still knows every id
      assert.equal(await lookupEventSchemaId(registry, 'ReportLabel', s.output), idBefore);
      await s.finish(load);
      assert.deepEqual(s.labeler.exits, ['SIGKILL'], 'only the deliberate kill ended a labeler');
      // events written before the outage and by the fresh labeler after it carry the same id
      assert.deepEqual(await schemaIdsIn(s.output), [idBefore]);
      const again = await registerEventSchemas(registry, { ReportLabel: s.output });
      assert.equal(again.find((r) => r.name === 'ReportLabel')!.id, idBefore, 'no new version');
    });

    it('pseudo-labeler: kill -9 mid-stream, then PostgreSQL stopped for 30 s, under load: every image once', async () => {
      const cohort = await writeTestCohort(4, 'reliability-faults');
      cleanup.add(() => removeCohort(cohort));
      const s = new PseudoScenario('pseudo', cohort);
      await s.setUp();
      s.labeler.start();
      const loads = s.loads(15, 45_000);
      await waitForProgress({
        what: 'some images labelled',
        measure: async () => ({ ...(await s.counts()), log: fileSize(s.labeler.logFile) }),
        done: (c) => c.labelled >= 30,
      });
      await s.labeler.kill9();
      s.labeler.start();
      await sleep(5_000);
      await stack.stop('postgres');
      await sleep(30_000);
      await stack.start('postgres');
      await s.finish(loads);
      assert.deepEqual(s.labeler.exits, ['SIGKILL'], 'only the deliberate kill ended a pseudo-labeler');
    });

    it('Kafka TLS from the environment: CA and client certificate files connect; no certificate or the wrong CA is refused', async () => {
      const connect = async (files: Record<string, string>) => {
        const env = loadConfig(z.object(kafkaEnvShape), {
          KAFKA_BROKERS: stack.tlsBrokers.join(','),
          KAFKA_SSL: 'true',
          ...files,
        });
        // the service's env-to-connection mapping, without retries: a refused handshake looks like a
        // dropped connection to kafkajs, which it would otherwise retry for a minute or two
        const { brokers, ssl } = kafkaConnectionFromEnv(env);
        // and a connection timeout for a busy machine: a TLS handshake took more than kafkajs' default
        // 1 s at load 25 here (a refusal is an error as soon as the handshake fails, not a timeout)
        const client = new Kafka({
          brokers,
          ssl,
          logLevel: logLevel.NOTHING,
          retry: { retries: 0 },
          connectionTimeout: 30_000,
        });
        const admin = client.admin();
        try {
          await admin.connect();
          return await admin.listTopics();
        } finally {
          await admin.disconnect();
        }
      };
      const { caFile, certFile, keyFile } = stack.tls;
      const topics = await connect({
        KAFKA_SSL_CA_FILE: caFile,
        KAFKA_SSL_CERT_FILE: certFile,
        KAFKA_SSL_KEY_FILE: keyFile,
      });
      assert.ok(Array.isArray(topics), 'mutual TLS with the stack CA lists topics');
      // the broker requires a client certificate
      await assert.rejects(connect({ KAFKA_SSL_CA_FILE: caFile }));
      // a CA that did not sign the broker's certificate: the client refuses the broker
      await assert.rejects(
        connect({ KAFKA_SSL_CA_FILE: certFile, KAFKA_SSL_CERT_FILE: certFile, KAFKA_SSL_KEY_FILE: keyFile }),
        /certificate|self.signed|verify/i,
      );
    });

    it('Kafka SASL/SCRAM from the environment: the right password authenticates, a wrong one is refused', async () => {
      const connect = async (mechanism: string, password: string) => {
        const env = loadConfig(z.object(kafkaEnvShape), {
          KAFKA_BROKERS: stack.scramBrokers.join(','),
          KAFKA_SASL_MECHANISM: mechanism,
          KAFKA_SASL_USERNAME: stack.scramUser,
          KAFKA_SASL_PASSWORD: password,
        });
        const client = createKafka(kafkaConnectionFromEnv(env));
        const admin = client.admin();
        try {
          await admin.connect();
          return await admin.listTopics();
        } finally {
          await admin.disconnect();
        }
      };
      for (const mechanism of ['scram-sha-256', 'scram-sha-512']) {
        const topics = await connect(mechanism, stack.scramPassword);
        assert.ok(Array.isArray(topics), `${mechanism} with the right password lists topics`);
        await assert.rejects(connect(mechanism, 'not-the-password'), (err: Error) => {
          assert.equal(err.name, 'KafkaJSSASLAuthenticationError');
          return true;
        });
      }
    });
  },
);
