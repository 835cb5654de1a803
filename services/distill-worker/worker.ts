import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Consumer, Kafka } from 'kafkajs';
import type pg from 'pg';
import { createPool } from '../shared/db/pool.ts';
import { afterFailedAttempt } from '../shared/distill/index.ts';
import { DistillJobPublisher, type DistillJobRequestedEvent } from '../shared/distill/job-events.ts';
import {
  claimJob,
  completeJob,
  endFailedAttempt,
  heartbeatJob,
  type DistillJobRow,
} from '../shared/distill/job-store.ts';
import { decodeEventWaiting } from '../shared/events/decode-event.ts';
import { schemaRegistryFromEnv } from '../shared/events/registry.ts';
import { createKafka } from '../shared/kafka/client.ts';
import { kafkaConnectionFromEnv } from '../shared/kafka/config.ts';
import { createMessageProducer, type MessageProducer } from '../shared/kafka/producer.ts';
import { provisionTopics } from '../shared/kafka/provision-topics.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { OnnxTeacher } from '../shared/onnx/teacher.ts';
import { distillWorkerTopics, type DistillWorkerConfig } from './config.ts';
import { checkDatabaseReady } from '../shared/runtime/startup-checks.ts';
import { openTrainingStore } from '../shared/training-store/training-store.ts';
import { distillerArgs, RecipeError } from '../shared/distill/distiller-args.ts';
import { clusterAccessFromEnv, KubernetesRunner } from './kubernetes-runner.ts';
import { LocalRunner } from '../shared/distill/local-runner.ts';
import { PromotionGate, type PromotionOutcome } from './promotion.ts';
import type { DistillRunner } from '../shared/distill/runner.ts';

export const DISTILLER_DIR = fileURLToPath(new URL('../distiller', import.meta.url));

export interface JobResult {
  job: DistillJobRow;
  outcome: 'succeeded' | 'retry' | 'failed' | 'lost';
  promotion?: PromotionOutcome;
  error?: string;
}

export interface DistillWorkerDeps {
  pool: pg.Pool;
  registry: SchemaRegistry;
  producer: MessageProducer;
  runner: DistillRunner;
  gate: PromotionGate;
  config: DistillWorkerConfig;
  logger: Logger;
  workerId: string;
  onJobDone?: (result: JobResult) => void;
}

/**
 * Takes jobs from distill.jobs one at a time: claims the row (a duplicate or stale event claims
 * nothing), pauses the consumer, runs the distiller through the runner while heartbeating the
 * lease, records the outcome, gates the model, resumes. The offset is committed once the job is
 * claimed: from then on the row, not Kafka, holds the job (a crash -> lease expiry -> retry).
 */
export class DistillWorker {
  private consumer: Consumer | undefined;
  private current: Promise<JobResult> | undefined;
  private pendingGate: Promise<void> | undefined;
  private gateTimer: NodeJS.Timeout | undefined;
  private readonly stopping = new AbortController();
  private readonly publisher: DistillJobPublisher;

  constructor(private readonly deps: DistillWorkerDeps) {
    this.publisher = new DistillJobPublisher(deps.registry, deps.producer, deps.config.DISTILL_JOBS_TOPIC);
  }

  async start(kafka: Kafka): Promise<void> {
    const { config, logger } = this.deps;
    await this.deps.gate
      .publishPendingReleases()
      .catch((err: Error) => logger.warn({ err: err.message }, 'pending releases not published yet'));
    // candidates left undecided (a crash after training, no held-out set yet) are gated in the background
    const gatePending = () => {
      if (this.current || this.stopping.signal.aborted) return;
      this.pendingGate = this.deps.gate
        .decidePending()
        .then(() => undefined)
        .catch((err: Error) => logger.error({ err: err.message }, 'gating pending candidates failed'));
    };
    gatePending();
    this.gateTimer = setInterval(gatePending, config.DISTILL_GATE_RETRY_SECONDS * 1000);
    const consumer = kafka.consumer({ groupId: config.DISTILL_WORKER_GROUP_ID, sessionTimeout: 30_000 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [config.DISTILL_JOBS_TOPIC], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message, heartbeat }) => {
        // a registry outage is waited out: skipping the record would leave its job requested until
        // the scheduler's claim timeout republishes it
        const decoded = await decodeEventWaiting(this.deps.registry, message.value, {
          signal: this.stopping.signal,
          heartbeat,
          onRetry: (err, delayMs) =>
            logger.warn(
              { err: err.message, offset: message.offset, retryInMs: delayMs },
              'schema registry unavailable: distill.jobs record retried',
            ),
        });
        if ('unusable' in decoded) {
          logger.warn(
            { err: decoded.unusable.message, offset: message.offset },
            'undecodable distill.jobs record skipped',
          );
          return;
        }
        const event = decoded.event as DistillJobRequestedEvent;
        const job = await claimJob(this.deps.pool, event.jobId, this.deps.workerId, this.deps.runner.kind);
        if (!job) {
          logger.debug({ jobId: event.jobId }, 'job not claimable (taken, finished or out of attempts)');
          return;
        }
        consumer.pause([{ topic }]);
        this.current = this.execute(job).finally(() => {
          this.current = undefined;
          if (!this.stopping.signal.aborted) consumer.resume([{ topic }]);
        });
      },
    });
  }

  /** Runs one claimed attempt to its end (exported for tests and one-shot use). */
  async execute(job: DistillJobRow): Promise<JobResult> {
    const { pool, config, logger, runner, workerId } = this.deps;
    const log = logger.child({ jobId: job.id, attempt: job.attempt });
    const lease = new AbortController();
    const onStop = () => lease.abort();
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    let lost = false;
    const beat = setInterval(() => {
      heartbeatJob(pool, job.id, job.attempt, workerId)
        .then((held) => {
          if (!held && !lost) {
            lost = true;
            log.warn('lease lost (the scheduler requeued or failed the job): stopping the run');
            lease.abort();
          }
        })
        .catch((err: Error) => log.warn({ err: err.message }, 'heartbeat failed'));
    }, config.DISTILL_HEARTBEAT_SECONDS * 1000);
    const finish = (result: JobResult) => {
      this.deps.onJobDone?.(result);
      return result;
    };
    try {
      let command;
      try {
        command = distillerArgs({
          jobId: job.id,
          attempt: job.attempt,
          teacherVersion: job.baseModelVersion ?? '',
          watermark: job.labelWatermark,
          storeUrl: config.DISTILLER_TRAINING_STORE_URL ?? config.TRAINING_STORE_URL,
          preparedDir: config.DISTILL_PREPARED_DIR,
          workDir: config.DISTILL_WORK_DIR,
          databaseUrl: config.DISTILLER_DATABASE_URL ?? config.DATABASE_URL,
          recipe: job.recipe,
        });
      } catch (err) {
        if (!(err instanceof RecipeError)) throw err;
        await endFailedAttempt(pool, job, 'fail', 'failed', err.message);
        log.error({ err: err.message }, 'distill job failed: bad request');
        return finish({ job, outcome: 'failed', error: err.message });
      }
      log.info(
        { runner: runner.kind, version: command.version, teacher: job.baseModelVersion },
        'distill job started',
      );
      const result = await runner.run({
        jobId: job.id,
        attempt: job.attempt,
        version: command.version,
        args: command.args,
        onnxPath: command.onnxPath,
        logger: log,
        signal: lease.signal,
      });
      clearInterval(beat);
      if (lost) return finish({ job, outcome: 'lost', error: 'lease lost' });
      if (result.ok && result.report.registered !== true) {
        Object.assign(result, {
          ok: false,
          error: `the model was not registered: ${result.report.notRegisteredReason ?? 'no registration reported'}`,
        });
      }
      if (!result.ok) {
        const error = (result as { error: string }).error;
        const next = afterFailedAttempt(job.attempt, job.maxAttempts);
        const ended = await endFailedAttempt(pool, job, next, 'failed', error, result.seconds);
        log.error(
          { err: error, next, seconds: result.seconds },
          `distill attempt failed; ${next === 'retry' ? 'requeued' : 'job failed'}`,
        );
        if (ended && next === 'retry') await this.publisher.publish(ended);
        return finish({ job, outcome: next === 'retry' ? 'retry' : 'failed', error });
      }
      const report = result.report;
      const version = report.version ?? command.version;
      const recorded = await completeJob(pool, job, workerId, {
        modelVersion: version,
        modelPath: path.resolve(report.exportedPath ?? command.onnxPath),
        checksum: report.sha256!,
        durationSeconds: result.seconds,
      });
      if (!recorded)
        return finish({ job, outcome: 'lost', error: 'the job was no longer ours when it finished' });
      log.info(
        { version, seconds: Math.round(result.seconds * 10) / 10 },
        'distill job succeeded; gating the candidate',
      );
      let promotion: PromotionOutcome | undefined;
      try {
        promotion = await this.deps.gate.decide(version, job.id);
      } catch (err) {
        if (!(err as { expected?: boolean }).expected) throw err;
        // e.g. no held-out images with stored inputs yet: decidePending() retries it
        log.warn(
          { candidate: version, err: (err as Error).message },
          'the gate cannot decide yet; retrying later',
        );
      }
      return finish({ job, outcome: 'succeeded', promotion });
    } finally {
      clearInterval(beat);
      this.stopping.signal.removeEventListener('abort', onStop);
    }
  }

  /** Stops taking jobs; a running attempt is stopped (its row goes back for a retry). */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.gateTimer);
    await this.consumer?.disconnect();
    await this.current?.catch(() => undefined);
    await this.pendingGate;
  }
}

export interface RunningDistillWorker {
  worker: DistillWorker;
  stop(): Promise<void>;
}

export interface DistillWorkerOverrides {
  pool?: pg.Pool;
  workerId?: string;
  runner?: DistillRunner;
  onSpawn?: (pid: number, jobId: string) => void;
  onJobDone?: (result: JobResult) => void;
  /** Gives up waiting for topics during start-up (the service is being stopped). */
  signal?: AbortSignal;
}

/** `harvester run distill-worker`. */
export async function startDistillWorker(
  config: DistillWorkerConfig,
  logger: Logger,
  overrides: DistillWorkerOverrides = {},
): Promise<RunningDistillWorker> {
  const pool =
    overrides.pool ??
    createPool({ url: config.DATABASE_URL, maxConnections: 3, applicationName: 'distill-worker' }, (err) =>
      logger.warn({ err: err.message }, 'idle database connection failed'),
    );
  const kafka = createKafka(kafkaConnectionFromEnv(config), logger);
  let producer: MessageProducer;
  try {
    await checkDatabaseReady(
      pool,
      ['distill_jobs', 'model_versions', 'model_promotions', 'region_annotated_images', 'training_inputs'],
      logger,
    );
    await provisionTopics(kafka, distillWorkerTopics(config), config, logger, { signal: overrides.signal });
    producer = await createMessageProducer(kafka);
  } catch (err) {
    if (!overrides.pool) await pool.end().catch(() => {});
    throw err;
  }
  const registry = schemaRegistryFromEnv(config);
  const runner =
    overrides.runner ??
    (config.DISTILL_RUNNER === 'kubernetes'
      ? new KubernetesRunner({
          template: readFileSync(config.K8S_JOB_TEMPLATE, 'utf8'),
          namespace: config.K8S_NAMESPACE,
          image: config.K8S_IMAGE,
          gpus: config.K8S_GPUS,
          pollMs: config.K8S_POLL_SECONDS * 1000,
          access: () => clusterAccessFromEnv(),
          lookupModel: async (version) => {
            const { rows } = await pool.query<{ artefact_uri: string; checksum_sha256: string }>(
              'SELECT artefact_uri, checksum_sha256 FROM model_versions WHERE version = $1',
              [version],
            );
            return rows[0] ? { artefactUri: rows[0].artefact_uri, checksum: rows[0].checksum_sha256 } : null;
          },
        })
      : new LocalRunner({
          python: config.DISTILLER_PYTHON,
          distillerDir: DISTILLER_DIR,
          onSpawn: overrides.onSpawn,
        }));
  const gate = new PromotionGate({
    pool,
    registry,
    producer,
    releasedTopic: config.MODELS_RELEASED_TOPIC,
    rule: {
      classes: config.PROMOTION_CLASSES,
      margin: config.PROMOTION_MARGIN,
      minImprovement: config.PROMOTION_MIN_IMPROVEMENT,
    },
    heldOut:
      (config.PROMOTION_HELD_OUT_DIR ?? config.DISTILL_PREPARED_DIR)
        ? { dir: (config.PROMOTION_HELD_OUT_DIR ?? config.DISTILL_PREPARED_DIR)! }
        : { store: openTrainingStore(config.TRAINING_STORE_URL) },
    heldOutSplit: config.PROMOTION_HELD_OUT_SPLIT,
    modelCacheDir: config.MODEL_CACHE_DIR,
    loadTeacher: (modelPath, version) =>
      OnnxTeacher.load({
        modelPath,
        version,
        providers: config.PROMOTION_EXECUTION_PROVIDERS,
        intraOpThreads: 0,
        fallbackInputSize: 256,
        logger,
      }),
    logger,
  });
  const workerId = overrides.workerId ?? `${hostname()}-${process.pid}`;
  const worker = new DistillWorker({
    pool,
    registry,
    producer,
    runner,
    gate,
    config,
    logger,
    workerId,
    onJobDone: overrides.onJobDone,
  });
  await worker.start(kafka);
  logger.info({ topic: config.DISTILL_JOBS_TOPIC, runner: runner.kind, workerId }, 'distill-worker started');
  return {
    worker,
    async stop() {
      await worker.stop();
      await producer.disconnect();
      if (!overrides.pool) await pool.end();
      logger.info('distill-worker stopped');
    },
  };
}
