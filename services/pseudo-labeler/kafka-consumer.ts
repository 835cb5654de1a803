import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { HealthState } from '../shared/observability/http-server.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { backoffDelay, sleepWithTicks } from '../shared/runtime/retry.ts';
import type { PseudoLabelProcessor } from './batch-processor.ts';
import type { PseudoLabelerMetrics } from './metrics.ts';

export interface ConsumerSettings {
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  maxBatchMessages: number;
  fetchMaxBytes: number;
  partitionsConsumedConcurrently: number;
  retryInitialMs: number;
  retryMaxMs: number;
  sessionTimeoutMs: number;
}

/**
 * One consumer group on dicom.arrived and labels.report, eachBatch with manual offsets: per chunk,
 * prepare + commit (retried with back-off while a dependency is down, heartbeating meanwhile),
 * then resolve and commit the offsets, so a crash anywhere replays the chunk into idempotent
 * writes. pause()/resume() apply back-pressure when the inference queue grows too long.
 */
export class PseudoLabelerConsumer {
  private consumer: Consumer | undefined;
  private state: HealthState = { status: 'starting' };
  private crashed: ((err: Error) => void) | undefined;
  private pausedTopics = false;
  readonly stopped: Promise<void>;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: ConsumerSettings,
    private readonly processor: PseudoLabelProcessor,
    private readonly metrics: PseudoLabelerMetrics,
    private readonly logger: Logger,
  ) {
    this.stopped = new Promise<void>((_resolve, reject) => {
      this.crashed = reject;
    });
    this.stopped.catch(() => {});
  }

  health(): HealthState {
    return this.state;
  }

  /** Stops fetching new records (the chunk in progress finishes). */
  pause(): void {
    if (!this.consumer || this.pausedTopics) return;
    this.pausedTopics = true;
    this.consumer.pause(this.settings.topics.map((topic) => ({ topic })));
    this.metrics.paused.set(1);
    this.logger.info('inference queue full: consumer paused');
  }

  resume(): void {
    if (!this.consumer || !this.pausedTopics) return;
    this.pausedTopics = false;
    this.consumer.resume(this.settings.topics.map((topic) => ({ topic })));
    this.metrics.paused.set(0);
    this.logger.info('inference queue drained: consumer resumed');
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

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const messages = batch.messages;
    for (let i = 0; i < messages.length; i += this.settings.maxBatchMessages) {
      if (!isRunning() || isStale()) return;
      const chunk = messages.slice(i, i + this.settings.maxBatchMessages);
      const started = process.hrtime.bigint();
      // inference can outlast the session timeout on a big chunk: keep the membership alive
      const beat = setInterval(
        () => void heartbeat().catch(() => {}),
        Math.max(500, Math.floor(this.settings.sessionTimeoutMs / 5)),
      );
      try {
        for (let attempt = 0; ; attempt++) {
          try {
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
            break;
          } catch (err) {
            this.metrics.errors.inc();
            this.state = {
              status: 'degraded',
              detail: `retrying batch: ${(err as Error).message}`.slice(0, 200),
            };
            const delay = backoffDelay(attempt, this.settings.retryInitialMs, this.settings.retryMaxMs);
            this.logger.warn(
              {
                err: (err as Error).message,
                topic,
                partition,
                firstOffset: chunk[0]!.offset,
                attempt,
                delayMs: delay,
              },
              'chunk failed; offsets not committed, retrying',
            );
            if (!isRunning()) return;
            await sleepWithTicks(delay, heartbeat, isRunning);
            if (!isRunning() || isStale()) return;
          }
        }
      } finally {
        clearInterval(beat);
      }
      const last = chunk[chunk.length - 1]!;
      resolveOffset(last.offset);
      const next = (BigInt(last.offset) + 1n).toString();
      await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
      this.state = { status: 'ok' };
      this.metrics.batchDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      await heartbeat();
    }
  }
}
