import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { HealthState } from '../observability/http-server.ts';
import type { Logger } from '../observability/logger.ts';
import { backoffDelay, sleepWithTicks } from '../runtime/retry.ts';

export interface ChunkedConsumerSettings {
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  /** The most records handled (and committed) together out of one fetched batch. */
  maxBatchMessages: number;
  fetchMaxBytes: number;
  partitionsConsumedConcurrently: number;
  retryInitialMs: number;
  retryMaxMs: number;
  sessionTimeoutMs: number;
  /**
   * How long one chunk may keep failing before /health says unhealthy and each retry is logged as
   * an error (default 120 s): a dependency that stays down needs an operator.
   */
  unhealthyAfterMs?: number;
}

export const DEFAULT_UNHEALTHY_AFTER_MS = 120_000;

/**
 * The kafkajs mechanics the consuming services share: one consumer group with manual offsets
 * (autoCommit and eachBatchAutoResolve off), health state, crash detection, pause/resume, a
 * retry loop that never commits a failed chunk, and the offset commit after a chunk's writes.
 * The service's own `eachBatch` decides how chunks are prepared and written.
 */
export class ChunkedConsumer {
  private consumer: Consumer | undefined;
  private state: HealthState = { status: 'starting' };
  private crashed: ((err: Error) => void) | undefined;
  private pausedTopics = false;
  /** Settles when the consumer stops for good (crash without restart). */
  readonly stopped: Promise<void>;

  constructor(
    private readonly kafka: Kafka,
    readonly settings: ChunkedConsumerSettings,
    private readonly logger: Logger,
    private readonly eachBatch: (payload: EachBatchPayload) => Promise<void>,
  ) {
    this.stopped = new Promise<void>((_resolve, reject) => {
      this.crashed = reject;
    });
    // a caller that never awaits `stopped` must not see an unhandled rejection
    this.stopped.catch(() => {});
  }

  health(): HealthState {
    return this.state;
  }

  /** Stops fetching new records (the chunk in progress finishes); false when already paused. */
  pause(): boolean {
    if (!this.consumer || this.pausedTopics) return false;
    this.pausedTopics = true;
    this.consumer.pause(this.settings.topics.map((topic) => ({ topic })));
    return true;
  }

  /** Fetches again after pause(); false when not paused. */
  resume(): boolean {
    if (!this.consumer || !this.pausedTopics) return false;
    this.pausedTopics = false;
    this.consumer.resume(this.settings.topics.map((topic) => ({ topic })));
    return true;
  }

  async start(): Promise<void> {
    const s = this.settings;
    const consumer = this.kafka.consumer({
      groupId: s.groupId,
      maxBytesPerPartition: s.fetchMaxBytes,
      maxBytes: Math.max(s.fetchMaxBytes, 10_485_760),
      sessionTimeout: s.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(s.sessionTimeoutMs / 10)),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (this.state.status === 'starting') this.state = { status: 'ok' };
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.logger.error({ err: error.message, restart }, 'consumer crashed');
      if (!restart) {
        this.state = { status: 'stopped', detail: 'consumer crashed' };
        this.crashed?.(error);
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topics: s.topics, fromBeginning: s.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: s.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Finishes the chunk in progress, commits its offsets, leaves the group and disconnects. */
  async stop(): Promise<void> {
    this.state = { status: 'stopped', detail: 'shutting down' };
    await this.consumer?.disconnect();
  }

  /**
   * Runs `attempt` until it succeeds (heartbeating while it runs), waiting with exponential
   * back-off (heartbeating meanwhile)
   * and reporting degraded health between tries, unhealthy once the chunk has failed for longer
   * than `unhealthyAfterMs`; `onRetry` counts and logs each failure (`failingMs`: since the first).
   * Returns false, without committing anything, when the consumer stops or the partition is
   * reassigned meanwhile: the chunk will be consumed again.
   */
  async retryUntilDone(
    payload: EachBatchPayload,
    attempt: () => Promise<unknown>,
    onRetry: (err: Error, attempt: number, delayMs: number, failingMs: number) => void,
  ): Promise<boolean> {
    const { heartbeat, isRunning, isStale } = payload;
    const bound = this.settings.unhealthyAfterMs ?? DEFAULT_UNHEALTHY_AFTER_MS;
    let firstFailure: number | undefined;
    for (let n = 0; ; n++) {
      try {
        await this.withHeartbeats(heartbeat, attempt);
        return true;
      } catch (err) {
        firstFailure ??= Date.now();
        const failingMs = Date.now() - firstFailure;
        const message = (err as Error).message;
        this.state =
          failingMs >= bound
            ? {
                status: 'unhealthy',
                detail: `a chunk has failed for ${Math.round(failingMs / 1000)} s: ${message}`.slice(0, 300),
              }
            : { status: 'degraded', detail: `retrying batch: ${message}`.slice(0, 200) };
        const delay = backoffDelay(n, this.settings.retryInitialMs, this.settings.retryMaxMs);
        onRetry(err as Error, n, delay, failingMs);
        // on shutdown, stop retrying: the chunk is not committed and will be consumed again
        if (!isRunning()) return false;
        await sleepWithTicks(delay, heartbeat, isRunning);
        if (!isRunning() || isStale()) return false;
      }
    }
  }

  /**
   * Runs one try of a chunk's work while heartbeating in the background. Without it the member
   * sends nothing to the group coordinator while the work runs, and work that outlasts the session
   * timeout (a registry or database answering slowly after an outage, a busy machine) gets the
   * member evicted: its offset commit then fails, the chunk is consumed again after the rejoin and,
   * taking as long again, evicted again, so a slow machine could stop the consumer making any
   * progress. A heartbeat that fails here (a rebalance) is left to the offset commit or the next
   * heartbeat of the caller to report.
   */
  private async withHeartbeats<T>(heartbeat: () => Promise<void>, work: () => Promise<T>): Promise<T> {
    const beat = setInterval(
      () => void heartbeat().catch(() => {}),
      Math.max(250, Math.floor(this.settings.sessionTimeoutMs / 10)),
    );
    try {
      return await work();
    } finally {
      clearInterval(beat);
    }
  }

  /** The log level of a retry: an error once the chunk has failed for longer than the bound. */
  retryLogLevel(failingMs: number): 'warn' | 'error' {
    return failingMs >= (this.settings.unhealthyAfterMs ?? DEFAULT_UNHEALTHY_AFTER_MS) ? 'error' : 'warn';
  }

  /**
   * Logs one failed try of a chunk with what failed and why (the error names the topic, table or
   * registry), where the chunk starts, and for how long it has been failing.
   */
  logRetry(
    err: Error,
    at: { topic: string; partition: number; firstOffset: string; stage?: string },
    retry: { attempt: number; delayMs: number; failingMs: number },
  ): void {
    const what = at.stage ? `${at.stage}: ${err.message}` : err.message;
    this.logger[this.retryLogLevel(retry.failingMs)](
      {
        err: err.message,
        ...at,
        attempt: retry.attempt,
        delayMs: retry.delayMs,
        failingSeconds: Math.round(retry.failingMs / 1000),
      },
      `chunk failed (${what}); offsets not committed, retrying`,
    );
  }

  /**
   * Marks a chunk whose writes are done as consumed: resolves and commits the offset after its
   * last record, and reports healthy. Returns that next offset.
   */
  async commitChunk(payload: EachBatchPayload, chunk: KafkaMessage[]): Promise<string> {
    const { batch, resolveOffset, commitOffsetsIfNecessary } = payload;
    const { topic, partition } = batch;
    const last = chunk[chunk.length - 1]!;
    resolveOffset(last.offset);
    const next = (BigInt(last.offset) + 1n).toString();
    await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
    this.state = { status: 'ok' };
    return next;
  }
}
