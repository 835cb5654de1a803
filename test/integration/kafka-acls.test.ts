import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import { z } from 'zod';
import { loadConfig } from '../../services/shared/config/env.ts';
import { migrateDatabase } from '../../services/shared/db/migrate.ts';
import { createSchemaRegistry, registerEventSchemas } from '../../services/shared/events/registry.ts';
import { kafkaConnectionFromEnv, kafkaEnvShape } from '../../services/shared/kafka/config.ts';
import { createMessageProducer } from '../../services/shared/kafka/producer.ts';
import { createKafka } from '../../services/shared/kafka/client.ts';
import { aclGrants } from '../../services/shared/kafka/topic-access.ts';
import { topicProvisioningEnvShape, withTopicDefaults } from '../../services/shared/kafka/system-topics.ts';
import { Cleanup } from '../support/cleanup.ts';
import { freePorts } from '../support/fault-stack.ts';
import { deliverDicom, deliverHl7, STORESCU_PROPOSE, waitForHealthy } from '../support/gateways.ts';
import { buildOruMessage } from '../support/hl7-builder.ts';
import { withSearchPath } from '../support/labelling-pipeline.ts';
import { createTestSchema } from '../support/postgres.ts';
import { removeCohort, writeTestCohort } from '../support/pseudo-labeler.ts';
import { TEST_HMAC_KEY, waitFor } from '../support/report-labeler.ts';
import { ServiceProcess } from '../support/service-process.ts';
import { getTestStack } from '../support/stack.ts';

// Least-privilege Kafka: a broker of its own (deploy/local/stack FH_KAFKA_ACL=1) with a SASL_SSL
// listener (SCRAM-SHA-512 over TLS), the KRaft StandardAuthorizer and
// allow.everyone.if.no.acl.found=false; `harvester topics ensure --acls`, run as the admin, creates
// the topics and writes the ACLs from the topic catalog. Every client below connects through the
// services' own env-to-connection mapping (KAFKA_SSL*, KAFKA_SASL_*), as the principal it names.

const execFileAsync = promisify(execFile);
const stackScript = path.resolve(import.meta.dirname, '../../deploy/local/stack');
const ADMIN = { user: 'harvester', password: 'harvester-secret' };

type KafkaErrorLike = Error & {
  type?: string;
  cause?: KafkaErrorLike;
  originalError?: KafkaErrorLike;
  errors?: KafkaErrorLike[];
};

/** The broker's error codes inside a kafkajs error (it wraps them in retry and crash errors). */
function errorTypes(err: KafkaErrorLike | undefined, seen = new Set<unknown>()): string[] {
  if (!err || seen.has(err)) return [];
  seen.add(err);
  return [
    ...(err.type ? [err.type] : []),
    ...errorTypes(err.cause, seen),
    ...errorTypes(err.originalError, seen),
    ...(err.errors ?? []).flatMap((e) => errorTypes(e, seen)),
  ];
}

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
    const serviceClient = (user: string): Kafka =>
      createKafka(kafkaConnectionFromEnv(loadConfig(z.object(kafkaEnvShape), kafkaEnv(user))));

    /**
     * The same connection with few retries (a refusal is final; kafkajs would otherwise retry what
     * it takes for a lost connection for a minute), recording what kafkajs logs: a refused consumer
     * group only shows there (kafkajs reports it as "group coordinator not found").
     */
    function probeClient(user: string, password?: string, ca?: string) {
      const log: LogEntry[] = [];
      const c = kafkaConnectionFromEnv(loadConfig(z.object(kafkaEnvShape), kafkaEnv(user, password, ca)));
      const kafka = new Kafka({
        brokers: c.brokers,
        ssl: c.ssl,
        sasl: { ...c.sasl } as KafkaConfig['sasl'],
        retry: { retries: 5, initialRetryTime: 200 },
        logLevel: logLevel.ERROR,
        logCreator: () => (entry) => void log.push(entry),
      });
      return { kafka, log };
    }

    /** One message sent through the services' idempotent producer (rejects when refused). */
    async function produce(kafka: Kafka, to: string, value: string): Promise<void> {
      const producer = await createMessageProducer(kafka);
      try {
        await producer.send(to, [{ key: null, value }]);
      } finally {
        await producer.disconnect();
      }
    }

    /** The first `n` records of a topic, read in `group` (rejects with the consumer's crash). */
    async function consume(kafka: Kafka, from: string, group: string, n = 1): Promise<string[]> {
      // a refusal crashes the consumer; it must not restart itself
      const consumer = kafka.consumer({ groupId: group, retry: { restartOnFailure: async () => false } });
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

    /** What the broker answered when `attempt` was refused: its error codes, and what kafkajs logged. */
    async function refusal(
      attempt: (kafka: Kafka) => Promise<unknown>,
      user: string,
    ): Promise<{ types: string[]; logged: string[] }> {
      const { kafka, log } = probeClient(user);
      try {
        await attempt(kafka);
      } catch (err) {
        return {
          types: errorTypes(err as KafkaErrorLike),
          logged: log.map((e) => `${e.log.message}: ${String(e.log.error ?? '')}`),
        };
      }
      return assert.fail(`${user} was allowed`);
    }

    async function ensureTopicsAndAcls(): Promise<string> {
      const { stdout } = await execFileAsync(
        process.execPath,
        ['bin/harvester.js', 'topics', 'ensure', '--acls', '--prefix', prefix, '--partitions', '1'],
        { env: { ...process.env, ...kafkaEnv(ADMIN.user, ADMIN.password) } },
      );
      return stdout;
    }

    before(async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'fh-acl-stack-'));
      const [kafka, controller, saslSsl, registry, postgres] = await freePorts(5);
      stackEnv = {
        FH_STACK_DIR: dir,
        FH_KAFKA_PORT: String(kafka),
        FH_KAFKA_CONTROLLER_PORT: String(controller),
        FH_KAFKA_SASL_SSL_PORT: String(saslSsl),
        FH_KAFKA_ACL: '1',
        FH_KAFKA_SCRAM: '0',
        FH_KAFKA_TLS: '0',
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
      await ensureTopicsAndAcls();
    });
    after(() => cleanup.run());

    it('harvester topics ensure --acls writes exactly the catalog grants, and again changes nothing', async () => {
      await ensureTopicsAndAcls();
      const settings = loadConfig(z.object(topicProvisioningEnvShape), { KAFKA_TOPIC_PREFIX: prefix });
      const expected = aclGrants(withTopicDefaults({ KAFKA_TOPIC_PREFIX: prefix }), settings).flatMap((g) =>
        g.operations.map((op) => `${g.principal} ${op} ${g.resource}:${g.name}${g.prefixed ? '*' : ''}`),
      );
      const admin = probeClient(ADMIN.user, ADMIN.password).kafka.admin();
      await admin.connect();
      try {
        const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = (
          await import('kafkajs')
        ).default;
        const { resources } = await admin.describeAcls({
          resourceType: AclResourceTypes.ANY,
          resourcePatternType: ResourcePatternTypes.ANY,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        });
        const opName = Object.fromEntries(Object.entries(AclOperationTypes).map(([k, v]) => [v, k]));
        const written = resources.flatMap((r) =>
          r.acls.map(
            (a) =>
              `${a.principal.replace(/^User:/, '')} ${String(opName[a.operation]).toLowerCase()} ` +
              `${r.resourceType === AclResourceTypes.TOPIC ? 'topic' : 'group'}:${r.resourceName}` +
              `${r.resourcePatternType === ResourcePatternTypes.PREFIXED ? '*' : ''}`,
          ),
        );
        assert.deepEqual([...written].sort(), [...new Set(expected)].sort());
      } finally {
        await admin.disconnect();
      }
    });

    it('the hl7-gateway and the report-labeler run as their own principals: HL7 over MLLP in, ReportLabel out to the pseudo-labeler', async () => {
      const shared = await getTestStack();
      const db = await createTestSchema(shared, 'acl');
      cleanup.add(() => db.drop());
      await migrateDatabase({ database: shared.databaseUrl, schema: db.schema });
      await registerEventSchemas(createSchemaRegistry({ url: shared.schemaRegistryUrl }), {
        ReportLabel: topic('labels.report'),
        DicomArrived: topic('dicom.arrived'),
      });
      const logDir = await mkdtemp(path.join(tmpdir(), 'fh-acl-logs-'));
      cleanup.add(() => rm(logDir, { recursive: true, force: true }));
      const [mllp, gatewayHttp] = (await freePorts(2)) as [number, number];
      const common = {
        KAFKA_TOPIC_PREFIX: prefix,
        // topics are the operator's (topics ensure); a service principal may not create them
        KAFKA_CREATE_TOPICS: 'false',
        SCHEMA_REGISTRY_URL: shared.schemaRegistryUrl,
        PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
      };
      const gateway = new ServiceProcess(
        'hl7-gateway',
        {
          ...kafkaEnv('hl7-gateway'),
          ...common,
          HL7_GATEWAY_TOPIC: topic('hl7.oru.raw'),
          HL7_GATEWAY_PORT: String(mllp),
          HL7_GATEWAY_HOST: '127.0.0.1',
          HL7_GATEWAY_HTTP_PORT: String(gatewayHttp),
        },
        path.join(logDir, 'hl7-gateway.log'),
      );
      const labeler = new ServiceProcess(
        'report-labeler',
        {
          ...kafkaEnv('report-labeler'),
          ...common,
          DATABASE_URL: withSearchPath(shared.databaseUrl, db.schema),
          REPORT_LABELER_HTTP_PORT: '0',
        },
        path.join(logDir, 'report-labeler.log'),
      );
      cleanup.add(() => gateway.close());
      cleanup.add(() => labeler.close());
      gateway.start();
      labeler.start();
      await waitForHealthy(gatewayHttp, 'hl7-gateway', 120_000);
      const delivery = await deliverHl7(
        mllp,
        buildOruMessage({
          messageControlId: 'ACL-1',
          accession: 'ACC-ACL-1',
          status: 'F',
          text: 'No rib fracture.',
        }),
      );
      assert.equal(delivery.attempts, 1, 'the gateway acknowledged the message once it was on Kafka');
      await waitFor(
        'the message labelled',
        async () =>
          (await db.pool.query("SELECT 1 FROM hl7_message_ledger WHERE outcome = 'stored'")).rowCount === 1,
        120_000,
      );
      // the pseudo-labeler principal reads the label in its own group
      const labels = await consume(serviceClient('pseudo-labeler'), topic('labels.report'), 'pseudo-labeler');
      assert.equal(labels.length, 1);
      assert.ok(gateway.running && labeler.running, 'both ran without an authorization error');
      // their consumer group is free again for the checks below
      await Promise.all([gateway.close(), labeler.close()]);
    });

    it('the dicom-gateway runs as its own principal: a C-STORE announced on dicom.arrived, read by the pseudo-labeler principal', async () => {
      const shared = await getTestStack();
      const cohort = await writeTestCohort(1, 'kafka-acls');
      cleanup.add(() => removeCohort(cohort));
      const image = cohort.images[0]!;
      const [dicomPort, gatewayHttp] = (await freePorts(2)) as [number, number];
      const logFile = path.join(cohort.dir, 'dicom-gateway.log');
      const gateway = new ServiceProcess(
        'dicom-gateway',
        {
          ...kafkaEnv('dicom-gateway'),
          KAFKA_TOPIC_PREFIX: prefix,
          KAFKA_CREATE_TOPICS: 'false',
          SCHEMA_REGISTRY_URL: shared.schemaRegistryUrl,
          PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
          DICOM_GATEWAY_TOPIC: topic('dicom.arrived'),
          DICOM_GATEWAY_PORT: String(dicomPort),
          DICOM_GATEWAY_HOST: '127.0.0.1',
          DICOM_GATEWAY_HTTP_PORT: String(gatewayHttp),
          DICOM_GATEWAY_STORE_URI: path.join(cohort.dir, 'store'),
        },
        logFile,
      );
      cleanup.add(() => gateway.close());
      gateway.start();
      await waitForHealthy(gatewayHttp, 'dicom-gateway', 120_000);
      const delivery = await deliverDicom(
        dicomPort,
        path.join(cohort.dir, image.file),
        STORESCU_PROPOSE[image.transferSyntaxUid] ?? [],
      );
      assert.equal(delivery.attempts, 1, 'the gateway answered success once the event was on Kafka');
      const arrivals = await consume(
        serviceClient('pseudo-labeler'),
        topic('dicom.arrived'),
        'pseudo-labeler',
      );
      assert.equal(arrivals.length, 1);
      assert.ok(gateway.running, 'it ran without an authorization error');
      await gateway.close();
    });

    it('each other principal produces and consumes its own topics in its own groups; the operator reads a dead-letter topic', async () => {
      await produce(serviceClient('distill-scheduler'), topic('distill.jobs'), 'job');
      assert.deepEqual(
        await consume(serviceClient('distill-worker'), topic('distill.jobs'), 'distill-worker'),
        ['job'],
      );
      await produce(serviceClient('distill-worker'), topic('models.released'), 'release');
      assert.deepEqual(
        await consume(
          serviceClient('pseudo-labeler'),
          topic('models.released'),
          'pseudo-labeler-releases-h-1-a',
        ),
        ['release'],
      );
      await produce(serviceClient('pseudo-labeler'), topic('labels.pseudo'), 'pseudo label');
      await produce(serviceClient('pseudo-labeler'), topic('dicom.arrived.dlq'), 'dead arrival');
      await produce(serviceClient('report-labeler'), topic('hl7.oru.raw.dlq'), 'dead letter');
      const operator = serviceClient('operator');
      assert.deepEqual(await consume(operator, topic('hl7.oru.raw.dlq'), 'operator-review'), ['dead letter']);
      assert.deepEqual(await consume(operator, topic('labels.pseudo'), 'operator-review'), ['pseudo label']);
    });

    it("a service principal cannot read another service's input, a DLQ, or write a topic it does not own", async () => {
      const read = (from: string, group: string) => (kafka: Kafka) => consume(kafka, topic(from), group);
      const write = (to: string) => (kafka: Kafka) => produce(kafka, topic(to), 'x');
      const refusedByTopic: Array<[string, string, (kafka: Kafka) => Promise<unknown>]> = [
        // another service's input
        ['report-labeler', 'read dicom.arrived', read('dicom.arrived', 'report-labeler')],
        ['pseudo-labeler', 'read hl7.oru.raw', read('hl7.oru.raw', 'pseudo-labeler')],
        // dead-letter topics, even the one the service writes itself
        ['report-labeler', 'read its own DLQ', read('hl7.oru.raw.dlq', 'report-labeler')],
        ['pseudo-labeler', 'read its own DLQ', read('dicom.arrived.dlq', 'pseudo-labeler')],
        ['distill-worker', 'read a DLQ', read('labels.report.dlq', 'distill-worker')],
        // topics it does not own
        ['report-labeler', 'write dicom.arrived', write('dicom.arrived')],
        ['hl7-gateway', 'write labels.report', write('labels.report')],
        ['report-labeler', 'write its own input', write('hl7.oru.raw')],
      ];
      for (const [user, what, attempt] of refusedByTopic) {
        const { types } = await refusal(attempt, user);
        assert.ok(types.includes('TOPIC_AUTHORIZATION_FAILED'), `${user} ${what}: ${types.join(', ')}`);
      }
      // its own input, but another service's consumer group: refused by the group coordinator
      // lookup, which kafkajs reports as "coordinator not found" and logs with the broker's answer
      const group = await refusal(read('hl7.oru.raw', 'pseudo-labeler'), 'report-labeler');
      assert.ok(
        group.logged.some((l) => /GroupCoordinator.*Group authorization failed/.test(l)),
        `group refused: ${group.logged.join(' | ')}`,
      );
    });

    it('a wrong password and a wrong CA are refused', async () => {
      const listTopics = async (kafka: Kafka) => {
        const admin = kafka.admin();
        try {
          await admin.connect();
          return await admin.listTopics();
        } finally {
          await admin.disconnect();
        }
      };
      assert.ok((await listTopics(probeClient('operator').kafka)).includes(topic('hl7.oru.raw.dlq')));
      await assert.rejects(
        listTopics(probeClient('operator', 'not-the-password').kafka),
        (err: KafkaErrorLike) => {
          assert.equal(err.name, 'KafkaJSSASLAuthenticationError');
          assert.match(err.message, /Authentication failed during authentication due to invalid credentials/);
          return true;
        },
      );
      await assert.rejects(
        listTopics(probeClient('operator', undefined, wrongCaFile).kafka),
        (err: KafkaErrorLike) => {
          const codes = [err, err.cause, err.originalError].map(
            (e) => (e as { code?: string } | undefined)?.code,
          );
          assert.ok(
            codes.some((c) => c === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || c === 'SELF_SIGNED_CERT_IN_CHAIN'),
            `a certificate verification error: ${err.name} ${err.message} ${codes.join(',')}`,
          );
          return true;
        },
      );
    });
  },
);
