import type { EachBatchPayload, Kafka } from 'kafkajs';
import { ChunkedConsumer, type ChunkedConsumerSettings } from '../shared/kafka/chunked-consumer.ts';
import type { HealthState } from '../shared/observability/http-server.ts';
import type { Logger } from '../shared/observability/logger.ts';
import type { PseudoLabelProcessor } from './batch-processor.ts';
import type { PseudoLabelerMetrics } from './metrics.ts';

/**
 * One consumer group on dicom.arrived and labels.report, eachBatch with manual offsets: per chunk,
 * prepare + commit (retried with back-off while a dependency is down, heartbeating meanwhile),
 * then resolve and commit the offsets, so a crash anywhere replays the chunk into idempotent
 * writes. pause()/resume() apply back-pressure when the inference queue grows too long.
 */
export class PseudoLabelerConsumer {
  private readonly group: ChunkedConsumer;
  readonly stopped: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly settings: ChunkedConsumerSettings,
    private readonly processor: PseudoLabelProcessor,
    private readonly metrics: PseudoLabelerMetrics,
    private readonly logger: Logger,
  ) {
    this.group = new ChunkedConsumer(kafka, settings, logger, (payload) => this.eachBatch(payload));
    this.stopped = this.group.stopped;
  }

  health(): HealthState {
    return this.group.health();
  }

  /** Stops fetching new records (the chunk in progress finishes). */
  pause(): void {
    if (!this.group.pause()) return;
    this.metrics.paused.set(1);
    this.logger.info('inference queue full: consumer paused');
  }

  resume(): void {
    if (!this.group.resume()) return;
    this.metrics.paused.set(0);
    this.logger.info('inference queue drained: consumer resumed');
  }

  start(): Promise<void> {
    return this.group.start();
  }

  /** Finishes the chunk in progress, commits its offsets, leaves the group and disconnects. */
  stop(): Promise<void> {
    return this.group.stop();
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const messages = batch.messages;
    for (let i = 0; i < messages.length; i += this.settings.maxBatchMessages) {
      if (!isRunning() || isStale()) return;
      const chunk = messages.slice(i, i + this.settings.maxBatchMessages);
      const started = process.hrtime.bigint();
      // inference can outlast the session timeout on a big chunk: retryUntilDone heartbeats meanwhile
      const done = await this.group.retryUntilDone(
        payload,
        async () => {
          const prepared = await this.processor.prepare(
            chunk.map((m) => ({
              topic,
              partition,
              offset: m.offset,
              key: m.key,
              value: m.value,
              headers: m.headers,
            })),
          );
          await this.processor.commit(prepared);
        },
        (err, attempt, delayMs, failingMs) => {
          this.metrics.errors.inc();
          this.group.logRetry(
            err,
            { topic, partition, firstOffset: chunk[0]!.offset },
            { attempt, delayMs, failingMs },
          );
        },
      );
      if (!done) return;
      await this.group.commitChunk(payload, chunk);
      this.metrics.batchDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      await heartbeat();
    }
  }
}
