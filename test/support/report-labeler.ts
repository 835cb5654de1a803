import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import type pg from 'pg';
import { migrateDatabase } from '../../services/shared/db/migrate.ts';
import { createSchemaRegistry, registerEventSchemas } from '../../services/shared/events/registry.ts';
import { createLogger } from '../../services/shared/observability/logger.ts';
import { loadReportLabelerConfig, type ReportLabelerConfig } from '../../services/report-labeler/config.ts';
import type { ReportLabelEvent } from '../../services/shared/events/report-label-event.ts';
import { startReportLabeler, type RunningReportLabeler } from '../../services/report-labeler/service.ts';
import { Cleanup } from './cleanup.ts';
import { createTestKafka, createTestProducer, createTopics } from './kafka.ts';
import { uniqueTopicName } from './names.ts';
import { createTestSchema, type TestSchema } from './postgres.ts';
import { getTestStack, type TestStack } from './stack.ts';

export const TEST_HMAC_KEY = 'integration-test-hmac-key-0123456789abcdef';

export interface DeadLetterSeen {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Everything a report-labeler integration test needs on the real stack: its own input, output and
 * DLQ topics, consumer group, Postgres schema (migrated) and registry subject, plus collectors of
 * what the labeler publishes.
 */
export class ReportLabelerHarness {
  readonly cleanup = new Cleanup();
  readonly events: ReportLabelEvent[] = [];
  readonly deadLetters: DeadLetterSeen[] = [];
  readonly input = uniqueTopicName('hl7.oru.raw');
  readonly output = uniqueTopicName('labels.report');
  readonly groupId = uniqueTopicName('report-labeler');
  stack!: TestStack;
  kafka!: Kafka;
  db!: TestSchema;
  private collector: Consumer | undefined;

  get dlq(): string {
    return `${this.input}.dlq`;
  }

  get pool(): pg.Pool {
    return this.db.pool;
  }

  async setUp(partitions = 1): Promise<void> {
    this.stack = await getTestStack();
    this.kafka = createTestKafka(this.stack);
    this.db = await createTestSchema(this.stack, 'labeler');
    this.cleanup.add(() => this.db.drop());
    await migrateDatabase({ database: this.stack.databaseUrl, schema: this.db.schema });
    const registry = createSchemaRegistry({ url: this.stack.schemaRegistryUrl });
    await registerEventSchemas(registry, { ReportLabel: this.output });
    this.cleanup.add(
      await createTopics(this.kafka, [
        { topic: this.input, numPartitions: partitions },
        { topic: this.output },
        { topic: this.dlq },
      ]),
    );
    const collector = this.kafka.consumer({ groupId: uniqueTopicName('collector') });
    this.collector = collector;
    await collector.connect();
    this.cleanup.add(() => collector.disconnect());
    await collector.subscribe({ topics: [this.output, this.dlq], fromBeginning: true });
    await collector.run({
      eachMessage: async ({ topic, message }) => {
        if (topic === this.output) {
          this.events.push((await registry.decode(message.value!)) as ReportLabelEvent);
        } else {
          this.deadLetters.push({
            key: message.key?.toString() ?? null,
            value: message.value,
            headers: stringHeaders(message.headers ?? {}),
          });
        }
      },
    });
  }

  config(overrides: Record<string, string> = {}): ReportLabelerConfig {
    return loadReportLabelerConfig({
      KAFKA_BROKERS: this.stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: this.stack.schemaRegistryUrl,
      DATABASE_URL: this.stack.databaseUrl,
      PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
      REPORT_LABELER_GROUP_ID: this.groupId,
      REPORT_LABELER_INPUT_TOPIC: this.input,
      REPORT_LABELER_OUTPUT_TOPIC: this.output,
      REPORT_LABELER_HTTP_PORT: '0',
      REPORT_LABELER_HTTP_HOST: '127.0.0.1',
      REPORT_LABELER_RETRY_INITIAL_MS: '100',
      REPORT_LABELER_RETRY_MAX_MS: '1000',
      LOG_LEVEL: 'warn',
      ...overrides,
    });
  }

  /** Starts a labeler on this harness's topics and schema; stopped at clean-up if still running. */
  async startLabeler(
    overrides: Record<string, string> = {},
    pool: pg.Pool = this.pool,
  ): Promise<RunningReportLabeler> {
    const labeler = await startReportLabeler(
      this.config(overrides),
      createLogger('report-labeler-test', 'warn'),
      {
        pool,
      },
    );
    this.cleanup.add(() => labeler.stop());
    return labeler;
  }

  async produce(messages: Array<{ key?: string | null; value: string | Buffer }>): Promise<void> {
    const producer = createTestProducer(this.kafka);
    await producer.connect();
    try {
      await producer.send({
        topic: this.input,
        acks: -1,
        messages: messages.map((m) => ({ key: m.key ?? null, value: m.value })),
      });
    } finally {
      await producer.disconnect();
    }
  }

  async ledgerCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM hl7_message_ledger');
    return Number(rows[0]!.n);
  }

  async tearDown(): Promise<void> {
    await this.cleanup.run();
  }
}

function stringHeaders(headers: IHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k] = (Array.isArray(v) ? v[v.length - 1] : v)!.toString();
  }
  return out;
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs` (a hang guard, not a timing assertion). */
export async function waitFor(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
