import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { z } from 'zod';
import { loadConfig } from '../../services/shared/config/env.ts';
import { migrateDatabase } from '../../services/shared/db/migrate.ts';
import { createSchemaRegistry, registerEventSchemas } from '../../services/shared/events/registry.ts';
import { createKafka } from '../../services/shared/kafka/client.ts';
import { kafkaConnectionFromEnv, kafkaEnvShape } from '../../services/shared/kafka/config.ts';
import { createMessageProducer } from '../../services/shared/kafka/producer.ts';
import { Cleanup } from '../support/cleanup.ts';
import { freePorts } from '../support/fault-stack.ts';
import { buildOruMessage } from '../support/hl7-builder.ts';
import { withSearchPath } from '../support/labelling-pipeline.ts';
import { createTestSchema } from '../support/postgres.ts';
import { TEST_HMAC_KEY, waitFor } from '../support/report-labeler.ts';
import { ServiceProcess } from '../support/service-process.ts';
import { getTestStack } from '../support/stack.ts';

// Least-privilege Kafka: a broker of its own with a SASL_SSL listener (SCRAM-SHA-512 over TLS), the
// KRaft StandardAuthorizer and allow.everyone.if.no.acl.found=false (deploy/local/stack
// FH_KAFKA_ACL=1); `harvester topics ensure --acls` run as the admin writes the ACLs from the topic
// catalog; every client below connects through the services' own env-to-connection mapping.

const execFileAsync = promisify(execFile);
const stackScript = path.resolve(import.meta.dirname, '../../deploy/local/stack');
const ADMIN = { user: 'harvester', password: 'harvester-secret' };

describe(
  'least-privilege Kafka (SASL_SSL, StandardAuthorizer, ACLs from the catalog)',
  { timeout: 600_000 },
  () => {
    const cleanup = new Cleanup();
    const prefix = `acl${Date.now().toString(36)}.`;
    const topic = (id: string) => `${prefix}${id}`;
    let stackEnv: NodeJS.ProcessEnv;
    let brokers: string;
    let caFile: string;
    let wrongCaFile: string;

    async function stack(...args: string[]): Promise<string> {
      const env: NodeJS.ProcessEnv = { ...process.env, ...stackEnv };
      delete env.DATABASE_URL;
      return (await execFileAsync(stackScript, args, { env, maxBuffer: 8 * 1024 * 1024 })).stdout;
    }

    /** The variables a service reads to connect as `user` (SCRAM-SHA-512 over TLS with the stack CA). */
    const kafkaEnv = (user: string, password = `${user}-secret`, ca = caFile): Record<string, string> => ({
      KAFKA_BROKERS: brokers,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: ca,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: user,
      KAFKA_SASL_PASSWORD: password,
    });

    /** A client as the services make one (their env mapping and createKafka), connecting as `user`. */
    function client(user: string, password?: string, ca?: string): Kafka {
      return createKafka(
        kafkaConnectionFromEnv(loadConfig(z.object(kafkaEnvShape), kafkaEnv(user, password, ca))),
      );
    }

    /** One message sent through the services' idempotent producer (rejects when refused). */
    async function produce(user: string, to: string, value: string): Promise<void> {
      const producer = await createMessageProducer(client(user));
      try {
        await producer.send(to, [{ key: null, value }]);
      } finally {
        await producer.disconnect();
      }
    }

    /** The first `n` records of a topic, read as `user` in `group` (rejects when refused). */
    async function consume(user: string, from: string, group: string, n = 1): Promise<string[]> {
      // a refusal crashes the consumer; kafkajs would otherwise restart it for ever
      const consumer = client(user).consumer({
        groupId: group,
        retry: { restartOnFailure: async () => false },
      });
      const seen: string[] = [];
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [from], fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
          consumer
            .run({
              eachMessage: async ({ message }) => {
                seen.push(message.value?.toString() ?? '');
                if (seen.length >= n) resolve();
              },
            })
            .catch(reject);
        });
        return seen;
      } finally {
        await Promise.race([consumer.disconnect().catch(() => {}), delay(10_000)]);
      }
    }

    const refused = /authoriz|not authorized|access/i;

    before(async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'fh-acl-stack-'));
      const [kafka, controller, saslSsl, registry, postgres] = await freePorts(5);
      stackEnv = {
        FH_STACK_DIR: dir,
        FH_KAFKA_PORT: String(kafka),
        FH_KAFKA_CONTROLLER_PORT: String(controller),
        FH_KAFKA_SASL_SSL_PORT: String(saslSsl),
        FH_KAFKA_ACL: '1',
        FH_REGISTRY_PORT: String(registry),
        FH_POSTGRES_PORT: String(postgres),
        FH_KAFKA_HEAP: '384m',
      };
      cleanup.add(() => rm(dir, { recursive: true, force: true }));
      cleanup.add(() => stack('down', 'kafka'));
      await stack('up', 'kafka');
      const env = Object.fromEntries(
        [...(await stack('env')).matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
      ) as Record<string, string>;
      brokers = env.KAFKA_SASL_SSL_BROKERS!;
      caFile = env.KAFKA_TLS_CA_FILE!;
      // a certificate that did not sign the broker's: the broker's own, used as a CA
      wrongCaFile = path.join(path.dirname(caFile), 'broker.crt');
      await execFileAsync(
        process.execPath,
        ['bin/harvester.js', 'topics', 'ensure', '--acls', '--prefix', prefix, '--partitions', '1'],
        { env: { ...process.env, ...kafkaEnv(ADMIN.user, ADMIN.password) } },
      );
    });
    after(() => cleanup.run());

    it('the report-labeler runs as its own principal: HL7 in (from the hl7-gateway principal), ReportLabel out', async () => {
      const shared = await getTestStack();
      const db = await createTestSchema(shared, 'acl');
      cleanup.add(() => db.drop());
      await migrateDatabase({ database: shared.databaseUrl, schema: db.schema });
      await registerEventSchemas(createSchemaRegistry({ url: shared.schemaRegistryUrl }), {
        ReportLabel: topic('labels.report'),
      });
      const logDir = await mkdtemp(path.join(tmpdir(), 'fh-acl-logs-'));
      cleanup.add(() => rm(logDir, { recursive: true, force: true }));
      const labeler = new ServiceProcess(
        'report-labeler',
        {
          ...kafkaEnv('report-labeler'),
          KAFKA_TOPIC_PREFIX: prefix,
          // topics are the operator's (topics ensure); a service principal may not create them
          KAFKA_CREATE_TOPICS: 'false',
          SCHEMA_REGISTRY_URL: shared.schemaRegistryUrl,
          DATABASE_URL: withSearchPath(shared.databaseUrl, db.schema),
          PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
          REPORT_LABELER_HTTP_PORT: '0',
        },
        path.join(logDir, 'report-labeler.log'),
      );
      cleanup.add(() => labeler.close());
      labeler.start();
      await produce(
        'hl7-gateway',
        topic('hl7.oru.raw'),
        buildOruMessage({
          messageControlId: 'ACL-1',
          accession: 'ACC-ACL-1',
          status: 'F',
          text: 'No rib fracture.',
        }),
      );
      await waitFor(
        'the message labelled',
        async () =>
          (await db.pool.query("SELECT 1 FROM hl7_message_ledger WHERE outcome = 'stored'")).rowCount === 1,
        120_000,
      );
      // the pseudo-labeler principal reads the label in its own group
      assert.equal((await consume('pseudo-labeler', topic('labels.report'), 'pseudo-labeler')).length, 1);
      assert.ok(labeler.running, 'the labeler ran without an authorization error');
    });

    it('each other principal does its own work; the operator reads a dead-letter topic', async () => {
      await produce('dicom-gateway', topic('dicom.arrived'), 'event');
      await produce('distill-scheduler', topic('distill.jobs'), 'job');
      assert.deepEqual(await consume('distill-worker', topic('distill.jobs'), 'distill-worker'), ['job']);
      await produce('distill-worker', topic('models.released'), 'release');
      assert.deepEqual(
        await consume('pseudo-labeler', topic('models.released'), 'pseudo-labeler-releases-h-1-a'),
        ['release'],
      );
      await produce('report-labeler', topic('hl7.oru.raw.dlq'), 'dead letter');
      assert.deepEqual(await consume('operator', topic('hl7.oru.raw.dlq'), 'operator-review'), [
        'dead letter',
      ]);
    });

    it(
      "a service principal cannot read another service's input, a DLQ, or write a topic it does not own",
      { timeout: 180_000 },
      async () => {
        await assert.rejects(consume('report-labeler', topic('dicom.arrived'), 'report-labeler'), refused);
        await assert.rejects(consume('pseudo-labeler', topic('hl7.oru.raw'), 'pseudo-labeler'), refused);
        await assert.rejects(consume('report-labeler', topic('hl7.oru.raw.dlq'), 'report-labeler'), refused);
        await assert.rejects(
          consume('pseudo-labeler', topic('dicom.arrived.dlq'), 'pseudo-labeler'),
          refused,
        );
        await assert.rejects(produce('report-labeler', topic('dicom.arrived'), 'x'), refused);
        await assert.rejects(produce('hl7-gateway', topic('labels.report'), 'x'), refused);
        // its own topic, but another service's consumer group
        await assert.rejects(consume('report-labeler', topic('hl7.oru.raw'), 'pseudo-labeler'), refused);
      },
    );

    it('a wrong password and a wrong CA are refused', async () => {
      // the services' mapping, without retries: a refused handshake looks like a dropped connection,
      // which kafkajs would otherwise retry for a minute
      const admin = (user: string, password?: string, ca?: string) => {
        const c = kafkaConnectionFromEnv(loadConfig(z.object(kafkaEnvShape), kafkaEnv(user, password, ca)));
        return new Kafka({
          brokers: c.brokers,
          ssl: c.ssl,
          sasl: { ...c.sasl } as KafkaConfig['sasl'],
          logLevel: logLevel.NOTHING,
          retry: { retries: 0 },
        }).admin();
      };
      const connect = async (a: ReturnType<typeof admin>) => {
        try {
          await a.connect();
          return await a.listTopics();
        } finally {
          await a.disconnect();
        }
      };
      assert.ok((await connect(admin('operator'))).includes(topic('hl7.oru.raw.dlq')));
      await assert.rejects(connect(admin('operator', 'not-the-password')), (err: Error) => {
        assert.equal(err.name, 'KafkaJSSASLAuthenticationError');
        return true;
      });
      await assert.rejects(
        connect(admin('operator', undefined, wrongCaFile)),
        /certificate|self.signed|verify/i,
      );
    });
  },
);
