import type pg from 'pg';
import { studyLabelFromEvent } from '../../pseudo-labeler/events.ts';
import { storeInputs } from '../../pseudo-labeler/store.ts';
import { prepareRecords } from '../../report-labeler/batch-processor.ts';
import type { ExtractionDeps, RawRecord } from '../../report-labeler/extract.ts';
import { reportLabelEvent } from '../../report-labeler/report-label-event.ts';
import { dropErasedPatients } from '../../report-labeler/erased-patients.ts';
import { storeBatch } from '../../report-labeler/store.ts';
import { withTransaction } from '../../shared/db/transaction.ts';
import { archiveOffset, BACKFILL_HL7_TOPIC, BACKFILL_PARTITION } from './archive-keys.ts';
import { bump, type Counts } from './counts.ts';

/** One HL7 message of an archive file. */
export interface ArchiveMessage {
  file: string;
  /** Position of the message in its file (0-based), for problem reports. */
  index: number;
  bytes: Buffer;
  /** Observation time when the message has none (the file's modification time). */
  fallbackTimeMs: number;
}

export interface ReportBatchOutcome {
  messages: number;
  /** Already in the ledger (an earlier run, or the same bytes twice). */
  alreadyDone: number;
  stored: number;
  versions: number;
  skipped: Counts;
  failed: Counts;
  problems: Array<{ file: string; index: number; reason: string }>;
}

/**
 * Labels and stores one batch of archive messages exactly as the report-labeler does (same
 * extraction, status precedence, pseudonymisation and batch statement), and records the study
 * labels the pseudo-labeler joins images with, in one transaction: an interruption leaves either
 * all of the batch or none of it, and a message in the ledger is never processed again.
 */
export async function backfillReportBatch(
  pool: pg.Pool,
  messages: ArchiveMessage[],
  extraction: ExtractionDeps,
  now: Date = new Date(),
): Promise<ReportBatchOutcome> {
  const outcome: ReportBatchOutcome = {
    messages: messages.length,
    alreadyDone: 0,
    stored: 0,
    versions: 0,
    skipped: {},
    failed: {},
    problems: [],
  };
  const offsets = messages.map((m) => archiveOffset(m.bytes));
  const { rows } = await pool.query<{ offset: string }>(
    `SELECT kafka_offset::text AS offset FROM hl7_message_ledger
     WHERE topic = $1 AND kafka_partition = $2 AND kafka_offset = ANY($3::bigint[])`,
    [BACKFILL_HL7_TOPIC, BACKFILL_PARTITION, offsets],
  );
  const done = new Set(rows.map((r) => r.offset));
  const records: RawRecord[] = [];
  const origin = new Map<string, ArchiveMessage>();
  messages.forEach((m, i) => {
    const offset = offsets[i]!;
    if (done.has(offset)) {
      outcome.alreadyDone++;
      return;
    }
    done.add(offset);
    origin.set(offset, m);
    records.push({
      topic: BACKFILL_HL7_TOPIC,
      partition: BACKFILL_PARTITION,
      offset,
      key: null,
      value: m.bytes,
      timestamp: m.fallbackTimeMs,
    });
  });
  if (records.length === 0) return outcome;

  const prepared = prepareRecords(records, extraction);
  let ledger = prepared.ledger;
  await withTransaction(pool, async (client) => {
    const kept = await dropErasedPatients(client, prepared);
    ledger = kept.ledger;
    const current = await storeBatch(client, kept.versions, kept.ledger);
    const labels = current.map((c) => studyLabelFromEvent(reportLabelEvent(c.version, now)));
    await storeInputs(client, [], labels);
  });

  outcome.versions = prepared.versions.length;
  for (const entry of ledger) {
    if (entry.outcome === 'stored') outcome.stored++;
    else if (entry.outcome === 'skipped') bump(outcome.skipped, entry.reason ?? 'skipped');
    else {
      const reason = entry.reason ?? 'failed';
      bump(outcome.failed, reason);
      const m = origin.get(entry.offset)!;
      outcome.problems.push({ file: m.file, index: m.index, reason });
    }
  }
  return outcome;
}
