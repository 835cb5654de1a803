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
 * The whole batch as ONE statement (data-modifying CTEs), so it is one transaction and one round
 * trip: the history, the current reports (only where a version supersedes what is stored), the
 * labels of the reports it changed, and the ledger. Returns the versions to publish: those this
 * batch made current, plus, for records already in the ledger (redelivered after a crash, perhaps
 * between commit and publish), their versions that are still current. A stale version (P after F)
 * is never returned, nor is a duplicate message at a new offset (it changed nothing).
 * All records of a batch come from one topic partition (the ledger match is by offset).
 */
export async function storeBatch(
  db: Queryable,
  versions: ReportVersion[],
  ledger: LedgerEntry[],
): Promise<VersionToPublish[]> {
  const latest = latestPerReport(versions);
  // versions are passed once; the current-report upsert and the labels refer to them by position
  const position = new Map(versions.map((v, i) => [v, i + 1]));
  const labelRows = latest.flatMap((v) => CLASSES.map((cls) => ({ v, cls, label: v.labels[cls] })));
  const { rows } = await db.query<{
    id: string;
    sending_facility: string;
    message_control_id: string;
    obr_index: number;
  }>(
    `WITH
     versions_in AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::timestamptz[],
         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::smallint[], $14::bool[],
         $33::timestamptz[])
         WITH ORDINALITY AS t(f, m, o, a, s, t, p, pc, pt, hv, x, off, rank, prov, rt, n)
       -- a backstop: callers drop erased patients first (erased-patients.ts) and ledger them
       WHERE NOT EXISTS (SELECT 1 FROM erased_subjects e WHERE e.kind = 'patient' AND e.digest = t.p)
     ),
     history AS (
       INSERT INTO report_versions (sending_facility, message_control_id, obr_index, accession, result_status,
         observed_at, patient_pseudonym, procedure_code, procedure_text, hl7_version, report_text, reported_at)
       SELECT f, m, o, a, s, t, p, pc, pt, hv, x, rt FROM versions_in
       ON CONFLICT DO NOTHING
     ),
     upserted AS (
       INSERT INTO reports AS r (sending_facility, accession, result_status, status_rank, provisional, observed_at,
         message_control_id, obr_index, patient_pseudonym, procedure_code, procedure_text, hl7_version, report_text,
         reported_at)
       SELECT v.f, v.a, v.s, v.rank, v.prov, v.t, v.m, v.o, v.p, v.pc, v.pt, v.hv, v.x, v.rt
       FROM unnest($15::bigint[]) WITH ORDINALITY AS l(n, ord) JOIN versions_in v USING (n)
       ORDER BY l.ord
       ON CONFLICT (sending_facility, accession) DO UPDATE SET
         result_status = EXCLUDED.result_status, status_rank = EXCLUDED.status_rank,
         provisional = EXCLUDED.provisional, observed_at = EXCLUDED.observed_at,
         message_control_id = EXCLUDED.message_control_id, obr_index = EXCLUDED.obr_index,
         patient_pseudonym = EXCLUDED.patient_pseudonym, procedure_code = EXCLUDED.procedure_code,
         procedure_text = EXCLUDED.procedure_text, hl7_version = EXCLUDED.hl7_version,
         report_text = EXCLUDED.report_text, reported_at = EXCLUDED.reported_at, updated_at = now()
       WHERE (r.status_rank, r.reported_at, r.message_control_id, r.obr_index)
           < (EXCLUDED.status_rank, EXCLUDED.reported_at, EXCLUDED.message_control_id, EXCLUDED.obr_index)
       RETURNING r.id, r.sending_facility, r.accession, r.message_control_id, r.obr_index
     ),
     labels AS (
       INSERT INTO report_labels AS l (report_id, class, status, acuity, side, ribs, evidence, rule_version,
         result_status, provisional, cue, reasons)
       SELECT u.id, li.cls, li.status, li.acuity, li.side, li.ribs::int[], li.evidence::jsonb, li.rule_version,
         v.s, v.prov, li.cue, li.reasons::jsonb
       FROM unnest($16::bigint[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[],
           $23::text[], $34::text[], $35::text[]) AS li(n, cls, status, acuity, side, ribs, evidence, rule_version,
           cue, reasons)
         JOIN versions_in v USING (n)
         JOIN upserted u ON u.sending_facility = v.f AND u.accession = v.a
       ON CONFLICT (report_id, class) DO UPDATE SET
         status = EXCLUDED.status, acuity = EXCLUDED.acuity, side = EXCLUDED.side, ribs = EXCLUDED.ribs,
         evidence = EXCLUDED.evidence, rule_version = EXCLUDED.rule_version,
         cue = EXCLUDED.cue, reasons = EXCLUDED.reasons,
         result_status = EXCLUDED.result_status, provisional = EXCLUDED.provisional, updated_at = now()
     ),
     ledger AS (
       INSERT INTO hl7_message_ledger (topic, kafka_partition, kafka_offset, sending_facility, message_control_id,
         outcome, reason, report_count, message_bytes)
       SELECT * FROM unnest($24::text[], $25::int[], $26::bigint[], $27::text[], $28::text[], $29::text[],
         $30::text[], $31::int[], $32::int[])
       ON CONFLICT DO NOTHING
       RETURNING kafka_offset
     ),
     -- reports of records seen before (a redelivery after a crash, maybe between commit and publish)
     redelivered AS (
       SELECT DISTINCT v.f, v.a FROM versions_in v
       WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.kafka_offset = v.off)
     )
     -- the versions this statement made current, and, for redelivered records, the current version
     -- (this part sees the reports as they were before the statement: one snapshot)
     SELECT id, sending_facility, message_control_id, obr_index FROM upserted
     UNION ALL
     SELECT r.id, r.sending_facility, r.message_control_id, r.obr_index
     FROM redelivered k
       CROSS JOIN LATERAL (
         SELECT id, sending_facility, message_control_id, obr_index FROM reports
         WHERE sending_facility = k.f AND accession = k.a
       ) r
     WHERE NOT EXISTS (SELECT 1 FROM upserted u WHERE u.id = r.id)`,
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
      versions.map((v) => v.sourceOffset),
      versions.map((v) => v.statusRank),
      versions.map((v) => v.provisional),
      latest.map((v) => position.get(v)!),
      labelRows.map((r) => position.get(r.v)!),
      labelRows.map((r) => r.cls),
      labelRows.map((r) => r.label.status),
      labelRows.map((r) => r.label.acuity ?? null),
      labelRows.map((r) => r.label.side ?? null),
      // Postgres array literals: unnest cannot take a ragged int[][]
      labelRows.map((r) => `{${(r.label.ribs ?? []).join(',')}}`),
      labelRows.map((r) => JSON.stringify(r.label.evidence ?? [])),
      labelRows.map((r) => r.v.labels.ruleVersion),
      ledger.map((e) => e.topic),
      ledger.map((e) => e.partition),
      ledger.map((e) => e.offset),
      ledger.map((e) => e.sendingFacility),
      ledger.map((e) => e.messageControlId),
      ledger.map((e) => e.outcome),
      ledger.map((e) => e.reason),
      ledger.map((e) => e.reportCount),
      ledger.map((e) => e.messageBytes),
      versions.map((v) => v.reportedAt.toISOString()),
      labelRows.map((r) => r.label.cue ?? null),
      labelRows.map((r) => JSON.stringify(r.label.reasons ?? [])),
    ],
  );
  const idByVersion = new Map(
    rows.map((r) => [
      versionKey({
        sendingFacility: r.sending_facility,
        messageControlId: r.message_control_id,
        obrIndex: r.obr_index,
      }),
      r.id,
    ]),
  );
  const toPublish: VersionToPublish[] = [];
  for (const v of versions) {
    const id = idByVersion.get(versionKey(v));
    if (id === undefined) continue;
    idByVersion.delete(versionKey(v)); // once per version, even if the batch held duplicates
    toPublish.push({ reportId: id, version: v });
  }
  return toPublish;
}

/** A pg Pool or client. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

export interface VersionToPublish {
  reportId: string;
  version: ReportVersion;
}
