import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Consumer, Kafka } from 'kafkajs';
import { decodeEventWaiting } from '../shared/events/decode-event.ts';
import type { Logger } from '../shared/observability/logger.ts';
import {
  PseudoLabelProcessor,
  type ChunkOutcome,
  type PreparedChunk,
  type ProcessorDeps,
} from './batch-processor.ts';
import type { ExecutionProviderName } from '../shared/onnx/execution-providers.ts';
import { fetchVerifiedModel } from '../shared/onnx/model-artefact.ts';
import type { Teacher, TeacherMaps } from '../shared/onnx/teacher.ts';

/**
 * A teacher that can be replaced while the service runs (issue 8: hot-swap on models.released).
 * Every chunk the processor commits holds the teacher for its whole run (hold()): its join,
 * inference, writes and events all use one version. swap() waits until no chunk holds the old
 * teacher, switches, and lets chunks continue: the switch falls between chunks, so no message is
 * skipped and none is labelled twice by one version. New holds wait while a swap is pending, so a
 * busy consumer cannot starve it.
 */
export class SwappableTeacher implements Teacher {
  private holders = 0;
  private swapping: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(private current: Teacher) {}

  get version(): string {
    return this.current.version;
  }
  get provider(): ExecutionProviderName {
    return this.current.provider;
  }
  get inputWidth(): number {
    return this.current.inputWidth;
  }
  get inputHeight(): number {
    return this.current.inputHeight;
  }

  run(images: Float32Array[]): Promise<TeacherMaps[]> {
    return this.current.run(images);
  }

  /** Runs `work` with the teacher fixed: a swap waits for it, and it waits for a pending swap. */
  async hold<T>(work: () => Promise<T>): Promise<T> {
    while (this.swapping) await this.swapping;
    this.holders++;
    try {
      return await work();
    } finally {
      this.holders--;
      if (this.holders === 0) this.drained?.();
    }
  }

  /** Switches to `next` between chunks; returns the previous teacher (the caller releases it). */
  async swap(next: Teacher): Promise<Teacher> {
    while (this.swapping) await this.swapping;
    let done!: () => void;
    this.swapping = new Promise<void>((resolve) => (done = resolve));
    try {
      if (this.holders > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      this.drained = undefined;
      const previous = this.current;
      this.current = next;
      return previous;
    } finally {
      this.swapping = undefined;
      done();
    }
  }

  release(): Promise<void> {
    return this.current.release();
  }
}

/** The pseudo-labeler's processor with each chunk's commit holding the swappable teacher. */
export class VersionPinnedProcessor extends PseudoLabelProcessor {
  constructor(
    private readonly swappable: SwappableTeacher,
    deps: ProcessorDeps,
  ) {
    super(deps);
  }

  override commit(chunk: PreparedChunk): Promise<ChunkOutcome> {
    return this.swappable.hold(() => super.commit(chunk));
  }
}

/** The parts of a ModelReleased event the pseudo-labeler uses. */
export interface ReleasedModel {
  version: string;
  artefactUri: string;
  sha256: string;
  inputSize: number;
}

export interface ReleaseListenerOptions {
  topic: string;
  cacheDir?: string;
  /** Loads an ONNX file as a teacher of the given version (OnnxTeacher.load with the service's providers). */
  loadTeacher: (modelPath: string, version: string) => Promise<Teacher>;
  logger: Logger;
  onSwapped?: (version: string) => void;
}

/**
 * Every instance follows models.released in a consumer group of its own (all instances must see
 * every release), from the beginning, so an instance started later also ends on the latest
 * release. Per batch only the newest release matters; one equal to the running version is skipped.
 * A release is applied only after its checksum is verified and the new session is warmed up; a
 * bad release is logged and the current teacher keeps serving.
 */
export class ModelReleaseListener {
  private consumer: Consumer | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly kafka: Kafka,
    private readonly registry: SchemaRegistry,
    private readonly teacher: SwappableTeacher,
    private readonly options: ReleaseListenerOptions,
  ) {}

  async start(): Promise<void> {
    const groupId = `pseudo-labeler-releases-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const consumer = this.kafka.consumer({ groupId });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.options.topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch, heartbeat }) => {
        let latest: ReleasedModel | undefined;
        for (const m of batch.messages) {
          // a release met during a registry outage is waited for, not skipped (the teacher would
          // stay the old one until a restart)
          const decoded = await decodeEventWaiting(this.registry, m.value, {
            signal: this.stopping.signal,
            heartbeat,
            onRetry: (err, delayMs) =>
              this.options.logger.warn(
                { err: err.message, offset: m.offset, retryInMs: delayMs },
                'schema registry unavailable: models.released record retried',
              ),
          });
          if ('event' in decoded) latest = decoded.event as ReleasedModel;
          else
            this.options.logger.warn(
              { err: decoded.unusable.message, offset: m.offset },
              'undecodable models.released record skipped',
            );
        }
        if (latest) await this.apply(latest);
      },
    });
  }

  /** Verifies, loads, warms up and swaps in a released model (no-op when already serving it). */
  async apply(release: ReleasedModel): Promise<boolean> {
    const { logger } = this.options;
    if (release.version === this.teacher.version) return false;
    let next: Teacher | undefined;
    try {
      const file = await fetchVerifiedModel(release.artefactUri, release.sha256, this.options.cacheDir);
      next = await this.options.loadTeacher(file, release.version);
      if (next.inputWidth !== this.teacher.inputWidth || next.inputHeight !== this.teacher.inputHeight) {
        logger.warn(
          { version: release.version, input: [next.inputHeight, next.inputWidth] },
          'released model has another input size; prepared inputs follow it',
        );
      }
      // warm-up: the first run allocates and optimises; do it before the model serves
      await next.run([new Float32Array(next.inputWidth * next.inputHeight)]);
    } catch (err) {
      await next?.release().catch(() => {});
      logger.error(
        { version: release.version, err: (err as Error).message },
        'released model not loaded; keeping the current teacher',
      );
      return false;
    }
    const previous = await this.teacher.swap(next);
    logger.info({ from: previous.version, to: next.version, provider: next.provider }, 'teacher hot-swapped');
    await previous
      .release()
      .catch((err: Error) => logger.warn({ err: err.message }, 'releasing the previous teacher failed'));
    this.options.onSwapped?.(next.version);
    return true;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.consumer?.disconnect();
  }
}
