import type { Server } from 'node:http';
import type pg from 'pg';
import { sharpenAALS } from '../shared/aals/index.ts';
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
import { openTrainingStore, type TrainingStore } from '../shared/training-store/training-store.ts';
import { registerServingTeacher } from './serving-teacher.ts';
import { BackPressure } from './back-pressure.ts';
import { processorSettingsFromConfig, pseudoLabelerTopics, type PseudoLabelerConfig } from './config.ts';
import type { PseudoLabelCreatedEvent } from './events.ts';
import { createImageStorage, type ImageStorage } from '../shared/storage/image-storage.ts';
import { PseudoLabelerConsumer } from './kafka-consumer.ts';
import { createPseudoLabelerMetrics, type PseudoLabelerMetrics } from './metrics.ts';
import { MicroBatcher } from './micro-batcher.ts';
import { OnnxTeacher, type Teacher, type TeacherMaps } from '../shared/onnx/teacher.ts';
import { ModelReleaseListener, SwappableTeacher, VersionPinnedProcessor } from './teacher-swap.ts';

export interface RunningPseudoLabeler {
  httpPort: number;
  metrics: PseudoLabelerMetrics;
  teacher: Teacher;
  /** Rejects if the consumer stops on its own. */
  stopped: Promise<void>;
  /** Graceful stop: finish and commit the chunk in progress, disconnect, release the teacher. */
  stop(): Promise<void>;
}

export interface PseudoLabelerOverrides {
  pool?: pg.Pool;
  storage?: ImageStorage;
  teacher?: Teacher;
  trainingStore?: TrainingStore;
  /** Gives up waiting for topics during start-up (the service is being stopped). */
  signal?: AbortSignal;
}

/**
 * Registers the serving teacher now, or, while the database does not answer, every 30 s until it
 * does (an outage at start-up must not stop the service: its chunks wait for the database too).
 */
function registerUntilDone(register: () => Promise<unknown>, logger: Logger): void {
  register().catch((err: Error) => {
    logger.warn({ err: err.message }, 'the serving teacher is not registered yet; retrying in 30 s');
    setTimeout(() => registerUntilDone(register, logger), 30_000).unref();
  });
}

/** Starts `harvester run pseudo-labeler`: teacher, HTTP endpoint, producer, consumer group. */
export async function startPseudoLabeler(
  config: PseudoLabelerConfig,
  logger: Logger,
  overrides: PseudoLabelerOverrides = {},
): Promise<RunningPseudoLabeler> {
  const settings = processorSettingsFromConfig(config);
  sharpenAALS(new Float32Array([0.5]), settings.aals); // fail at start-up, not per image, on bad AALS settings
  const metrics = createPseudoLabelerMetrics();
  const teacher =
    overrides.teacher ??
    (await OnnxTeacher.load({
      modelPath: config.TEACHER_MODEL_PATH,
      version: config.TEACHER_MODEL_VERSION,
      providers: config.TEACHER_EXECUTION_PROVIDERS,
      intraOpThreads: config.TEACHER_INTRA_OP_THREADS,
      fallbackInputSize: config.TEACHER_INPUT_SIZE,
      logger,
    }));
  // every chunk holds one teacher version; models.released swaps it between chunks (teacher-swap.ts)
  const swappable = new SwappableTeacher(teacher);
  const { pool, ownPool, kafka, registry } = openServiceConnections(
    config,
    'pseudo-labeler',
    logger,
    overrides.pool,
  );
  const health = new ServiceHealth();
  const trainingStore = overrides.trainingStore ?? openTrainingStore(config.TRAINING_STORE_URL);
  const encoder = new EventEncoder<PseudoLabelCreatedEvent>(
    registry,
    'PseudoLabelCreated',
    config.PSEUDO_LABELER_OUTPUT_TOPIC,
  );
  let server: Server | undefined;
  let producer: MessageProducer | undefined;
  try {
    // /health answers from the start: 'starting' while waiting for Kafka or for topics
    server = await startHttpServer(
      config.PSEUDO_LABELER_HTTP_PORT,
      config.PSEUDO_LABELER_HTTP_HOST,
      () => health.current(),
      metrics.registry,
    );
    health.starting('checking the training store, the database and the schema registry');
    await trainingStore.prepare();
    await checkDatabaseReady(
      pool,
      ['images', 'study_record_labels', 'pseudo_labels', 'model_versions', 'training_inputs'],
      logger,
    );
    await checkEventSchemas([encoder], logger);
    if (!overrides.teacher)
      registerUntilDone(
        () => registerServingTeacher(pool, teacher, config.TEACHER_MODEL_PATH, logger),
        logger,
      );
    await provisionTopics(kafka, pseudoLabelerTopics(config), config, logger, {
      onWaiting: (missing) => health.starting(`waiting for topics: ${missing.join(', ')}`),
      signal: overrides.signal,
    });
    producer = await createMessageProducer(kafka);
  } catch (err) {
    server?.close();
    if (!overrides.teacher) await teacher.release().catch(() => {});
    if (ownPool) await pool.end().catch(() => {});
    throw err;
  }

  // the batcher's back-pressure hook needs the consumer, which needs the processor built below
  const consumerRef: { current?: PseudoLabelerConsumer } = {};
  const pressure = new BackPressure(config.PSEUDO_LABELER_MAX_QUEUE);
  const batcher = new MicroBatcher<Float32Array, TeacherMaps>((images) => swappable.run(images), {
    maxBatchSize: config.PSEUDO_LABELER_INFERENCE_BATCH_SIZE,
    maxWaitMs: config.PSEUDO_LABELER_INFERENCE_MAX_WAIT_MS,
    onDepth: (depth) => {
      metrics.queueDepth.set(depth);
      const change = pressure.update(depth);
      if (change === 'pause') consumerRef.current?.pause();
      else if (change === 'resume') consumerRef.current?.resume();
    },
    onBatch: (size, seconds) => {
      metrics.inferenceBatchSize.observe(size);
      metrics.inferenceSeconds.observe(seconds);
    },
  });
  const processor = new VersionPinnedProcessor(swappable, {
    settings,
    pool,
    registry,
    encoder,
    producer,
    dlq: new DlqPublisher(producer),
    storage: overrides.storage ?? createImageStorage({ maxBytes: config.PSEUDO_LABELER_MAX_DICOM_BYTES }),
    trainingStore,
    teacher: swappable,
    batcher,
    metrics,
    logger,
  });
  const running = new PseudoLabelerConsumer(
    kafka,
    consumerSettingsFromEnv(config, 'PSEUDO_LABELER', [
      config.PSEUDO_LABELER_DICOM_TOPIC,
      config.PSEUDO_LABELER_LABELS_TOPIC,
    ]),
    processor,
    metrics,
    logger,
  );
  consumerRef.current = running;
  let releases: ModelReleaseListener | undefined;
  try {
    health.started(() => running.health());
    await running.start();
    if (config.TEACHER_HOT_SWAP) {
      releases = new ModelReleaseListener(kafka, registry, swappable, {
        topic: config.TEACHER_RELEASES_TOPIC,
        cacheDir: config.MODEL_CACHE_DIR,
        loadTeacher: (modelPath, version) =>
          OnnxTeacher.load({
            modelPath,
            version,
            providers: config.TEACHER_EXECUTION_PROVIDERS,
            intraOpThreads: config.TEACHER_INTRA_OP_THREADS,
            fallbackInputSize: config.TEACHER_INPUT_SIZE,
            logger,
          }),
        logger,
      });
      await releases.start();
    }
  } catch (err) {
    await releases?.stop().catch(() => {});
    server?.close();
    await producer.disconnect().catch(() => {});
    if (!overrides.teacher) await teacher.release().catch(() => {});
    if (ownPool) await pool.end().catch(() => {});
    throw err;
  }
  const httpPort = listeningPort(server, config.PSEUDO_LABELER_HTTP_PORT);
  logger.info(
    {
      topics: [config.PSEUDO_LABELER_DICOM_TOPIC, config.PSEUDO_LABELER_LABELS_TOPIC],
      groupId: config.PSEUDO_LABELER_GROUP_ID,
      modelVersion: teacher.version,
      provider: teacher.provider,
      httpPort,
    },
    'pseudo-labeler started',
  );
  let stopping: Promise<void> | undefined;
  return {
    httpPort,
    metrics,
    teacher: swappable,
    stopped: running.stopped,
    stop() {
      stopping ??= (async () => {
        await releases?.stop();
        await running.stop();
        await producer!.disconnect();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
        // the teacher serving now: the configured one, or a hot-swapped one (always ours)
        if (!overrides.teacher || swappable.version !== teacher.version) await swappable.release();
        if (ownPool) await pool.end();
        logger.info('pseudo-labeler stopped');
      })();
      return stopping;
    },
  };
}
