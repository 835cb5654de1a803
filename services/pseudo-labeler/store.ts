import type { DetectorClass, LabelStatus } from '../shared/vocabulary.ts';
import type pg from 'pg';
import { ERASED_REASON, findErased, waitForRunningErasure } from '../shared/privacy/erased-subjects.ts';
import type { ImageArrival } from './events.ts';
import {
  compareReportRefs,
  type ExistingPseudoLabel,
  type ReportRef,
  type StudyLabel,
} from './join-decision.ts';

export type StudyLabelRow = StudyLabel & { sendingFacility: string; ruleVersion: string };

/** Arrivals and labels left out because their subject was erased, by reason (erased-subjects.ts). */
export type ErasedDrops = Map<string, number>;

/**
 * Records arrivals (a redelivered one is a no-op) and study labels (only a superseding version wins),
 * except those of erased patients, accessions or images (`harvester forget`), which are counted by
 * reason and dropped. Runs inside the caller's transaction: it first waits for a running erasure.
 */
export async function storeInputs(
  client: pg.ClientBase,
  allArrivals: ImageArrival[],
  allLabels: StudyLabelRow[],
): Promise<ErasedDrops> {
  const drops: ErasedDrops = new Map();
  if (allArrivals.length === 0 && allLabels.length === 0) return drops;
  await waitForRunningErasure(client, 'images');
  const erased = await findErased(client, {
    pseudonyms: allArrivals.map((a) => a.event.patientPseudonym),
    accessions: [...allArrivals.map((a) => a.event.accession), ...allLabels.map((l) => l.accession)],
    sopInstanceUids: allArrivals.map((a) => a.event.sopInstanceUid),
  });
  const drop = (kind: keyof typeof ERASED_REASON): false => {
    drops.set(ERASED_REASON[kind], (drops.get(ERASED_REASON[kind]) ?? 0) + 1);
    return false;
  };
  const arrivals = allArrivals.filter(({ event: e }) => {
    if (e.patientPseudonym && erased.pseudonyms.has(e.patientPseudonym)) return drop('patient');
    if (erased.accessions.has(e.accession)) return drop('accession');
    if (erased.sopInstanceUids.has(e.sopInstanceUid)) return drop('image');
    return true;
  });
  const labels = allLabels.filter((l) => !erased.accessions.has(l.accession) || drop('accession'));
  if (arrivals.length > 0) {
    const cols = (f: (a: ImageArrival) => unknown) => arrivals.map(f);
    await client.query(
      `INSERT INTO images (sop_instance_uid, study_instance_uid, series_instance_uid, accession, modality,
         view_position, body_part_examined, rows, columns, bits_allocated, bits_stored, pixel_representation,
         pixel_spacing, photometric_interpretation, transfer_syntax_uid, uri, size_bytes, sha256, arrived_at,
         event_topic, event_partition, event_offset, event_value, patient_pseudonym)
       SELECT sop, study, series, acc, modality, view, body, r, c, ba, bs, pr,
         CASE WHEN spacing IS NULL THEN NULL ELSE spacing::double precision[] END,
         photo, ts, uri, size, sha, arrived, topic, part, off, val, pseudonym
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::int[], $9::int[], $10::int[], $11::int[], $12::int[], $13::text[], $14::text[], $15::text[],
         $16::text[], $17::bigint[], $18::text[], $19::timestamptz[], $20::text[], $21::int[], $22::bigint[],
         $23::bytea[], $24::text[])
         AS t(sop, study, series, acc, modality, view, body, r, c, ba, bs, pr, spacing, photo, ts, uri, size, sha,
              arrived, topic, part, off, val, pseudonym)
       ON CONFLICT (sop_instance_uid) DO NOTHING`,
      [
        cols((a) => a.event.sopInstanceUid),
        cols((a) => a.event.studyInstanceUid),
        cols((a) => a.event.seriesInstanceUid),
        cols((a) => a.event.accession),
        cols((a) => a.event.modality),
        cols((a) => a.event.viewPosition),
        cols((a) => a.event.bodyPartExamined),
        cols((a) => a.event.rows),
        cols((a) => a.event.columns),
        cols((a) => a.event.bitsAllocated),
        cols((a) => a.event.bitsStored),
        cols((a) => a.event.pixelRepresentation),
        cols((a) => (a.event.pixelSpacing ? `{${a.event.pixelSpacing.join(',')}}` : null)),
        cols((a) => a.event.photometricInterpretation),
        cols((a) => a.event.transferSyntaxUid),
        cols((a) => a.event.uri),
        cols((a) => a.event.sizeBytes),
        cols((a) => a.event.sha256),
        cols((a) => new Date(a.event.arrivedAt).toISOString()),
        cols((a) => a.topic),
        cols((a) => a.partition),
        cols((a) => a.offset),
        cols((a) => a.value),
        cols((a) => a.event.patientPseudonym ?? null),
      ],
    );
  }
  if (labels.length > 0) {
    // the best version per accession among the batch (the system-wide order), then one guarded upsert
    // each whose WHERE is the same order in SQL
    const best = new Map<string, StudyLabelRow>();
    for (const l of labels) {
      const cur = best.get(l.accession);
      if (!cur || compareReportRefs(l, cur) > 0) best.set(l.accession, l);
    }
    const rows = [...best.values()].sort((a, b) => (a.accession < b.accession ? -1 : 1));
    const col = (f: (l: StudyLabelRow) => unknown) => rows.map(f);
    await client.query(
      `INSERT INTO study_record_labels AS s (accession, sending_facility, report_status, status_rank, provisional,
         observed_at, message_control_id, obr_index, rule_version, rib_status, clavicle_status, reported_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::bool[], $6::timestamptz[],
         $7::text[], $8::int[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])
       ON CONFLICT (accession) DO UPDATE SET
         sending_facility = EXCLUDED.sending_facility, report_status = EXCLUDED.report_status,
         status_rank = EXCLUDED.status_rank, provisional = EXCLUDED.provisional,
         observed_at = EXCLUDED.observed_at, message_control_id = EXCLUDED.message_control_id,
         obr_index = EXCLUDED.obr_index, rule_version = EXCLUDED.rule_version,
         rib_status = EXCLUDED.rib_status, clavicle_status = EXCLUDED.clavicle_status,
         reported_at = EXCLUDED.reported_at, updated_at = now()
       WHERE (s.status_rank, s.reported_at, s.message_control_id, s.obr_index)
           < (EXCLUDED.status_rank, EXCLUDED.reported_at, EXCLUDED.message_control_id, EXCLUDED.obr_index)`,
      [
        col((l) => l.accession),
        col((l) => l.sendingFacility),
        col((l) => l.status),
        col((l) => l.statusRank),
        col((l) => l.provisional),
        col((l) => l.observedAt.toISOString()),
        col((l) => l.messageControlId),
        col((l) => l.obrIndex),
        col((l) => l.ruleVersion),
        col((l) => l.labels.rib),
        col((l) => l.labels.clavicle),
        col((l) => l.reportedAt.toISOString()),
      ],
    );
  }
  return drops;
}

/** An image as the join sees it: where to read it, its study's label, its stored pseudo-labels. */
export interface JoinRow {
  sopInstanceUid: string;
  accession: string;
  uri: string;
  arrivedAt: Date;
  eventTopic: string;
  eventPartition: number;
  eventOffset: string;
  eventValue: Buffer;
  study: StudyLabel | null;
  existing: Partial<Record<DetectorClass, ExistingPseudoLabel>>;
}

interface RawJoinRow {
  sop_instance_uid: string;
  accession: string;
  uri: string;
  arrived_at: Date;
  event_topic: string;
  event_partition: number;
  event_offset: string;
  event_value: Buffer;
  report_status: 'P' | 'F' | 'C' | null;
  status_rank: number | null;
  provisional: boolean | null;
  observed_at: Date | null;
  reported_at: Date | null;
  message_control_id: string | null;
  obr_index: number | null;
  rib_status: LabelStatus | null;
  clavicle_status: LabelStatus | null;
  existing: Array<{
    class: DetectorClass;
    status: 'P' | 'F' | 'C';
    rank: number;
    observed_at: string;
    reported_at: string;
    mcid: string;
    obr: number;
    published: boolean;
  }> | null;
}

/** The join state of every usable image of the given studies, for one teacher version. */
export async function loadJoinState(
  db: pg.Pool | pg.ClientBase,
  accessions: string[],
  modelVersion: string,
): Promise<JoinRow[]> {
  if (accessions.length === 0) return [];
  const { rows } = await db.query<RawJoinRow>(
    `SELECT i.sop_instance_uid, i.accession, i.uri, i.arrived_at, i.event_topic, i.event_partition,
       i.event_offset::text AS event_offset, i.event_value,
       s.report_status, s.status_rank, s.provisional, s.observed_at, s.reported_at, s.message_control_id,
       s.obr_index, s.rib_status, s.clavicle_status,
       (SELECT json_agg(json_build_object('class', p.class, 'status', p.report_status, 'rank', p.report_status_rank,
           'observed_at', p.report_observed_at, 'reported_at', p.report_reported_at,
           'mcid', p.report_message_control_id, 'obr', p.report_obr_index, 'published', p.event_published))
        FROM pseudo_labels p WHERE p.sop_instance_uid = i.sop_instance_uid AND p.model_version = $2) AS existing
     FROM images i
     LEFT JOIN study_record_labels s ON s.accession = i.accession
     WHERE i.accession = ANY($1::text[]) AND i.failed_reason IS NULL
     ORDER BY i.sop_instance_uid`,
    [accessions, modelVersion],
  );
  return rows.map((r) => {
    const existing: JoinRow['existing'] = {};
    for (const e of r.existing ?? []) {
      existing[e.class] = {
        eventPublished: e.published,
        report: {
          status: e.status,
          statusRank: e.rank,
          observedAt: new Date(e.observed_at),
          reportedAt: new Date(e.reported_at),
          messageControlId: e.mcid,
          obrIndex: e.obr,
        },
      };
    }
    return {
      sopInstanceUid: r.sop_instance_uid,
      accession: r.accession,
      uri: r.uri,
      arrivedAt: r.arrived_at,
      eventTopic: r.event_topic,
      eventPartition: r.event_partition,
      eventOffset: r.event_offset,
      eventValue: r.event_value,
      study:
        r.report_status === null
          ? null
          : {
              accession: r.accession,
              status: r.report_status,
              statusRank: r.status_rank!,
              provisional: r.provisional!,
              observedAt: r.observed_at!,
              reportedAt: r.reported_at!,
              messageControlId: r.message_control_id!,
              obrIndex: r.obr_index!,
              labels: { rib: r.rib_status!, clavicle: r.clavicle_status! },
            },
      existing,
    };
  });
}

/** One computed pseudo-label, ready to store. */
export interface ComputedLabel {
  sopInstanceUid: string;
  cls: DetectorClass;
  accession: string;
  recordStatus: LabelStatus;
  targetMethod: string;
  aals: { t: number; a0: number; eps: number };
  target: Uint8Array;
  height: number;
  width: number;
  teacherScore: number;
  targetMax: number;
  targetMean: number;
  positiveFraction: number;
  report: ReportRef;
}

/** A stored label to move to the history because its study's label became uncertain (skipped). */
export interface Withdrawal {
  sopInstanceUid: string;
  cls: DetectorClass;
  report: ReportRef;
}

export interface WriteOutcome {
  written: number;
  superseded: number;
  withdrawn: number;
  /** Results older than what is stored (another instance got a newer report first). */
  stale: number;
}

/** Every column of pseudo_labels, as pseudo_labels_superseded repeats them. */
const PSEUDO_LABEL_COLUMNS = [
  'sop_instance_uid',
  'class',
  'model_version',
  'accession',
  'record_status',
  'target_method',
  'aals_t',
  'aals_a0',
  'aals_eps',
  'target',
  'target_height',
  'target_width',
  'teacher_score',
  'target_max',
  'target_mean',
  'positive_fraction',
  'report_status',
  'report_status_rank',
  'report_observed_at',
  'report_message_control_id',
  'report_obr_index',
  'report_reported_at',
  'event_published',
  'created_at',
];

/**
 * Writes computed labels in the caller's transaction. A stored label from an older report version
 * is copied to pseudo_labels_superseded, then replaced; one from the same or a newer version stays
 * (a retry or a slower instance changes nothing). Withdrawals move the stored label to the history.
 */
export async function writePseudoLabels(
  client: pg.ClientBase,
  modelVersion: string,
  labels: ComputedLabel[],
  withdrawals: Withdrawal[],
): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { written: 0, superseded: 0, withdrawn: 0, stale: 0 };
  const keys = [
    ...labels.map((l) => [l.sopInstanceUid, l.cls]),
    ...withdrawals.map((w) => [w.sopInstanceUid, w.cls]),
  ];
  if (keys.length === 0) return outcome;
  const locked = await client.query<{
    sop_instance_uid: string;
    class: DetectorClass;
    report_status: 'P' | 'F' | 'C';
    report_status_rank: number;
    report_observed_at: Date;
    report_reported_at: Date;
    report_message_control_id: string;
    report_obr_index: number;
  }>(
    `SELECT p.sop_instance_uid, p.class, p.report_status, p.report_status_rank, p.report_observed_at,
       p.report_reported_at, p.report_message_control_id, p.report_obr_index
     FROM pseudo_labels p JOIN unnest($1::text[], $2::text[]) AS k(sop, cls)
       ON p.sop_instance_uid = k.sop AND p.class = k.cls
     WHERE p.model_version = $3
     ORDER BY p.sop_instance_uid, p.class
     FOR UPDATE OF p`,
    [keys.map((k) => k[0]), keys.map((k) => k[1]), modelVersion],
  );
  const stored = new Map<string, ReportRef>(
    locked.rows.map((r) => [
      `${r.sop_instance_uid}\u0000${r.class}`,
      {
        status: r.report_status,
        statusRank: r.report_status_rank,
        observedAt: r.report_observed_at,
        reportedAt: r.report_reported_at,
        messageControlId: r.report_message_control_id,
        obrIndex: r.report_obr_index,
      },
    ]),
  );
  const toMove: Array<{ sop: string; cls: string; by: ReportRef }> = [];
  const toWrite: ComputedLabel[] = [];
  for (const l of labels) {
    const current = stored.get(`${l.sopInstanceUid}\u0000${l.cls}`);
    if (current && compareReportRefs(current, l.report) >= 0) {
      outcome.stale++;
      continue;
    }
    if (current) toMove.push({ sop: l.sopInstanceUid, cls: l.cls, by: l.report });
    toWrite.push(l);
  }
  for (const w of withdrawals) {
    const current = stored.get(`${w.sopInstanceUid}\u0000${w.cls}`);
    if (current && compareReportRefs(current, w.report) < 0) {
      toMove.push({ sop: w.sopInstanceUid, cls: w.cls, by: w.report });
      outcome.withdrawn++;
    }
  }
  if (toMove.length > 0) {
    await client.query(
      // named columns: report_reported_at came later and sits at a different position in each table
      `INSERT INTO pseudo_labels_superseded (${PSEUDO_LABEL_COLUMNS.join(', ')}, superseded_at,
         superseded_by_report_status, superseded_by_message_control_id, superseded_by_obr_index)
       SELECT ${PSEUDO_LABEL_COLUMNS.map((c) => `p.${c}`).join(', ')}, now(), k.status, k.mcid, k.obr
       FROM pseudo_labels p JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[])
         AS k(sop, cls, status, mcid, obr) ON p.sop_instance_uid = k.sop AND p.class = k.cls
       WHERE p.model_version = $6
       ON CONFLICT DO NOTHING`,
      [
        toMove.map((m) => m.sop),
        toMove.map((m) => m.cls),
        toMove.map((m) => m.by.status),
        toMove.map((m) => m.by.messageControlId),
        toMove.map((m) => m.by.obrIndex),
        modelVersion,
      ],
    );
    await client.query(
      `DELETE FROM pseudo_labels p USING unnest($1::text[], $2::text[]) AS k(sop, cls)
       WHERE p.sop_instance_uid = k.sop AND p.class = k.cls AND p.model_version = $3`,
      [toMove.map((m) => m.sop), toMove.map((m) => m.cls), modelVersion],
    );
    outcome.superseded = toMove.length - outcome.withdrawn;
  }
  if (toWrite.length > 0) {
    const col = (f: (l: ComputedLabel) => unknown) => toWrite.map(f);
    await client.query(
      `INSERT INTO pseudo_labels (sop_instance_uid, class, model_version, accession, record_status, target_method,
         aals_t, aals_a0, aals_eps, target, target_height, target_width, teacher_score, target_max, target_mean,
         positive_fraction, report_status, report_status_rank, report_observed_at, report_message_control_id,
         report_obr_index, report_reported_at)
       SELECT sop, cls, $1, acc, rs, tm, t, a0, eps, tgt, h, w, score, tmax, tmean, pf, st, rk, obs, mcid, obr, rep
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[],
         $9::float8[], $10::bytea[], $11::int[], $12::int[], $13::real[], $14::real[], $15::real[], $16::real[],
         $17::text[], $18::smallint[], $19::timestamptz[], $20::text[], $21::int[], $22::timestamptz[])
         AS t(sop, cls, acc, rs, tm, t, a0, eps, tgt, h, w, score, tmax, tmean, pf, st, rk, obs, mcid, obr, rep)`,
      [
        modelVersion,
        col((l) => l.sopInstanceUid),
        col((l) => l.cls),
        col((l) => l.accession),
        col((l) => l.recordStatus),
        col((l) => l.targetMethod),
        col((l) => l.aals.t),
        col((l) => l.aals.a0),
        col((l) => l.aals.eps),
        col((l) => Buffer.from(l.target.buffer, l.target.byteOffset, l.target.byteLength)),
        col((l) => l.height),
        col((l) => l.width),
        col((l) => l.teacherScore),
        col((l) => l.targetMax),
        col((l) => l.targetMean),
        col((l) => l.positiveFraction),
        col((l) => l.report.status),
        col((l) => l.report.statusRank),
        col((l) => l.report.observedAt.toISOString()),
        col((l) => l.report.messageControlId),
        col((l) => l.report.obrIndex),
        col((l) => l.report.reportedAt.toISOString()),
      ],
    );
    outcome.written = toWrite.length;
  }
  return outcome;
}

/** Marks images that cannot be read or decoded; they leave the join for good. */
export async function markImagesFailed(
  client: pg.ClientBase,
  failures: Array<{ sopInstanceUid: string; reason: string }>,
): Promise<void> {
  if (failures.length === 0) return;
  await client.query(
    `UPDATE images i SET failed_reason = f.reason, failed_at = now()
     FROM unnest($1::text[], $2::text[]) AS f(sop, reason) WHERE i.sop_instance_uid = f.sop`,
    [failures.map((f) => f.sopInstanceUid), failures.map((f) => f.reason)],
  );
}

/** A stored label whose PseudoLabelCreated event is not yet acknowledged. */
export interface UnpublishedLabel {
  sopInstanceUid: string;
  cls: DetectorClass;
  accession: string;
  recordStatus: LabelStatus;
  reportStatus: string;
  messageControlId: string;
  obrIndex: number;
  aals: { t: number; a0: number; eps: number };
  height: number;
  width: number;
  teacherScore: number;
  targetMax: number;
  targetMean: number;
  positiveFraction: number;
  createdAt: Date;
  arrivedAt: Date;
}

export async function loadUnpublished(
  db: pg.Pool | pg.ClientBase,
  accessions: string[],
  modelVersion: string,
): Promise<UnpublishedLabel[]> {
  if (accessions.length === 0) return [];
  const { rows } = await db.query(
    `SELECT p.sop_instance_uid, p.class, p.accession, p.record_status, p.report_status, p.report_message_control_id,
       p.report_obr_index, p.aals_t, p.aals_a0, p.aals_eps, p.target_height, p.target_width, p.teacher_score,
       p.target_max, p.target_mean, p.positive_fraction, p.created_at, i.arrived_at
     FROM pseudo_labels p JOIN images i ON i.sop_instance_uid = p.sop_instance_uid
     WHERE p.accession = ANY($1::text[]) AND p.model_version = $2 AND NOT p.event_published
     ORDER BY p.sop_instance_uid, p.class`,
    [accessions, modelVersion],
  );
  return rows.map((r) => ({
    sopInstanceUid: r.sop_instance_uid,
    cls: r.class,
    accession: r.accession,
    recordStatus: r.record_status,
    reportStatus: r.report_status,
    messageControlId: r.report_message_control_id,
    obrIndex: r.report_obr_index,
    aals: { t: r.aals_t, a0: r.aals_a0, eps: r.aals_eps },
    height: r.target_height,
    width: r.target_width,
    teacherScore: r.teacher_score,
    targetMax: r.target_max,
    targetMean: r.target_mean,
    positiveFraction: r.positive_fraction,
    createdAt: r.created_at,
    arrivedAt: r.arrived_at,
  }));
}

/** Marks events as published; a label replaced in the meantime keeps its flag (the version guard). */
export async function markPublished(
  db: pg.Pool | pg.ClientBase,
  modelVersion: string,
  published: UnpublishedLabel[],
): Promise<void> {
  if (published.length === 0) return;
  await db.query(
    `UPDATE pseudo_labels p SET event_published = true
     FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS k(sop, cls, mcid, obr)
     WHERE p.sop_instance_uid = k.sop AND p.class = k.cls AND p.model_version = $5
       AND p.report_message_control_id = k.mcid AND p.report_obr_index = k.obr`,
    [
      published.map((p) => p.sopInstanceUid),
      published.map((p) => p.cls),
      published.map((p) => p.messageControlId),
      published.map((p) => p.obrIndex),
      modelVersion,
    ],
  );
}
