import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { HealthState } from '../shared/observability/http-server.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { backoffDelay, sleepWithTicks } from '../shared/runtime/retry.ts';
import type { BatchProcessor, PreparedBatch } from './batch-processor.ts';
import type { RawRecord } from './extract.ts';
import type { ReportLabelerMetrics } from './metrics.ts';

export interface ConsumerSettings {
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  maxBatchMessages: number;
  fetchMaxBytes: number;
  partitionsConsumedConcurrently: number;
  retryInitialMs: number;
  retryMaxMs: number;
  sessionTimeoutMs: number;
}

function toRawRecord(topic: string, partition: number, m: KafkaMessage): RawRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key,
    value: m.value,
    timestamp: Number(m.timestamp),
    headers: m.headers,
  };
}

/**
 * The kafkajs side of the labeler: a consumer group on the input topic, eachBatch with manual
 * offset resolution and commits. Per chunk of a fetched batch: prepare, commit (retried with
 * back-off while Postgres, the registry or Kafka is unavailable, heartbeating meanwhile), then
 * resolve and commit the offsets. Offsets are committed only after the database commit and the
 * publishes, so a crash anywhere replays the chunk and the idempotent writes make that harmless.
 */
export class ReportLabelerConsumer {
  private consumer: Consumer | undefined;
  private state: HealthState = { status: 'starting' };
  private crashed: ((err: Error) => void) | undefined;
  /** Settles when the consumer stops for good (crash without restart). */
  readonly stopped: Promise<void>;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: ConsumerSettings,
    private readonly processor: BatchProcessor,
    private readonly metrics: ReportLabelerMetrics,
    private readonly logger: Logger,
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
    await consumer.subscribe({ topics: [s.topic], fromBeginning: s.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: s.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Finishes the batch in progress, commits its offsets, leaves the group and disconnects. */
  async stop(): Promise<void> {
    this.state = { status: 'stopped', detail: 'shutting down' };
    await this.consumer?.disconnect();
  }

  /**
   * Chunks of the fetched batch go through two stages: prepare (CPU: parse, label, pseudonymise)
   * and complete (I/O: database, publishes, offset commit). The next chunk is prepared while the
   * previous one's I/O is in flight; completions stay strictly in order, so offsets are committed
   * in order and only for chunks whose writes and publishes finished.
   */
  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const messages = batch.messages;
    let previous: Promise<boolean> = Promise.resolve(true);
    for (let i = 0; i < messages.length; i += this.settings.maxBatchMessages) {
      if (!isRunning() || isStale()) break;
      const chunk = messages.slice(i, i + this.settings.maxBatchMessages);
      const started = process.hrtime.bigint();
      const prepared = this.processor.prepare(chunk.map((m) => toRawRecord(topic, partition, m)));
      if (!(await previous)) return;
      previous = this.complete(payload, chunk, prepared, started);
    }
    await previous;
  }

  /** Commits one prepared chunk, retrying with back-off; false when it stopped without committing. */
  private async complete(
    payload: EachBatchPayload,
    chunk: KafkaMessage[],
    prepared: PreparedBatch,
    started: bigint,
  ): Promise<boolean> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    if (!isRunning() || isStale()) return false;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.processor.commit(prepared);
        break;
      } catch (err) {
        const stage = (err as { stage?: string }).stage ?? 'commit';
        this.metrics.errors.inc({ stage });
        this.state = {
          status: 'degraded',
          detail: `retrying batch: ${(err as Error).message}`.slice(0, 200),
        };
        const delay = backoffDelay(attempt, this.settings.retryInitialMs, this.settings.retryMaxMs);
        this.logger.warn(
          { err: (err as Error).message, partition, firstOffset: chunk[0]!.offset, attempt, delayMs: delay },
          'batch failed; offsets not committed, retrying',
        );
        // on shutdown, stop retrying: the chunk is not committed and will be consumed again
        if (!isRunning()) return false;
        await sleepWithTicks(delay, heartbeat, isRunning);
        if (!isRunning() || isStale()) return false;
      }
    }
    const last = chunk[chunk.length - 1]!;
    resolveOffset(last.offset);
    const next = (BigInt(last.offset) + 1n).toString();
    await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
    this.state = { status: 'ok' };
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics.batchDuration.observe(seconds);
    this.logger.debug({ partition, records: chunk.length, seconds }, 'offsets committed');
    const hw = BigInt(batch.highWatermark);
    this.metrics.lag.set(
      { topic, partition: String(partition) },
      Number(hw > BigInt(next) ? hw - BigInt(next) : 0n),
    );
    await heartbeat();
    return true;
  }
}
