import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { z } from 'zod';
import { createLogger } from '../../services/shared/observability/logger.ts';
import { provisionTopics } from '../../services/shared/kafka/provision-topics.ts';
import { topicProvisioningEnvShape } from '../../services/shared/kafka/system-topics.ts';
import {
  Cleanup,
  createTestKafka,
  freshDeployment,
  getTestStack,
  runHarvester,
  type FreshDeployment,
  type TestStack,
} from '../support/index.ts';
import { buildOruMessage } from '../support/hl7-builder.ts';
import { TEST_HMAC_KEY, waitFor } from '../support/report-labeler.ts';
import { ServiceProcess } from '../support/service-process.ts';

/**
 * Topics as a production deployment meets them: services create the topics they use with the
 * configured partitions; where an administrator owns topics (KAFKA_CREATE_TOPICS=false) a service
 * waits, saying which are missing, on /health and in its log, until `harvester topics ensure`
 * creates them, and then works; start-up problems end in one line saying what to fix.
 */

const logger = createLogger('topic-provisioning-test', 'silent');

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const harvester = runHarvester;

describe('topic provisioning on the real broker', () => {
  const cleanup = new Cleanup();
  let fresh: FreshDeployment;
  let prefix: string;
  let stack: TestStack;
  let kafka: Kafka;

  before(async () => {
    stack = await getTestStack();
    kafka = createTestKafka(stack);
    fresh = await freshDeployment(stack, 'prov', cleanup);
    prefix = fresh.prefix;
  });
  after(() => cleanup.run());

  it('creates what is missing with the configured partitions, one for jobs and releases, and leaves the rest', async () => {
    const settings = z.object(topicProvisioningEnvShape).parse({ KAFKA_TOPIC_PARTITIONS: '3' });
    const topics = [
      { id: 'labels.pseudo' as const, name: `${prefix}a.labels.pseudo` },
      { id: 'models.released' as const, name: `${prefix}a.models.released` },
    ];
    const first = await provisionTopics(kafka, topics, settings, logger);
    assert.deepEqual(first.created.sort(), topics.map((t) => t.name).sort());
    const again = await provisionTopics(kafka, topics, { ...settings, KAFKA_TOPIC_PARTITIONS: 5 }, logger);
    assert.deepEqual(again, { created: [], waitedFor: [] });
    const admin = kafka.admin();
    await admin.connect();
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
    await admin.disconnect();
    assert.deepEqual(Object.fromEntries(meta.map((t) => [t.name, t.partitions.length])), {
      [`${prefix}a.labels.pseudo`]: 3,
      [`${prefix}a.models.released`]: 1,
    });
  });

  it(
    'with KAFKA_CREATE_TOPICS=false a service waits, saying which topics are missing, until an administrator creates them',
    { timeout: 180_000 },
    async () => {
      const port = await freePort();
      const work = await mkdtemp(path.join(tmpdir(), 'fh-prov-'));
      cleanup.add(() => rm(work, { recursive: true, force: true }));
      const db = fresh.pool;
      const env = {
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
        DATABASE_URL: fresh.databaseUrl,
        KAFKA_TOPIC_PREFIX: `${prefix}b.`,
        KAFKA_CREATE_TOPICS: 'false',
        KAFKA_TOPIC_WAIT_LOG_SECONDS: '1',
        KAFKA_TOPIC_PARTITIONS: '2',
        PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
        REPORT_LABELER_HTTP_PORT: String(port),
        REPORT_LABELER_HTTP_HOST: '127.0.0.1',
        REPORT_LABELER_GROUP_ID: `${prefix}b.report-labeler`,
      };
      const t = (id: string) => `${prefix}b.${id}`;

      // a start-up problem ends in one line that says what to fix
      const early = await harvester(['run', 'report-labeler'], env);
      assert.equal(early.code, 1);
      assert.equal(
        early.stderr.trim().split('\n').at(-1),
        'harvester: the database has no reports, report_versions, report_labels, hl7_message_ledger tables: apply the migrations (harvester migrate)',
      );
      assert.equal((await harvester(['migrate'], env)).code, 0);
      assert.equal((await harvester(['schemas', 'register'], env)).code, 0);

      const service = new ServiceProcess('report-labeler', env, path.join(work, 'report-labeler.log'));
      cleanup.add(() => service.close());
      service.start();
      const log = () => (existsSync(service.logFile) ? readFileSync(service.logFile, 'utf8') : '');
      const health = async () => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/health`);
          return { code: res.status, body: (await res.json()) as { status: string; detail?: string } };
        } catch {
          return null;
        }
      };
      const missing = [t('hl7.oru.raw'), t('hl7.oru.raw.dlq'), t('labels.report')];
      await waitFor('the service reports what it waits for', async () => {
        const h = await health();
        return h?.body.detail === `waiting for topics: ${missing.join(', ')}`;
      });
      assert.equal((await health())!.code, 503);
      await waitFor(
        'the wait logged again at the interval',
        () => (log().match(/waiting for topics/g) ?? []).length >= 2,
      );
      assert.ok(
        log().includes(`"missing":${JSON.stringify(missing)}`),
        'the log names exactly the missing topics',
      );
      assert.ok(service.running, 'waiting is not crashing');

      const check = await harvester(['topics', 'ensure', '--check'], env);
      assert.equal(check.code, 1);
      assert.match(check.stderr, /9 topic\(s\) missing/);
      const ensure = await harvester(['topics', 'ensure'], env);
      assert.equal(ensure.code, 0, ensure.stderr);
      for (const id of ['hl7.oru.raw', 'dicom.arrived.dlq', 'distill.jobs', 'models.released'])
        assert.match(
          ensure.stdout,
          new RegExp(`${t(id).replace(/\./g, '\\.')}\\s+created\\s+(2|1)\\s+broker default`),
        );

      await waitFor('healthy once the topics exist', async () => (await health())?.code === 200, 60_000);
      assert.ok(log().includes('the topics waited for exist now'));
      const file = path.join(work, 'one.hl7');
      await writeFile(
        file,
        buildOruMessage({
          accession: 'PROV-1',
          messageControlId: 'PROV-1-F',
          status: 'F',
          text: 'No acute rib fracture.',
        }),
      );
      assert.equal((await harvester(['produce', 'hl7', '--input', file], env)).code, 0);
      await waitFor(
        'the report labelled',
        async () => (await db.query(`SELECT 1 FROM reports WHERE accession = 'PROV-1'`)).rowCount === 1,
      );
      const recheck = await harvester(['topics', 'ensure', '--check'], env);
      assert.equal(recheck.code, 0);
      assert.doesNotMatch(recheck.stdout, /created|missing/);
    },
  );
});
