import type { Server } from 'node:http';
import type pg from 'pg';
import { consumerSettingsFromEnv } from '../shared/config/common-env.ts';
import { EventEncoder } from '../shared/events/encoder.ts';
import { parseOruMessage } from '../shared/hl7/index.ts';
import { DlqPublisher, dlqTopicFor } from '../shared/kafka/dlq.ts';
import { ensureTopics } from '../shared/kafka/topics.ts';
import { createMessageProducer } from '../shared/kafka/producer.ts';
import { startHttpServer } from '../shared/observability/http-server.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { listeningPort, openServiceConnections } from '../shared/runtime/service-connections.ts';
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
  const { pool, ownPool, kafka, registry } = openServiceConnections(
    config,
    'report-labeler',
    logger,
    overrides.pool,
  );
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
    consumerSettingsFromEnv(config, 'REPORT_LABELER', [config.REPORT_LABELER_INPUT_TOPIC]),
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
  const httpPort = listeningPort(server, config.REPORT_LABELER_HTTP_PORT);
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
