import type { Server } from 'node:http';
import type pg from 'pg';
import { consumerSettingsFromEnv } from '../shared/config/common-env.ts';
import { EventEncoder } from '../shared/events/encoder.ts';
import { DlqPublisher } from '../shared/kafka/dlq.ts';
import { createMessageProducer, type MessageProducer } from '../shared/kafka/producer.ts';
import { provisionTopics } from '../shared/kafka/provision-topics.ts';
import { startHttpServer } from '../shared/observability/http-server.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { ServiceHealth } from '../shared/observability/service-health.ts';
import { listeningPort, openServiceConnections } from '../shared/runtime/service-connections.ts';
import { checkDatabaseReady, checkEventSchemas } from '../shared/runtime/startup-checks.ts';
import { reportExtraction } from './extraction.ts';
import { BatchProcessor } from './batch-processor.ts';
import { reportLabelerTopics, type ReportLabelerConfig } from './config.ts';
import { ReportLabelerConsumer } from './kafka-consumer.ts';
import { createReportLabelerMetrics, type ReportLabelerMetrics } from './metrics.ts';
import type { ReportLabelEvent } from '../shared/events/report-label-event.ts';

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
  /** Gives up waiting for topics during start-up (the service is being stopped). */
  signal?: AbortSignal;
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
  const health = new ServiceHealth();
  let server: Server | undefined;
  let producer: MessageProducer | undefined;
  let consumer: ReportLabelerConsumer | undefined;
  try {
    // /health answers from the start: 'starting' while waiting for Kafka or for topics
    server = await startHttpServer(
      config.REPORT_LABELER_HTTP_PORT,
      config.REPORT_LABELER_HTTP_HOST,
      () => health.current(),
      metrics.registry,
    );
    const encoder = new EventEncoder<ReportLabelEvent>(
      registry,
      'ReportLabel',
      config.REPORT_LABELER_OUTPUT_TOPIC,
    );
    health.starting('checking the database and the schema registry');
    await checkDatabaseReady(
      pool,
      ['reports', 'report_versions', 'report_labels', 'hl7_message_ledger'],
      logger,
    );
    await checkEventSchemas([encoder], logger);
    await provisionTopics(kafka, reportLabelerTopics(config), config, logger, {
      onWaiting: (missing) => health.starting(`waiting for topics: ${missing.join(', ')}`),
      signal: overrides.signal,
    });
    producer = await createMessageProducer(kafka);
    const processor = new BatchProcessor({
      extraction: reportExtraction({
        hmacKey: config.PATIENT_ID_HMAC_KEY,
        maxMessageBytes: config.REPORT_LABELER_MAX_MESSAGE_BYTES,
        maxReportChars: config.REPORT_LABELER_MAX_REPORT_CHARS,
      }),
      pool,
      encoder,
      producer,
      dlq: new DlqPublisher(producer),
      outputTopic: config.REPORT_LABELER_OUTPUT_TOPIC,
      metrics,
      logger,
    });
    consumer = new ReportLabelerConsumer(
      kafka,
      consumerSettingsFromEnv(config, 'REPORT_LABELER', [config.REPORT_LABELER_INPUT_TOPIC]),
      processor,
      metrics,
      logger,
    );
    const running = consumer;
    health.started(() => running.health());
    await consumer.start();
  } catch (err) {
    server?.close();
    await consumer?.stop().catch(() => {});
    await producer?.disconnect().catch(() => {});
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
        await consumer!.stop();
        await producer!.disconnect();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
        if (ownPool) await pool.end();
        logger.info('report-labeler stopped');
      })();
      return stopping;
    },
  };
}
