import { hostname } from 'node:os';
import type pg from 'pg';
import { createPool } from '../shared/db/pool.ts';
import {
  checkSchedulePolicy,
  classifyUnfinishedJob,
  decideDistillRequest,
  type DistillSchedulePolicy,
  type LeasePolicy,
} from '../shared/distill/index.ts';
import { DistillJobPublisher } from '../shared/distill/job-events.ts';
import {
  endFailedAttempt,
  listUnfinishedJobs,
  markJobPublished,
  requestJobIfDue,
  type DistillJobRow,
} from '../shared/distill/job-store.ts';
import { schemaRegistryFromEnv } from '../shared/events/registry.ts';
import { createKafka } from '../shared/kafka/client.ts';
import { kafkaConnectionFromEnv } from '../shared/kafka/config.ts';
import { createMessageProducer, type MessageProducer } from '../shared/kafka/producer.ts';
import { provisionTopics } from '../shared/kafka/provision-topics.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { distillSchedulerTopics, type DistillSchedulerConfig } from './config.ts';

export interface TickReport {
  requested: string | null;
  published: string[];
  retried: string[];
  failed: string[];
}

/**
 * One scheduler replica. Each tick: (1) settle unfinished jobs (publish requests not yet on Kafka,
 * republish unclaimed ones, retry or fail running ones whose lease expired), then (2) request a
 * new job if the label volume says so. Replicas can run side by side: requests are single-flight
 * (advisory lock + unique index) and every job transition is a guarded UPDATE.
 */
export class DistillScheduler {
  private readonly policy: DistillSchedulePolicy;
  private readonly lease: LeasePolicy;

  constructor(
    private readonly pool: pg.Pool,
    private readonly publisher: DistillJobPublisher,
    private readonly config: DistillSchedulerConfig,
    private readonly logger: Logger,
  ) {
    this.policy = {
      minNewLabelsPerClass: config.DISTILL_MIN_NEW_LABELS,
      minIntervalHours: config.DISTILL_MIN_INTERVAL_HOURS,
      maxIntervalHours: config.DISTILL_MAX_INTERVAL_HOURS ?? null,
    };
    checkSchedulePolicy(this.policy);
    this.lease = {
      leaseMs: config.DISTILL_LEASE_SECONDS * 1000,
      claimTimeoutMs: config.DISTILL_CLAIM_TIMEOUT_SECONDS * 1000,
    };
  }

  async tick(now: Date = new Date()): Promise<TickReport> {
    const report: TickReport = { requested: null, published: [], retried: [], failed: [] };
    for (const job of await listUnfinishedJobs(this.pool)) {
      const action = classifyUnfinishedJob(
        job as DistillJobRow & { status: 'requested' | 'running' },
        now,
        this.lease,
      );
      if (action === 'publish' || action === 'republish') {
        await this.publish(job);
        report.published.push(job.id);
      } else if (action === 'retry' || action === 'fail') {
        const error = `lease expired: no heartbeat from ${job.claimedBy ?? 'its worker'} for over ${this.config.DISTILL_LEASE_SECONDS} s`;
        const ended = await endFailedAttempt(this.pool, job, action, 'lease-expired', error);
        if (!ended) continue; // the worker finished or another replica acted first
        this.logger.warn(
          { jobId: job.id, attempt: job.attempt, action },
          `distill job ${action === 'retry' ? 'retried' : 'failed'}: ${error}`,
        );
        if (action === 'retry') {
          await this.publish(ended);
          report.retried.push(job.id);
        } else {
          report.failed.push(job.id);
        }
      }
    }
    const outcome = await requestJobIfDue(this.pool, {
      maxAttempts: this.config.DISTILL_MAX_ATTEMPTS,
      recipe: this.config.recipe,
      decide: (volume, at) => decideDistillRequest(volume, at, this.policy),
    });
    if (outcome.requested) {
      const d = outcome.decision as { reason: string; classes: string[] };
      this.logger.info(
        {
          jobId: outcome.job.id,
          reason: d.reason,
          classes: d.classes,
          labelCounts: outcome.job.labelCounts,
          teacher: outcome.job.baseModelVersion,
        },
        'distillation requested',
      );
      await this.publish(outcome.job);
      report.requested = outcome.job.id;
      report.published.push(outcome.job.id);
    } else {
      this.logger.debug({ why: outcome.why, decision: outcome.decision }, 'no distillation requested');
    }
    return report;
  }

  private async publish(job: DistillJobRow): Promise<void> {
    // the row first, then the event; a crash in between leaves event_published_at null -> next tick publishes
    await this.publisher.publish(job);
    await markJobPublished(this.pool, job.id, job.attempt);
  }
}

export interface RunningDistillScheduler {
  scheduler: DistillScheduler;
  stop(): Promise<void>;
}

export interface SchedulerOverrides {
  pool?: pg.Pool;
  producer?: MessageProducer;
  /** Gives up waiting for topics during start-up (the service is being stopped). */
  signal?: AbortSignal;
}

/** `harvester run distill-scheduler`: ticks every DISTILL_SCHEDULER_POLL_SECONDS until stopped. */
export async function startDistillScheduler(
  config: DistillSchedulerConfig,
  logger: Logger,
  overrides: SchedulerOverrides = {},
): Promise<RunningDistillScheduler> {
  const pool =
    overrides.pool ??
    createPool({ url: config.DATABASE_URL, maxConnections: 2, applicationName: 'distill-scheduler' }, (err) =>
      logger.warn({ err: err.message }, 'idle database connection failed'),
    );
  let producer = overrides.producer;
  if (!producer) {
    const kafka = createKafka(kafkaConnectionFromEnv(config), logger);
    try {
      await provisionTopics(kafka, distillSchedulerTopics(config), config, logger, {
        signal: overrides.signal,
      });
      producer = await createMessageProducer(kafka);
    } catch (err) {
      if (!overrides.pool) await pool.end().catch(() => {});
      throw err;
    }
  }
  const registry = schemaRegistryFromEnv(config);
  const scheduler = new DistillScheduler(
    pool,
    new DistillJobPublisher(registry, producer, config.DISTILL_JOBS_TOPIC),
    config,
    logger,
  );
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  const loop = () => {
    if (stopped) return;
    current = scheduler
      .tick()
      .catch((err: Error) =>
        logger.error({ err: err.message }, 'scheduler tick failed; retrying at the next'),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, config.DISTILL_SCHEDULER_POLL_SECONDS * 1000);
      });
  };
  loop();
  logger.info(
    {
      topic: config.DISTILL_JOBS_TOPIC,
      minNewLabels: config.DISTILL_MIN_NEW_LABELS,
      pollSeconds: config.DISTILL_SCHEDULER_POLL_SECONDS,
      host: hostname(),
    },
    'distill-scheduler started',
  );
  return {
    scheduler,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
      if (!overrides.producer) await producer!.disconnect();
      if (!overrides.pool) await pool.end();
      logger.info('distill-scheduler stopped');
    },
  };
}
