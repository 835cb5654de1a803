import type { Server } from 'node:http';
import type { Kafka } from 'kafkajs';
import { createKafka } from '../shared/kafka/client.ts';
import { CoalescingPublisher } from '../shared/kafka/coalescing-publisher.ts';
import { kafkaConnectionFromEnv } from '../shared/kafka/config.ts';
import { createMessageProducer } from '../shared/kafka/producer.ts';
import { provisionTopics } from '../shared/kafka/provision-topics.ts';
import { listenerSecurity } from '../shared/network/tls-files.ts';
import { startHttpServer, type HealthState } from '../shared/observability/http-server.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { listeningPort } from '../shared/runtime/service-connections.ts';
import type { Hl7GatewayConfig } from './config.ts';
import { parseAcceptedTypes } from './intake.ts';
import { MessageHandler, type RawPublisher } from './message-handler.ts';
import { createHl7GatewayMetrics, type Hl7GatewayMetrics } from './metrics.ts';
import { MllpListener } from './mllp-listener.ts';

export interface RunningHl7Gateway {
  /** The MLLP port (useful when configured as 0). */
  mllpPort: number;
  httpPort: number;
  metrics: Hl7GatewayMetrics;
  stop(): Promise<void>;
}

/**
 * The topics the gateway writes, created when missing (one function, so a deployment-wide topic
 * catalogue can take over: the gateway only needs its output topic to exist).
 */
export async function ensureGatewayTopics(
  kafka: Kafka,
  config: Hl7GatewayConfig,
  logger: Logger,
  signal?: AbortSignal,
): Promise<void> {
  await provisionTopics(kafka, [{ id: 'hl7.oru.raw', name: config.HL7_GATEWAY_TOPIC }], config, logger, {
    signal,
  });
}

/** Starts `harvester run hl7-gateway`: Kafka producer, MLLP listener, /health and /metrics. */
export async function startHl7Gateway(
  config: Hl7GatewayConfig,
  logger: Logger,
  overrides: { publisher?: RawPublisher; signal?: AbortSignal } = {},
): Promise<RunningHl7Gateway> {
  const metrics = createHl7GatewayMetrics();
  const { allowList, tls } = listenerSecurity('HL7_GATEWAY', {
    allowedPeers: config.HL7_GATEWAY_ALLOWED_PEERS,
    cert: config.HL7_GATEWAY_TLS_CERT_FILE,
    key: config.HL7_GATEWAY_TLS_KEY_FILE,
    ca: config.HL7_GATEWAY_TLS_CA_FILE,
  });
  let producer: Awaited<ReturnType<typeof createMessageProducer>> | undefined;
  let publisher = overrides.publisher;
  if (!publisher) {
    const kafka = createKafka(kafkaConnectionFromEnv(config), logger);
    await ensureGatewayTopics(kafka, config, logger, overrides.signal);
    producer = await createMessageProducer(kafka);
    publisher = new CoalescingPublisher(producer, config.HL7_GATEWAY_TOPIC);
  }
  let lastFailure: { at: number; why: string } | undefined;
  const tracked: RawPublisher = {
    publish: async (messages, signal) => {
      try {
        await publisher.publish(messages, signal);
        lastFailure = undefined;
      } catch (err) {
        lastFailure = { at: Date.now(), why: (err as Error).message };
        throw err;
      }
    },
  };
  const handler = new MessageHandler(
    {
      acceptedTypes: parseAcceptedTypes(config.HL7_GATEWAY_ACCEPTED_TYPES),
      maxMessageBytes: config.HL7_GATEWAY_MAX_MESSAGE_BYTES,
    },
    tracked,
    config.HL7_GATEWAY_PUBLISH_TIMEOUT_MS,
    metrics,
    logger,
  );
  const listener = new MllpListener(
    {
      host: config.HL7_GATEWAY_HOST,
      port: config.HL7_GATEWAY_PORT,
      // the framer's limit: frames over it are discarded as they stream in, then refused
      maxMessageBytes: config.HL7_GATEWAY_MAX_MESSAGE_BYTES,
      maxConnections: config.HL7_GATEWAY_MAX_CONNECTIONS,
      idleTimeoutMs: config.HL7_GATEWAY_IDLE_TIMEOUT_MS,
      allowList,
      tls,
    },
    handler,
    metrics,
    logger,
  );
  let state: HealthState['status'] = 'starting';
  const health = (): HealthState =>
    lastFailure
      ? { status: 'degraded', detail: `Kafka did not acknowledge: ${lastFailure.why}`.slice(0, 200) }
      : { status: state };
  let server: Server | undefined;
  let mllpPort: number;
  try {
    server = await startHttpServer(
      config.HL7_GATEWAY_HTTP_PORT,
      config.HL7_GATEWAY_HTTP_HOST,
      health,
      metrics.registry,
    );
    mllpPort = await listener.start();
  } catch (err) {
    server?.close();
    await producer?.disconnect().catch(() => {});
    throw err;
  }
  state = 'ok';
  const httpPort = listeningPort(server, config.HL7_GATEWAY_HTTP_PORT);
  logger.info(
    {
      mllpPort,
      httpPort,
      topic: config.HL7_GATEWAY_TOPIC,
      tls: tls ? (tls.ca ? 'mutual' : 'server') : 'off',
      allowedPeers: allowList.entries.length || 'any',
    },
    'hl7-gateway started',
  );
  let stopping: Promise<void> | undefined;
  return {
    mllpPort,
    httpPort,
    metrics,
    stop() {
      stopping ??= (async () => {
        state = 'stopped';
        await listener.stop();
        await producer?.disconnect();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
        logger.info('hl7-gateway stopped');
      })();
      return stopping;
    },
  };
}
