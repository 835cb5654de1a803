import type { DetectorClass, LabelStatus } from '../../shared/vocabulary.ts';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type pg from 'pg';
import { EventEncoder } from '../../shared/events/encoder.ts';
import { DlqPublisher } from '../../shared/kafka/dlq.ts';
import type { MessageProducer } from '../../shared/kafka/producer.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { PseudoLabelProcessor, type ProcessorSettings } from '../../pseudo-labeler/batch-processor.ts';
import type { PseudoLabelCreatedEvent } from '../../pseudo-labeler/events.ts';
import type { ImageStorage } from '../../shared/storage/image-storage.ts';
import { createPseudoLabelerMetrics } from '../../pseudo-labeler/metrics.ts';
import { MicroBatcher } from '../../pseudo-labeler/micro-batcher.ts';
import type { StudyLabelRow } from '../../pseudo-labeler/store.ts';
import type { Teacher, TeacherMaps } from '../../shared/onnx/teacher.ts';
import type { TrainingStore } from '../../shared/training-store/training-store.ts';

/**
 * `harvester relabel --model VERSION [--since DATE]`: re-derives earlier pseudo-labels with another
 * teacher. The studies to redo are those with images arrived since DATE that have pseudo-labels of
 * other versions and none of VERSION yet. Each batch of studies goes through the pseudo-labeler's
 * own processor (join decision, AALS, store, labels.pseudo events) with the study's current record
 * label as input, exactly as if its report had just arrived: re-storing that label is a no-op (not
 * a superseding version), and the processor computes what VERSION lacks. Idempotent; rerun freely.
 */

export interface RelabelOptions {
  pool: pg.Pool;
  registry: SchemaRegistry;
  producer: MessageProducer;
  teacher: Teacher;
  storage: ImageStorage;
  /** Inputs stored at the new teacher's size are read from here instead of decoding the DICOM. */
  trainingStore: TrainingStore;
  settings: ProcessorSettings;
  since: Date | null;
  batchStudies: number;
  inferenceBatchSize: number;
  logger: Logger;
  onProgress?: (done: number, total: number) => void;
}

export interface RelabelSummary {
  studies: number;
  written: number;
  events: number;
  failed: number;
}

interface RawStudy {
  accession: string;
  sending_facility: string;
  report_status: 'P' | 'F' | 'C';
  status_rank: number;
  provisional: boolean;
  observed_at: Date;
  reported_at: Date;
  message_control_id: string;
  obr_index: number;
  rule_version: string;
  rib_status: LabelStatus;
  clavicle_status: LabelStatus;
}

export async function studiesToRelabel(
  pool: pg.Pool,
  version: string,
  since: Date | null,
): Promise<StudyLabelRow[]> {
  const { rows } = await pool.query<RawStudy>(
    `SELECT s.* FROM study_record_labels s
     WHERE EXISTS (
       SELECT 1 FROM pseudo_labels p JOIN images i ON i.sop_instance_uid = p.sop_instance_uid
       WHERE p.accession = s.accession AND p.model_version <> $1 AND ($2::timestamptz IS NULL OR i.arrived_at >= $2)
         AND NOT EXISTS (SELECT 1 FROM pseudo_labels q
                         WHERE q.sop_instance_uid = p.sop_instance_uid AND q.class = p.class AND q.model_version = $1))
     ORDER BY s.accession`,
    [version, since],
  );
  return rows.map((r) => ({
    accession: r.accession,
    sendingFacility: r.sending_facility,
    ruleVersion: r.rule_version,
    status: r.report_status,
    statusRank: r.status_rank,
    provisional: r.provisional,
    observedAt: r.observed_at,
    reportedAt: r.reported_at,
    messageControlId: r.message_control_id,
    obrIndex: r.obr_index,
    labels: { rib: r.rib_status, clavicle: r.clavicle_status } as Record<DetectorClass, LabelStatus>,
  }));
}

export async function relabel(o: RelabelOptions): Promise<RelabelSummary> {
  const studies = await studiesToRelabel(o.pool, o.teacher.version, o.since);
  const metrics = createPseudoLabelerMetrics();
  const batcher = new MicroBatcher<Float32Array, TeacherMaps>((images) => o.teacher.run(images), {
    maxBatchSize: o.inferenceBatchSize,
    maxWaitMs: 5,
  });
  const processor = new PseudoLabelProcessor({
    settings: o.settings,
    pool: o.pool,
    registry: o.registry,
    encoder: new EventEncoder<PseudoLabelCreatedEvent>(
      o.registry,
      'PseudoLabelCreated',
      o.settings.outputTopic,
    ),
    producer: o.producer,
    dlq: new DlqPublisher(o.producer),
    storage: o.storage,
    trainingStore: o.trainingStore,
    teacher: o.teacher,
    batcher,
    metrics,
    logger: o.logger,
  });
  const summary: RelabelSummary = { studies: studies.length, written: 0, events: 0, failed: 0 };
  for (let i = 0; i < studies.length; i += o.batchStudies) {
    const chunk = studies.slice(i, i + o.batchStudies);
    const outcome = await processor.commit({ arrivals: [], labels: chunk, deadLetters: [] });
    summary.written += outcome.written;
    summary.events += outcome.eventsPublished;
    summary.failed += outcome.dlq;
    o.onProgress?.(Math.min(i + o.batchStudies, studies.length), studies.length);
  }
  o.logger.info({ version: o.teacher.version, ...summary }, 'relabel finished');
  return summary;
}
