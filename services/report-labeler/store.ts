import type pg from 'pg';
import { compareVersions } from './status-precedence.ts';
import type { ReportVersion } from './extract.ts';

/** One consumed record's fate, written to hl7_message_ledger. */
export interface LedgerEntry {
  topic: string;
  partition: number;
  offset: string;
  sendingFacility: string | null;
  messageControlId: string | null;
  outcome: 'stored' | 'skipped' | 'dlq';
  reason: string | null;
  reportCount: number;
  messageBytes: number;
}

const CLASSES = ['rib', 'clavicle', 'other'] as const;

function reportKey(v: Pick<ReportVersion, 'sendingFacility' | 'accession'>): string {
  return `${v.sendingFacility}\u0000${v.accession}`;
}

export function versionKey(
  v: Pick<ReportVersion, 'sendingFacility' | 'messageControlId' | 'obrIndex'>,
): string {
  return `${v.sendingFacility}\u0000${v.messageControlId}\u0000${v.obrIndex}`;
}

/** The highest-precedence version of each report among a batch's versions (one upsert per row). */
export function latestPerReport(versions: ReportVersion[]): ReportVersion[] {
  const best = new Map<string, ReportVersion>();
  for (const v of versions) {
    const key = reportKey(v);
    const current = best.get(key);
    if (!current || compareVersions(v, current) > 0) best.set(key, v);
  }
  // a stable order for row locks, so concurrent consumers cannot deadlock on each other's batches
  return [...best.values()].sort((a, b) =>
    reportKey(a) < reportKey(b) ? -1 : reportKey(a) > reportKey(b) ? 1 : 0,
  );
}

/**
 * Writes one batch in the caller's transaction: the history, the current reports (only where a
 * version supersedes what is stored), their labels, and the ledger. Returns the batch's versions
 * that are the current version of their report and whose event is not yet published: the ones to
 * publish. A stale version (P after F) is not returned, nor is a duplicate of a published one.
 */
export async function storeBatch(
  client: pg.ClientBase,
  versions: ReportVersion[],
  ledger: LedgerEntry[],
): Promise<UnpublishedVersion[]> {
  if (versions.length > 0) {
    await client.query(
      `INSERT INTO report_versions (sending_facility, message_control_id, obr_index, accession, result_status,
         observed_at, patient_pseudonym, procedure_code, procedure_text, hl7_version, report_text)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::timestamptz[],
         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
       ON CONFLICT DO NOTHING`,
      [
        versions.map((v) => v.sendingFacility),
        versions.map((v) => v.messageControlId),
        versions.map((v) => v.obrIndex),
        versions.map((v) => v.accession),
        versions.map((v) => v.status),
        versions.map((v) => v.observedAt.toISOString()),
        versions.map((v) => v.patientPseudonym),
        versions.map((v) => v.procedureCode),
        versions.map((v) => v.procedureText),
        versions.map((v) => v.hl7Version),
        versions.map((v) => v.text),
      ],
    );

    const latest = latestPerReport(versions);
    const changed = await client.query<{ id: string; sending_facility: string; accession: string }>(
      `INSERT INTO reports AS r (sending_facility, accession, result_status, status_rank, provisional, observed_at,
         message_control_id, obr_index, patient_pseudonym, procedure_code, procedure_text, hl7_version, report_text)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::bool[], $6::timestamptz[],
         $7::text[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
       ON CONFLICT (sending_facility, accession) DO UPDATE SET
         result_status = EXCLUDED.result_status, status_rank = EXCLUDED.status_rank,
         provisional = EXCLUDED.provisional, observed_at = EXCLUDED.observed_at,
         message_control_id = EXCLUDED.message_control_id, obr_index = EXCLUDED.obr_index,
         patient_pseudonym = EXCLUDED.patient_pseudonym, procedure_code = EXCLUDED.procedure_code,
         procedure_text = EXCLUDED.procedure_text, hl7_version = EXCLUDED.hl7_version,
         report_text = EXCLUDED.report_text, label_event_published = false, updated_at = now()
       WHERE (r.status_rank, r.observed_at, r.message_control_id, r.obr_index)
           < (EXCLUDED.status_rank, EXCLUDED.observed_at, EXCLUDED.message_control_id, EXCLUDED.obr_index)
       RETURNING r.id, r.sending_facility, r.accession`,
      [
        latest.map((v) => v.sendingFacility),
        latest.map((v) => v.accession),
        latest.map((v) => v.status),
        latest.map((v) => v.statusRank),
        latest.map((v) => v.provisional),
        latest.map((v) => v.observedAt.toISOString()),
        latest.map((v) => v.messageControlId),
        latest.map((v) => v.obrIndex),
        latest.map((v) => v.patientPseudonym),
        latest.map((v) => v.procedureCode),
        latest.map((v) => v.procedureText),
        latest.map((v) => v.hl7Version),
        latest.map((v) => v.text),
      ],
    );

    if (changed.rows.length > 0) {
      const byKey = new Map(latest.map((v) => [reportKey(v), v]));
      const ids: string[] = [];
      const cols = { cls: [] as string[], status: [] as string[], acuity: [] as (string | null)[] };
      const side: (string | null)[] = [];
      const ribs: string[] = [];
      const evidence: string[] = [];
      const ruleVersion: string[] = [];
      const resultStatus: string[] = [];
      const provisional: boolean[] = [];
      for (const row of changed.rows) {
        const v = byKey.get(reportKey({ sendingFacility: row.sending_facility, accession: row.accession }))!;
        for (const cls of CLASSES) {
          const label = v.labels[cls];
          ids.push(row.id);
          cols.cls.push(cls);
          cols.status.push(label.status);
          cols.acuity.push(label.acuity ?? null);
          side.push(label.side ?? null);
          // a Postgres array literal per row: unnest cannot take a ragged int[][]
          ribs.push(`{${(label.ribs ?? []).join(',')}}`);
          evidence.push(JSON.stringify(label.evidence ?? []));
          ruleVersion.push(v.labels.ruleVersion);
          resultStatus.push(v.status);
          provisional.push(v.provisional);
        }
      }
      await client.query(
        `INSERT INTO report_labels AS l (report_id, class, status, acuity, side, ribs, evidence, rule_version,
           result_status, provisional)
         SELECT id, cls, status, acuity, side, ribs::int[], evidence::jsonb, rule_version, result_status, provisional
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
           $8::text[], $9::text[], $10::bool[])
           AS t(id, cls, status, acuity, side, ribs, evidence, rule_version, result_status, provisional)
         ON CONFLICT (report_id, class) DO UPDATE SET
           status = EXCLUDED.status, acuity = EXCLUDED.acuity, side = EXCLUDED.side, ribs = EXCLUDED.ribs,
           evidence = EXCLUDED.evidence, rule_version = EXCLUDED.rule_version,
           result_status = EXCLUDED.result_status, provisional = EXCLUDED.provisional, updated_at = now()`,
        [
          ids,
          cols.cls,
          cols.status,
          cols.acuity,
          side,
          ribs,
          evidence,
          ruleVersion,
          resultStatus,
          provisional,
        ],
      );
    }
  }

  if (ledger.length > 0) {
    await client.query(
      `INSERT INTO hl7_message_ledger (topic, kafka_partition, kafka_offset, sending_facility, message_control_id,
         outcome, reason, report_count, message_bytes)
       SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::int[], $9::int[])
       ON CONFLICT DO NOTHING`,
      [
        ledger.map((e) => e.topic),
        ledger.map((e) => e.partition),
        ledger.map((e) => e.offset),
        ledger.map((e) => e.sendingFacility),
        ledger.map((e) => e.messageControlId),
        ledger.map((e) => e.outcome),
        ledger.map((e) => e.reason),
        ledger.map((e) => e.reportCount),
        ledger.map((e) => e.messageBytes),
      ],
    );
  }

  if (versions.length === 0) return [];
  // this batch's versions that are current now and whose event has not been published yet
  // (including ones already current before: a redelivery after a crash before publishing)
  const current = await client.query<{
    id: string;
    sending_facility: string;
    message_control_id: string;
    obr_index: number;
  }>(
    `SELECT r.id, r.sending_facility, r.message_control_id, r.obr_index
     FROM reports r JOIN (SELECT DISTINCT f, a FROM unnest($1::text[], $2::text[]) AS k(f, a)) k
       ON r.sending_facility = k.f AND r.accession = k.a
     WHERE NOT r.label_event_published`,
    [versions.map((v) => v.sendingFacility), versions.map((v) => v.accession)],
  );
  const idByVersion = new Map(
    current.rows.map((r) => [
      versionKey({
        sendingFacility: r.sending_facility,
        messageControlId: r.message_control_id,
        obrIndex: r.obr_index,
      }),
      r.id,
    ]),
  );
  const unpublished: UnpublishedVersion[] = [];
  for (const v of versions) {
    const id = idByVersion.get(versionKey(v));
    if (id === undefined) continue;
    idByVersion.delete(versionKey(v)); // once per version, even if the batch held duplicates
    unpublished.push({ reportId: id, version: v });
  }
  return unpublished;
}

export interface UnpublishedVersion {
  reportId: string;
  version: ReportVersion;
}

/**
 * Marks events as published once Kafka acknowledged them; a report superseded in the meantime
 * keeps its flag false (the guard on the version), so its new version's event is still sent.
 */
export async function markPublished(client: pg.ClientBase, published: UnpublishedVersion[]): Promise<void> {
  if (published.length === 0) return;
  await client.query(
    `UPDATE reports r SET label_event_published = true
     FROM unnest($1::bigint[], $2::text[], $3::int[]) AS p(id, message_control_id, obr_index)
     WHERE r.id = p.id AND r.message_control_id = p.message_control_id AND r.obr_index = p.obr_index`,
    [
      published.map((p) => p.reportId),
      published.map((p) => p.version.messageControlId),
      published.map((p) => p.version.obrIndex),
    ],
  );
}
