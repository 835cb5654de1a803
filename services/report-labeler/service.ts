import type { Server } from 'node:http';
import type pg from 'pg';
import { createPool } from '../shared/db/pool.ts';
import { EventEncoder } from '../shared/events/encoder.ts';
import { createSchemaRegistry } from '../shared/events/registry.ts';
import { parseOruMessage } from '../shared/hl7/index.ts';
import { createKafka } from '../shared/kafka/client.ts';
import { kafkaConnectionFromEnv } from '../shared/kafka/config.ts';
import { DlqPublisher, dlqTopicFor } from '../shared/kafka/dlq.ts';
import { ensureTopics } from '../shared/kafka/topics.ts';
import { createMessageProducer } from '../shared/kafka/producer.ts';
import { startHttpServer } from '../shared/observability/http-server.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { isChestRadiograph, labelReport } from '../shared/report-rules/index.ts';
import { BatchProcessor } from './batch-processor.ts';
import type { ReportLabelerConfig } from './config.ts';
import { ReportLabelerConsumer } from './kafka-consumer.ts';
import { createReportLabelerMetrics, type ReportLabelerMetrics } from './metrics.ts';
import type { ReportLabelEvent } from './report-label-event.ts';

export interface RunningReportLabeler {
  /** The port /health and /metrics listen on (useful when configured as 0). */
  httpPort: number;
  metrics: ReportLabelerMetrics;
  /** Rejects if the consumer stops on its own (a crash kafkajs does not restart). */
  stopped: Promise<void>;
  /** Graceful stop: finish and commit the batch in progress, disconnect, close the pool. */
  stop(): Promise<void>;
}

export interface ReportLabelerOverrides {
  /** Use this pool instead of one from DATABASE_URL (tests give one bound to their schema). */
  pool?: pg.Pool;
}

/** Starts `harvester run report-labeler`: HTTP endpoint, producer, consumer group. */
export async function startReportLabeler(
  config: ReportLabelerConfig,
  logger: Logger,
  overrides: ReportLabelerOverrides = {},
): Promise<RunningReportLabeler> {
  const metrics = createReportLabelerMetrics();
  const ownPool = !overrides.pool;
  const pool =
    overrides.pool ??
    createPool(
      {
        url: config.DATABASE_URL,
        maxConnections: config.DATABASE_POOL_SIZE,
        applicationName: 'report-labeler',
      },
      (err) => logger.warn({ err: err.message }, 'idle database connection failed'),
    );
  const kafka = createKafka(kafkaConnectionFromEnv(config), logger);
  const registry = createSchemaRegistry({
    url: config.SCHEMA_REGISTRY_URL,
    username: config.SCHEMA_REGISTRY_USERNAME,
    password: config.SCHEMA_REGISTRY_PASSWORD,
  });
  if (config.REPORT_LABELER_ENSURE_TOPICS) {
    const topics = [
      config.REPORT_LABELER_INPUT_TOPIC,
      config.REPORT_LABELER_OUTPUT_TOPIC,
      dlqTopicFor(config.REPORT_LABELER_INPUT_TOPIC),
    ];
    try {
      const created = await ensureTopics(
        kafka,
        topics.map((topic) => ({ topic, numPartitions: config.REPORT_LABELER_TOPIC_PARTITIONS })),
      );
      if (created.length > 0) logger.info({ created }, 'created missing topics');
    } catch (err) {
      // e.g. no CREATE permission where operators provision topics: they may well exist already
      logger.warn({ err: (err as Error).message, topics }, 'could not ensure topics; continuing');
    }
  }
  const producer = await createMessageProducer(kafka);
  const processor = new BatchProcessor({
    extraction: {
      parseOruMessage,
      isChestRadiograph: (code, text) => isChestRadiograph(code, text),
      labelReport,
      hmacKey: config.PATIENT_ID_HMAC_KEY,
      maxMessageBytes: config.REPORT_LABELER_MAX_MESSAGE_BYTES,
      maxReportChars: config.REPORT_LABELER_MAX_REPORT_CHARS,
    },
    pool,
    encoder: new EventEncoder<ReportLabelEvent>(registry, 'ReportLabel', config.REPORT_LABELER_OUTPUT_TOPIC),
    producer,
    dlq: new DlqPublisher(producer),
    outputTopic: config.REPORT_LABELER_OUTPUT_TOPIC,
    metrics,
    logger,
  });
  const consumer = new ReportLabelerConsumer(
    kafka,
    {
      groupId: config.REPORT_LABELER_GROUP_ID,
      topics: [config.REPORT_LABELER_INPUT_TOPIC],
      fromBeginning: config.REPORT_LABELER_FROM_BEGINNING,
      maxBatchMessages: config.REPORT_LABELER_MAX_BATCH_MESSAGES,
      fetchMaxBytes: config.REPORT_LABELER_FETCH_MAX_BYTES,
      partitionsConsumedConcurrently: config.REPORT_LABELER_PARTITIONS_CONCURRENCY,
      retryInitialMs: config.REPORT_LABELER_RETRY_INITIAL_MS,
      retryMaxMs: config.REPORT_LABELER_RETRY_MAX_MS,
      sessionTimeoutMs: config.REPORT_LABELER_SESSION_TIMEOUT_MS,
    },
    processor,
    metrics,
    logger,
  );
  let server: Server | undefined;
  try {
    server = await startHttpServer(
      config.REPORT_LABELER_HTTP_PORT,
      config.REPORT_LABELER_HTTP_HOST,
      () => consumer.health(),
      metrics.registry,
    );
    await consumer.start();
  } catch (err) {
    server?.close();
    await producer.disconnect().catch(() => {});
    if (ownPool) await pool.end().catch(() => {});
    throw err;
  }
  const address = server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.REPORT_LABELER_HTTP_PORT;
  logger.info(
    { topic: config.REPORT_LABELER_INPUT_TOPIC, groupId: config.REPORT_LABELER_GROUP_ID, httpPort },
    'report-labeler started',
  );

  let stopping: Promise<void> | undefined;
  return {
    httpPort,
    metrics,
    stopped: consumer.stopped,
    stop() {
      stopping ??= (async () => {
        await consumer.stop();
        await producer.disconnect();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
        if (ownPool) await pool.end();
        logger.info('report-labeler stopped');
      })();
      return stopping;
    },
  };
}
