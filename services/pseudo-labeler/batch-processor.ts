import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type pg from 'pg';
import type { TargetMethod } from '../shared/aals/index.ts';
import { withTransaction } from '../shared/db/transaction.ts';
import type { EventEncoder } from '../shared/events/encoder.ts';
import { deadLetterOf, type DeadLetter, type DlqPublisher } from '../shared/kafka/dlq.ts';
import type { MessageProducer } from '../shared/kafka/producer.ts';
import { nonImageReason, nonImageSopClass } from '../shared/imaging/sop-class.ts';
import type { Logger } from '../shared/observability/logger.ts';
import {
  checkDicomArrived,
  decodeEvent,
  studyLabelFromEvent,
  UnusableEventError,
  type ImageArrival,
  type PseudoLabelCreatedEvent,
} from './events.ts';
import { computedLabels, inferJobs, planComputeJobs, type JobResult } from './compute-labels.ts';
import type { ImageStorage } from '../shared/storage/image-storage.ts';
import type { JoinPolicy } from './join-decision.ts';
import type { PseudoLabelerMetrics } from './metrics.ts';
import type { MicroBatcher } from './micro-batcher.ts';
import {
  loadJoinState,
  loadUnpublished,
  markImagesFailed,
  markPublished,
  storeInputs,
  writePseudoLabels,
  type ComputedLabel,
  type StudyLabelRow,
  type UnpublishedLabel,
} from './store.ts';
import type { Teacher, TeacherMaps } from '../shared/onnx/teacher.ts';
import { storedInputsFor, writeNewInputs } from './training-inputs.ts';
import { indexShard } from '../shared/training-store/training-store-index.ts';
import type { TrainingStore } from '../shared/training-store/training-store.ts';

export const STAGE_DECODE = 'pseudo-labeler/decode-event';
export const STAGE_IMAGE = 'pseudo-labeler/read-image';

/** One Kafka record as the pseudo-labeler sees it. */
export interface InputRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export interface PreparedChunk {
  arrivals: ImageArrival[];
  labels: StudyLabelRow[];
  deadLetters: DeadLetter[];
}

export interface ChunkOutcome {
  images: number;
  labels: number;
  dlq: number;
  written: number;
  eventsPublished: number;
}

export interface ProcessorSettings {
  dicomTopic: string;
  labelsTopic: string;
  outputTopic: string;
  policy: JoinPolicy;
  targetMethod: TargetMethod;
  aals: { t: number; a0: number; eps: number };
  maxQueue: number;
  decodeConcurrency: number;
}

export interface ProcessorDeps {
  settings: ProcessorSettings;
  pool: pg.Pool;
  registry: SchemaRegistry;
  encoder: EventEncoder<PseudoLabelCreatedEvent>;
  producer: MessageProducer;
  dlq: DlqPublisher;
  storage: ImageStorage;
  /** Where every labelled image's model input is kept for training (file:// shards + Postgres index). */
  trainingStore: TrainingStore;
  teacher: Teacher;
  batcher: MicroBatcher<Float32Array, TeacherMaps>;
  metrics: PseudoLabelerMetrics;
  logger: Logger;
}

/**
 * The pseudo-labeler's work on one chunk of records from either input topic: decode (bad records
 * to the DLQ), record arrivals and labels, join in Postgres, run the teacher on every image whose
 * label needs (re)computing, write the pseudo-labels, publish their events. The caller commits the
 * offsets only after commit() resolves and retries it on failure; every write is idempotent.
 */
export class PseudoLabelProcessor {
  constructor(private readonly deps: ProcessorDeps) {}

  get modelVersion(): string {
    return this.deps.teacher.version;
  }

  /** Decodes records; throws only when the registry is unreachable (retry), never for bad input. */
  async prepare(records: InputRecord[]): Promise<PreparedChunk> {
    const { settings, registry, metrics } = this.deps;
    const chunk: PreparedChunk = { arrivals: [], labels: [], deadLetters: [] };
    for (const record of records) {
      const input = record.topic === settings.dicomTopic ? 'dicom' : 'labels';
      try {
        const decoded = await decodeEvent(registry, record.value);
        if (input === 'dicom') {
          const event = checkDicomArrived(decoded);
          // SR, SEG, PR, KO...: nothing to label; counted, not recorded as an image waiting for a report
          const nonImage = nonImageSopClass(event.sopClassUid);
          if (nonImage) {
            metrics.messages.inc({ input, outcome: 'skipped' });
            metrics.skipped.inc({ reason: nonImageReason(nonImage) });
            continue;
          }
          chunk.arrivals.push({
            event,
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            value: record.value!,
          });
        } else {
          chunk.labels.push(studyLabelFromEvent(decoded));
        }
        metrics.messages.inc({ input, outcome: 'stored' });
      } catch (err) {
        if (!(err instanceof UnusableEventError)) throw err;
        metrics.messages.inc({ input, outcome: 'dlq' });
        chunk.deadLetters.push(deadLetterOf(record, STAGE_DECODE, err.reason, err.message));
      }
    }
    return chunk;
  }

  async commit(chunk: PreparedChunk): Promise<ChunkOutcome> {
    const { pool, settings, teacher, metrics, logger } = this.deps;
    const version = teacher.version;
    if (chunk.arrivals.length > 0 || chunk.labels.length > 0) {
      const erased = await withTransaction(pool, (client) =>
        storeInputs(client, chunk.arrivals, chunk.labels),
      );
      for (const [reason, n] of erased) metrics.skipped.inc({ reason }, n);
    }
    const accessions = [
      ...new Set([...chunk.arrivals.map((a) => a.event.accession), ...chunk.labels.map((l) => l.accession)]),
    ];
    const rows = await loadJoinState(pool, accessions, version);

    const { jobs, withdrawals } = planComputeJobs(rows, settings.policy);
    const { storage, batcher, trainingStore } = this.deps;
    const results = await inferJobs(jobs, {
      storage,
      teacher,
      batcher,
      maxQueue: settings.maxQueue,
      decodeConcurrency: settings.decodeConcurrency,
      stored: await storedInputsFor(pool, trainingStore, jobs, teacher),
    });
    const computed: ComputedLabel[] = [];
    const failures: Array<JobResult & { ok: false }> = [];
    for (const r of results) {
      if (r.ok) computed.push(...computedLabels(r.job, r.maps, settings));
      else failures.push(r);
    }

    // dead letters before the rows that mark images failed: a crash in between re-sends, never loses
    const letters: DeadLetter[] = [
      ...chunk.deadLetters,
      ...failures.map((f): DeadLetter => ({
        reason: f.reason,
        detail: f.detail,
        stage: STAGE_IMAGE,
        sourceTopic: f.job.row.eventTopic,
        sourcePartition: f.job.row.eventPartition,
        sourceOffset: f.job.row.eventOffset,
        key: f.job.row.accession,
        value: f.job.row.eventValue,
      })),
    ];
    if (letters.length > 0) await this.deps.dlq.publish(letters);

    // the shard is on disk before the rows that point at it; a crash in between rewrites the same file
    const writeStarted = process.hrtime.bigint();
    const shard = await writeNewInputs(trainingStore, results, teacher);
    if (shard) {
      metrics.trainingShardWriteSeconds.observe(Number(process.hrtime.bigint() - writeStarted) / 1e9);
      metrics.trainingStoreBytes.inc(shard.bytes);
    }
    const written = await withTransaction(pool, async (client) => {
      const outcome = await writePseudoLabels(client, version, computed, withdrawals);
      await markImagesFailed(
        client,
        failures.map((f) => ({ sopInstanceUid: f.job.row.sopInstanceUid, reason: f.reason })),
      );
      if (shard) await indexShard(client, shard, 'pseudo-labeler');
      return outcome;
    });
    const decoded = shard?.inputs.length ?? 0;
    if (decoded > 0) metrics.trainingInputs.inc({ source: 'decoded' }, decoded);
    const reused = results.filter((r) => r.ok).length - decoded;
    if (reused > 0) metrics.trainingInputs.inc({ source: 'store' }, reused);

    const published = await this.publish(accessions);

    for (const l of computed) {
      metrics.pseudoLabels.inc({ class: l.cls, kind: l.targetMethod === 'zero' ? 'negative' : 'positive' });
    }
    if (written.superseded > 0) metrics.superseded.inc({ why: 'report-changed' }, written.superseded);
    if (written.withdrawn > 0) metrics.superseded.inc({ why: 'now-uncertain' }, written.withdrawn);
    for (const letter of letters) {
      metrics.dlq.inc({ reason: letter.reason });
      // reason and position only: details and bytes may identify a study
      logger.warn(
        {
          reason: letter.reason,
          stage: letter.stage,
          topic: letter.sourceTopic,
          partition: letter.sourcePartition,
          offset: letter.sourceOffset,
        },
        'record sent to DLQ',
      );
    }
    return {
      images: chunk.arrivals.length,
      labels: chunk.labels.length,
      dlq: letters.length,
      written: written.written,
      eventsPublished: published,
    };
  }

  /** Publishes every not-yet-acknowledged label of these studies, then marks them published. */
  private async publish(accessions: string[]): Promise<number> {
    const { pool, encoder, producer, settings, metrics, teacher } = this.deps;
    const unpublished = await loadUnpublished(pool, accessions, teacher.version);
    if (unpublished.length === 0) return 0;
    await encoder.ready();
    const messages = await Promise.all(
      unpublished.map(async (u) => ({ key: u.accession, value: await encoder.encode(this.toEvent(u)) })),
    );
    await producer.send(settings.outputTopic, messages);
    await markPublished(pool, teacher.version, unpublished);
    metrics.events.inc(messages.length);
    for (const u of unpublished) {
      metrics.arrivalToLabelSeconds.observe(
        Math.max(0, (u.createdAt.getTime() - u.arrivedAt.getTime()) / 1000),
      );
    }
    return messages.length;
  }

  private toEvent(u: UnpublishedLabel): PseudoLabelCreatedEvent {
    return {
      sopInstanceUid: u.sopInstanceUid,
      accession: u.accession,
      class: u.cls,
      modelVersion: this.deps.teacher.version,
      recordLabel: u.recordStatus,
      reportStatus: u.reportStatus,
      aals: u.aals,
      stats: {
        height: u.height,
        width: u.width,
        teacherMax: u.teacherScore,
        targetMean: u.targetMean,
        targetMax: u.targetMax,
        positiveFraction: u.positiveFraction,
      },
      createdAt: u.createdAt.getTime(),
    };
  }
}
