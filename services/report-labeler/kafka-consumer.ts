import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { ChunkedConsumer, type ChunkedConsumerSettings } from '../shared/kafka/chunked-consumer.ts';
import type { HealthState } from '../shared/observability/http-server.ts';
import type { Logger } from '../shared/observability/logger.ts';
import type { BatchProcessor, PreparedBatch } from './batch-processor.ts';
import type { RawRecord } from './extract.ts';
import type { ReportLabelerMetrics } from './metrics.ts';

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
  private readonly group: ChunkedConsumer;
  /** Settles when the consumer stops for good (crash without restart). */
  readonly stopped: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly settings: ChunkedConsumerSettings,
    private readonly processor: BatchProcessor,
    private readonly metrics: ReportLabelerMetrics,
    private readonly logger: Logger,
  ) {
    this.group = new ChunkedConsumer(kafka, settings, logger, (payload) => this.eachBatch(payload));
    this.stopped = this.group.stopped;
  }

  health(): HealthState {
    return this.group.health();
  }

  start(): Promise<void> {
    return this.group.start();
  }

  /** Finishes the batch in progress, commits its offsets, leaves the group and disconnects. */
  stop(): Promise<void> {
    return this.group.stop();
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
    const { batch, heartbeat, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    if (!isRunning() || isStale()) return false;
    const done = await this.group.retryUntilDone(
      payload,
      () => this.processor.commit(prepared),
      (err, attempt, delayMs, failingMs) => {
        const stage = (err as { stage?: string }).stage ?? 'commit';
        this.metrics.errors.inc({ stage });
        this.group.logRetry(
          err,
          { topic, partition, firstOffset: chunk[0]!.offset, stage },
          { attempt, delayMs, failingMs },
        );
      },
    );
    if (!done) return false;
    const next = await this.group.commitChunk(payload, chunk);
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
