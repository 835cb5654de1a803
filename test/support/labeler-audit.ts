import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { DLQ_HEADERS } from '../../services/shared/kafka/dlq.ts';
import { uniqueTopicName } from './names.ts';
import { STALL_MS, waitForProgress } from './progress.ts';

/** What an audit of one report-labeler run found: every input record accounted for once. */
export interface LabelerAudit {
  /** Messages the load generator had acknowledged by the broker. */
  sent: number;
  /** Records in the input topic (more than `sent` when a producer retry landed twice). */
  topicRecords: number;
  ledgerRows: number;
  stored: number;
  skipped: number;
  dlq: number;
  /** Distinct input offsets found in the DLQ topic, and DLQ records in all (a replay may repeat one). */
  dlqOffsets: number;
  dlqRecords: number;
  /** Acknowledged messages with no ledger row. */
  lost: string[];
  reportVersions: number;
  /** Distinct MSH-10 among stored ledger rows: report_versions must hold exactly these. */
  storedIds: number;
  reports: number;
  labels: number;
  /** Rows beyond one per natural key (report version, report, label). */
  duplicates: number;
}

/** Sum of the topic's partition sizes. */
export async function topicRecordCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until the ledger has a row for every record of the input topic, for as long as rows keep
 * arriving: it fails only when the ledger has not grown for `stallMs` (a stalled consumer).
 */
export async function waitForDrain(
  kafka: Kafka,
  pool: pg.Pool,
  topic: string,
  stallMs = STALL_MS,
): Promise<number> {
  const records = await topicRecordCount(kafka, topic);
  await waitForProgress({
    what: `a ledger row for each of the ${records} records of ${topic}`,
    measure: () => ledgerCount(pool, topic),
    done: (rows) => rows >= records,
    stallMs,
  });
  return records;
}

async function ledgerCount(pool: pg.Pool, topic: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM hl7_message_ledger WHERE topic = $1',
    [topic],
  );
  return rows[0]!.n;
}

/**
 * Accounts for every record of `input`: ledger rows (stored + skipped + dlq) = records in the topic;
 * every acknowledged message id is in the ledger; the DLQ holds each dead-lettered offset; stored
 * messages are in report_versions exactly once, one report per accession, three labels per report.
 * The pool's search_path must be the run's schema (it holds this run's rows only).
 */
export async function auditLabeler(
  kafka: Kafka,
  pool: pg.Pool,
  input: string,
  acked: readonly string[],
): Promise<LabelerAudit> {
  const topicRecords = await topicRecordCount(kafka, input);
  const { rows: ledger } = await pool.query<{ outcome: string; n: number }>(
    'SELECT outcome, count(*)::int AS n FROM hl7_message_ledger WHERE topic = $1 GROUP BY outcome',
    [input],
  );
  const by = Object.fromEntries(ledger.map((r) => [r.outcome, r.n])) as Record<string, number>;
  const { rows: ids } = await pool.query<{ id: string }>(
    'SELECT DISTINCT message_control_id AS id FROM hl7_message_ledger WHERE topic = $1',
    [input],
  );
  const seen = new Set(ids.map((r) => r.id));
  const { rows: counts } = await pool.query<{
    versions: number;
    stored_ids: number;
    reports: number;
    accessions: number;
    labels: number;
    label_keys: number;
  }>(
    `SELECT (SELECT count(*)::int FROM report_versions) AS versions,
            (SELECT count(DISTINCT (sending_facility, message_control_id))::int FROM hl7_message_ledger
              WHERE topic = $1 AND outcome = 'stored') AS stored_ids,
            (SELECT count(*)::int FROM reports) AS reports,
            (SELECT count(DISTINCT (sending_facility, accession))::int FROM reports) AS accessions,
            (SELECT count(*)::int FROM report_labels) AS labels,
            (SELECT count(DISTINCT (report_id, class))::int FROM report_labels) AS label_keys`,
    [input],
  );
  const c = counts[0]!;
  const dlq = await readDlqOffsets(kafka, `${input}.dlq`, by.dlq ?? 0);
  return {
    sent: acked.length,
    topicRecords,
    ledgerRows: (by.stored ?? 0) + (by.skipped ?? 0) + (by.dlq ?? 0),
    stored: by.stored ?? 0,
    skipped: by.skipped ?? 0,
    dlq: by.dlq ?? 0,
    dlqOffsets: dlq.offsets,
    dlqRecords: dlq.records,
    lost: acked.filter((id) => !seen.has(id)),
    reportVersions: c.versions,
    storedIds: c.stored_ids,
    reports: c.reports,
    labels: c.labels,
    duplicates:
      c.versions -
      c.stored_ids +
      (c.reports - c.accessions) +
      (c.labels - c.label_keys) +
      (c.labels - 3 * c.reports),
  };
}

/** Reads a DLQ topic from the start until `expected` distinct source offsets are seen (or 60 s). */
async function readDlqOffsets(
  kafka: Kafka,
  topic: string,
  expected: number,
): Promise<{ offsets: number; records: number }> {
  const offsets = new Set<string>();
  let records = 0;
  if (expected === 0 && (await topicRecordCount(kafka, topic)) === 0) return { offsets: 0, records: 0 };
  const consumer = kafka.consumer({ groupId: uniqueTopicName('dlq-audit') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const total = await topicRecordCount(kafka, topic);
    await consumer.run({
      eachMessage: async ({ message }) => {
        records++;
        const h = message.headers ?? {};
        offsets.add(
          `${h[DLQ_HEADERS.sourcePartition]?.toString()}:${h[DLQ_HEADERS.sourceOffset]?.toString()}`,
        );
      },
    });
    await waitForProgress({
      what: `the ${total} records of ${topic}`,
      measure: () => records,
      done: (n) => n >= total,
    });
  } finally {
    await consumer.disconnect();
  }
  return { offsets: offsets.size, records };
}

/** One line for logs and RELIABILITY.md. */
export function formatAudit(name: string, a: LabelerAudit): string {
  return (
    `${name}: sent ${a.sent}, topic ${a.topicRecords}, ledger ${a.ledgerRows} (stored ${a.stored}, ` +
    `skipped ${a.skipped}, dlq ${a.dlq}), DLQ offsets ${a.dlqOffsets} (records ${a.dlqRecords}), ` +
    `versions ${a.reportVersions}, reports ${a.reports}, labels ${a.labels}, lost ${a.lost.length}, ` +
    `duplicates ${a.duplicates}`
  );
}
