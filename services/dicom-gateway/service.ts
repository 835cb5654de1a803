import type { Server as HttpServer } from 'node:http';
import type { Server, Socket } from 'node:net';
import dimse from 'dcmjs-dimse';
import type { Kafka } from 'kafkajs';
import { EventEncoder } from '../shared/events/encoder.ts';
import type { DicomArrivedEvent } from '../shared/events/dicom-arrived.ts';
import { schemaRegistryFromEnv } from '../shared/events/registry.ts';
import { createKafka } from '../shared/kafka/client.ts';
import { CoalescingPublisher } from '../shared/kafka/coalescing-publisher.ts';
import { kafkaConnectionFromEnv } from '../shared/kafka/config.ts';
import { createMessageProducer } from '../shared/kafka/producer.ts';
import { provisionTopics } from '../shared/kafka/provision-topics.ts';
import { createListeningServer, listenerSecurity } from '../shared/network/tls-files.ts';
import { startHttpServer, type HealthState } from '../shared/observability/http-server.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { listeningPort } from '../shared/runtime/service-connections.ts';
import { withTimeout } from '../shared/runtime/with-timeout.ts';
import type { DicomGatewayConfig } from './config.ts';
import { InstanceIngest, type ArrivalPublisher } from './ingest.ts';
import { FileInstanceStore, type InstanceStore } from './instance-store.ts';
import { S3InstanceStore } from './s3-instance-store.ts';
import { createDicomGatewayMetrics, type DicomGatewayMetrics } from './metrics.ts';
import { gatewayScpClass } from './scp.ts';
import { ExpectedError } from '../shared/errors.ts';

export interface RunningDicomGateway {
  dicomPort: number;
  httpPort: number;
  store: InstanceStore;
  metrics: DicomGatewayMetrics;
  stop(): Promise<void>;
}

/**
 * The topics the gateway writes, created when missing (one function, so a deployment-wide topic
 * catalogue can take over: the gateway only needs its output topic to exist).
 */
export async function ensureGatewayTopics(
  kafka: Kafka,
  config: DicomGatewayConfig,
  logger: Logger,
  signal?: AbortSignal,
): Promise<void> {
  await provisionTopics(kafka, [{ id: 'dicom.arrived', name: config.DICOM_GATEWAY_TOPIC }], config, logger, {
    signal,
  });
}

/** The image store DICOM_GATEWAY_STORE_URI names: a folder, or an S3 bucket and prefix. */
export function openInstanceStore(config: DicomGatewayConfig): InstanceStore {
  const uri = config.DICOM_GATEWAY_STORE_URI;
  if (config.s3) return S3InstanceStore.fromUri(uri, config.s3, config.DICOM_GATEWAY_SPOOL_DIR);
  return FileInstanceStore.fromUri(uri);
}

/** Starts `harvester run dicom-gateway`: image store, Kafka producer, C-STORE/C-ECHO SCP, /health and /metrics. */
export async function startDicomGateway(
  config: DicomGatewayConfig,
  logger: Logger,
  overrides: { signal?: AbortSignal } = {},
): Promise<RunningDicomGateway> {
  // dcmjs-dimse logs every request at info through loglevel; its warnings and errors are enough
  dimse.log.setLevel(process.env.LOG_LEVEL === 'debug' ? 'info' : 'warn');
  const metrics = createDicomGatewayMetrics();
  const { allowList, tls: tlsFiles } = listenerSecurity('DICOM_GATEWAY', {
    allowedPeers: config.DICOM_GATEWAY_ALLOWED_PEERS,
    cert: config.DICOM_GATEWAY_TLS_CERT_FILE,
    key: config.DICOM_GATEWAY_TLS_KEY_FILE,
    ca: config.DICOM_GATEWAY_TLS_CA_FILE,
  });
  const store = openInstanceStore(config);
  try {
    await store.prepare();
  } catch (err) {
    // a bucket that is missing or refuses these credentials: one clear line, not a stack
    throw new ExpectedError(`cannot start: image store: ${(err as Error).message}`);
  }

  const registry = schemaRegistryFromEnv(config);
  const encoder = new EventEncoder<DicomArrivedEvent>(registry, 'DicomArrived', config.DICOM_GATEWAY_TOPIC);
  try {
    await encoder.ready();
  } catch (err) {
    // a deployment step missed (or the registry unreachable): one clear line, not a stack
    throw new ExpectedError(`cannot start: ${(err as Error).message}`);
  }
  const kafka = createKafka(kafkaConnectionFromEnv(config), logger);
  await ensureGatewayTopics(kafka, config, logger, overrides.signal);
  const producer = await createMessageProducer(kafka);
  const coalescing = new CoalescingPublisher(producer, config.DICOM_GATEWAY_TOPIC);
  let lastFailure: string | undefined;
  const publisher: ArrivalPublisher = {
    publish: async (message) => {
      try {
        await withTimeout(
          (signal) => coalescing.publish([message], signal),
          config.DICOM_GATEWAY_PUBLISH_TIMEOUT_MS,
          () =>
            new Error(`DicomArrived not acknowledged within ${config.DICOM_GATEWAY_PUBLISH_TIMEOUT_MS} ms`),
        );
        lastFailure = undefined;
      } catch (err) {
        lastFailure = (err as Error).message;
        throw err;
      }
    },
  };
  const ingest = new InstanceIngest(
    store,
    {
      modalities: config.DICOM_GATEWAY_MODALITIES,
      bodyParts: config.DICOM_GATEWAY_BODY_PARTS,
      announceWithoutBodyPart: config.DICOM_GATEWAY_ANNOUNCE_WITHOUT_BODY_PART,
    },
    publisher,
    (event) => encoder.encode(event),
    metrics,
    logger,
    config.PATIENT_ID_HMAC_KEY,
  );
  const ScpClass = gatewayScpClass({
    settings: {
      aeTitle: config.DICOM_GATEWAY_AE_TITLE,
      checkCalledAe: config.DICOM_GATEWAY_CHECK_CALLED_AE,
      allowedCallingAeTitles: config.DICOM_GATEWAY_ALLOWED_CALLING_AE_TITLES,
      maxPduLength: 262_144,
    },
    store,
    ingest,
    metrics,
    logger,
  });

  const sockets = new Set<Socket>();
  const onConnection = (socket: Socket) => {
    if (!allowList.allows(socket.remoteAddress)) {
      metrics.associationsRejected.inc({ reason: 'peer-not-allowed' });
      logger.warn(
        { peer: socket.remoteAddress },
        'connection from a peer not in DICOM_GATEWAY_ALLOWED_PEERS refused',
      );
      socket.destroy();
      return;
    }
    if (sockets.size >= config.DICOM_GATEWAY_MAX_ASSOCIATIONS) {
      metrics.associationsRejected.inc({ reason: 'too-many' });
      logger.warn({ open: sockets.size }, 'connection refused: DICOM_GATEWAY_MAX_ASSOCIATIONS reached');
      socket.destroy();
      return;
    }
    sockets.add(socket);
    metrics.associations.set(sockets.size);
    socket.on('close', () => {
      sockets.delete(socket);
      metrics.associations.set(sockets.size);
    });
    const scp = new ScpClass(socket, { associationTimeout: 60_000, pduTimeout: 120_000 });
    scp.on('networkError', (err: Error) => {
      logger.debug({ err: err.message }, 'association network error');
      socket.end();
    });
  };
  const server: Server = createListeningServer(tlsFiles, onConnection);

  let state: HealthState['status'] = 'starting';
  const health = (): HealthState =>
    lastFailure ? { status: 'degraded', detail: lastFailure.slice(0, 200) } : { status: state };
  let http: HttpServer | undefined;
  try {
    http = await startHttpServer(
      config.DICOM_GATEWAY_HTTP_PORT,
      config.DICOM_GATEWAY_HTTP_HOST,
      health,
      metrics.registry,
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.DICOM_GATEWAY_PORT, config.DICOM_GATEWAY_HOST, () => resolve());
    });
  } catch (err) {
    http?.close();
    await producer.disconnect().catch(() => {});
    throw err;
  }
  state = 'ok';
  const dicomPort = listeningPort(server as unknown as HttpServer, config.DICOM_GATEWAY_PORT);
  const httpPort = listeningPort(http, config.DICOM_GATEWAY_HTTP_PORT);
  logger.info(
    {
      dicomPort,
      httpPort,
      aeTitle: config.DICOM_GATEWAY_AE_TITLE,
      topic: config.DICOM_GATEWAY_TOPIC,
      store: config.DICOM_GATEWAY_STORE_URI,
      tls: tlsFiles ? (tlsFiles.ca ? 'mutual' : 'server') : 'off',
    },
    'dicom-gateway started',
  );
  let stopping: Promise<void> | undefined;
  return {
    dicomPort,
    httpPort,
    store,
    metrics,
    stop() {
      stopping ??= (async () => {
        state = 'stopped';
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // let associations finish their current instance (senders release after their last response)
        const deadline = Date.now() + 10_000;
        while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        for (const s of sockets) s.destroy();
        await closed;
        await producer.disconnect();
        await new Promise<void>((resolve) => http!.close(() => resolve()));
        logger.info('dicom-gateway stopped');
      })();
      return stopping;
    },
  };
}
