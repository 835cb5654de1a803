import type pg from 'pg';
import type { EventEncoder } from '../shared/events/encoder.ts';
import { deadLetterOf, DLQ_HEADERS, type DeadLetter, type DlqPublisher } from '../shared/kafka/dlq.ts';
import type { MessageProducer } from '../shared/kafka/producer.ts';
import { withTransaction } from '../shared/db/transaction.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { ERASED_REASON } from '../shared/privacy/erased-subjects.ts';
import { dropErasedPatients } from './erased-patients.ts';
import {
  extractRecord,
  type ExtractionDeps,
  type RawRecord,
  type RecordGarbage,
  type ReportVersion,
} from './extract.ts';
import type { ReportLabelerMetrics } from './metrics.ts';
import type { ReportLabelEvent } from '../shared/events/report-label-event.ts';
import { reportLabelEvent } from './report-label-event.ts';
import { storeBatch, type LedgerEntry } from './store.ts';

export const STAGE = 'report-labeler/extract';

/** A batch after the pure step: what to write, what to dead-letter. Reused unchanged on retries. */
export interface PreparedBatch {
  versions: ReportVersion[];
  ledger: LedgerEntry[];
  deadLetters: DeadLetter[];
}

export interface BatchOutcome {
  stored: number;
  skipped: number;
  dlq: number;
  eventsPublished: number;
}

/**
 * The pure step of a batch: each record extracted and labelled (stored, skipped or dead-lettered)
 * with its ledger entry. Shared by the Kafka consumer and the archive backfill (services/app/backfill).
 */
export function prepareRecords(records: RawRecord[], extraction: ExtractionDeps): PreparedBatch {
  const batch: PreparedBatch = { versions: [], ledger: [], deadLetters: [] };
  for (const record of records) {
    let result: ReturnType<typeof extractRecord>;
    try {
      result = extractRecord(record, extraction);
    } catch (err) {
      // a bug on one odd message must not stop the stream: dead-letter it, visible in metrics
      result = {
        outcome: 'dlq',
        reason: 'label-error',
        detail: `internal: ${(err as Error).message}`.slice(0, 300),
      };
    }
    const bytes = record.value?.length ?? 0;
    const header = result.header;
    const base = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      sendingFacility: header?.sendingFacility ?? null,
      messageControlId: header?.messageControlId ?? null,
      messageBytes: bytes,
    };
    if (result.outcome === 'stored') {
      batch.versions.push(...result.versions);
      batch.ledger.push({
        ...base,
        outcome: 'stored',
        reason: result.garbage ? 'garbage-lines' : null,
        reportCount: result.versions.length,
      });
    } else if (result.outcome === 'skipped') {
      batch.ledger.push({ ...base, outcome: 'skipped', reason: result.reason, reportCount: 0 });
    } else {
      batch.ledger.push({ ...base, outcome: 'dlq', reason: result.reason, reportCount: 0 });
      batch.deadLetters.push(
        deadLetter(
          record,
          result.reason,
          result.garbage ? `${result.detail}; and ${result.garbage.detail}` : result.detail,
          result.garbage,
        ),
      );
    }
    if (result.garbage && result.outcome !== 'dlq') {
      // The message was labelled (or skipped) without its garbage lines; they are dead-lettered on
      // their own, with the whole record, and say where they were in its headers.
      batch.deadLetters.push(deadLetter(record, 'garbage-lines', result.garbage.detail, result.garbage));
    }
  }
  return batch;
}

/** A dead letter for a record, with where its garbage lines were when it had any. */
function deadLetter(record: RawRecord, reason: string, detail: string, garbage?: RecordGarbage): DeadLetter {
  return deadLetterOf(
    record,
    STAGE,
    reason,
    detail,
    garbage && {
      [DLQ_HEADERS.garbageLines]: garbage.lines.map((g) => g.line).join(','),
      [DLQ_HEADERS.garbageOffsets]: garbage.lines.map((g) => g.offset).join(','),
    },
  );
}

export interface BatchProcessorDeps {
  extraction: ExtractionDeps;
  pool: pg.Pool;
  encoder: EventEncoder<ReportLabelEvent>;
  producer: MessageProducer;
  dlq: DlqPublisher;
  outputTopic: string;
  metrics: ReportLabelerMetrics;
  logger: Logger;
  now?: () => Date;
}

/**
 * The labeler's work on one batch of records, independent of the Kafka client: prepare (pure),
 * then commit = one database transaction, then DLQ and ReportLabel events. The caller commits
 * offsets only after commit() resolves, and retries commit() on failure; every write is idempotent,
 * so a retry or a redelivery after a crash changes nothing already written.
 */
export class BatchProcessor {
  private readonly now: () => Date;

  constructor(private readonly deps: BatchProcessorDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  prepare(records: RawRecord[]): PreparedBatch {
    return prepareRecords(records, this.deps.extraction);
  }

  /** Writes, dead-letters and publishes one prepared batch. Throws on any dependency failure. */
  async commit(batch: PreparedBatch): Promise<BatchOutcome> {
    const { pool, encoder, producer, dlq, outputTopic, metrics, logger } = this.deps;
    // the registry first: if it is down, nothing is written and the whole batch is retried
    const t0 = performance.now();
    if (batch.versions.length > 0) await encoder.ready();
    // one transaction: the erased-patient check sees any erasure that committed before the write
    const { toPublish, ledger } = await withTransaction(pool, async (client) => {
      const kept = await dropErasedPatients(client, batch);
      return { toPublish: await storeBatch(client, kept.versions, kept.ledger), ledger: kept.ledger };
    });
    const t1 = performance.now();
    if (batch.deadLetters.length > 0) await dlq.publish(batch.deadLetters);
    const labelledAt = this.now();
    const messages = toPublish.map(({ version: v }) => ({
      key: v.accession,
      value: encoder.encode(reportLabelEvent(v, labelledAt)),
    }));
    const t2 = performance.now();
    await producer.send(outputTopic, messages);
    logger.debug(
      {
        records: batch.ledger.length,
        storeMs: Math.round(t1 - t0),
        encodeMs: Math.round(t2 - t1),
        publishMs: Math.round(performance.now() - t2),
      },
      'batch committed',
    );
    const current = toPublish.map((u) => u.version);

    const outcome: BatchOutcome = { stored: 0, skipped: 0, dlq: 0, eventsPublished: messages.length };
    for (const entry of ledger) {
      outcome[entry.outcome]++;
      if (entry.reason === ERASED_REASON.patient) metrics.dropped.inc({ reason: entry.reason });
    }
    metrics.messages.inc({ outcome: 'stored' }, outcome.stored);
    metrics.messages.inc({ outcome: 'skipped' }, outcome.skipped);
    metrics.messages.inc({ outcome: 'dlq' }, outcome.dlq);
    metrics.events.inc(messages.length);
    for (const letter of batch.deadLetters) {
      metrics.dlq.inc({ reason: letter.reason });
      // reason and position only: the detail and the bytes may carry PHI
      logger.warn(
        { reason: letter.reason, partition: letter.sourcePartition, offset: letter.sourceOffset },
        'message sent to DLQ',
      );
    }
    for (const v of current) {
      for (const cls of ['rib', 'clavicle', 'other'] as const) {
        metrics.labels.inc({ class: cls, status: v.labels[cls].status });
      }
    }
    return outcome;
  }
}
