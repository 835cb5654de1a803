import type pg from 'pg';

// Typed reads of the analytics views (migrations/*_analytics-views.sql). Counts come back from
// Postgres as bigint strings and are turned into numbers here; months as 'YYYY-MM'.

export type Queryable = Pick<pg.Pool, 'query'>;

export type LabelGrouping = 'month' | 'facility' | 'view';

/** A class's reports by label status, and the share of them that is positive. */
export interface ClassStatusCounts {
  class: string;
  reports: number;
  positive: number;
  uncertain: number;
  negative: number;
  positiveRate: number;
}

export interface LabelCounts extends ClassStatusCounts {
  /** The month (YYYY-MM), facility or view position the row counts. */
  group: string;
}

const GROUP_EXPRESSION: Record<LabelGrouping, string> = {
  month: `to_char(month, 'YYYY-MM')`,
  facility: 'facility',
  view: 'view_position',
};

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Report-label counts per month, facility or view position and class (final and corrected
 * reports), from `since` (YYYY-MM-01) on when given.
 */
export async function labelCounts(db: Queryable, by: LabelGrouping, since?: string): Promise<LabelCounts[]> {
  const group = GROUP_EXPRESSION[by];
  // from the row-level view: grouping by month or facility then never touches the images
  const { rows } = await db.query(
    `SELECT ${group} AS grp, class,
            count(*) AS reports,
            count(*) FILTER (WHERE status = 'positive') AS positive,
            count(*) FILTER (WHERE status = 'uncertain') AS uncertain,
            count(*) FILTER (WHERE status = 'negative') AS negative
     FROM analytics_report_labels
     WHERE $1::date IS NULL OR month >= $1::date
     GROUP BY 1, 2
     ORDER BY 1, 2`,
    [since ?? null],
  );
  return rows.map((r) => ({
    group: r.grp,
    class: r.class,
    reports: num(r.reports),
    positive: num(r.positive),
    uncertain: num(r.uncertain),
    negative: num(r.negative),
    positiveRate: num(r.positive) / num(r.reports),
  }));
}

export interface MonthlyPrevalence extends ClassStatusCounts {
  month: string;
}

export async function prevalenceMonthly(db: Queryable, since?: string): Promise<MonthlyPrevalence[]> {
  const { rows } = await db.query(
    `SELECT to_char(month, 'YYYY-MM') AS month, class, reports, positive, uncertain, negative, positive_rate
     FROM analytics_prevalence_monthly
     WHERE $1::date IS NULL OR month >= $1::date
     ORDER BY month, class`,
    [since ?? null],
  );
  return rows.map((r) => ({
    month: r.month,
    class: r.class,
    reports: num(r.reports),
    positive: num(r.positive),
    uncertain: num(r.uncertain),
    negative: num(r.negative),
    positiveRate: num(r.positive_rate),
  }));
}

export interface RecordVsTeacher {
  modelVersion: string;
  class: string;
  teacherThreshold: number;
  images: number;
  recordPositive: number;
  teacherPositive: number;
  recordNegativeTeacherPositive: number;
  recordPositiveTeacherNegative: number;
  recordPositiveRate: number;
  teacherPositiveRate: number;
}

/** Record-positive against teacher-positive per teacher version and class, over all months. */
export async function recordVsTeacher(db: Queryable): Promise<RecordVsTeacher[]> {
  const { rows } = await db.query(
    `SELECT model_version, class, max(teacher_threshold) AS teacher_threshold, sum(images) AS images,
            sum(record_positive) AS record_positive, sum(teacher_positive) AS teacher_positive,
            sum(record_negative_teacher_positive) AS rn_tp, sum(record_positive_teacher_negative) AS rp_tn
     FROM analytics_record_vs_teacher
     GROUP BY 1, 2
     ORDER BY 1, 2`,
  );
  return rows.map((r) => ({
    modelVersion: r.model_version,
    class: r.class,
    teacherThreshold: num(r.teacher_threshold),
    images: num(r.images),
    recordPositive: num(r.record_positive),
    teacherPositive: num(r.teacher_positive),
    recordNegativeTeacherPositive: num(r.rn_tp),
    recordPositiveTeacherNegative: num(r.rp_tn),
    recordPositiveRate: num(r.record_positive) / num(r.images),
    teacherPositiveRate: num(r.teacher_positive) / num(r.images),
  }));
}

export interface LabelVolume {
  class: string;
  lastJobId: number | null;
  lastJobStatus: string | null;
  /** ISO 8601 (UTC) of the watermark, null before the first distillation. */
  labelWatermark: string | null;
  newPseudoLabels: number;
  newRecordPositivePseudoLabels: number;
  newReportLabels: number;
}

export async function labelVolumeSinceDistill(db: Queryable): Promise<LabelVolume[]> {
  const { rows } = await db.query(
    `SELECT class, last_job_id, last_job_status,
            to_char(label_watermark AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS label_watermark,
            new_pseudo_labels, new_record_positive_pseudo_labels, new_report_labels
     FROM analytics_label_volume_since_distill
     ORDER BY class DESC`,
  );
  return rows.map((r) => ({
    class: r.class,
    lastJobId: numOrNull(r.last_job_id),
    lastJobStatus: r.last_job_status,
    labelWatermark: r.label_watermark,
    newPseudoLabels: num(r.new_pseudo_labels),
    newRecordPositivePseudoLabels: num(r.new_record_positive_pseudo_labels),
    newReportLabels: num(r.new_report_labels),
  }));
}

export interface ModelHistoryEntry {
  version: string;
  parentVersion: string | null;
  status: string;
  mode: string | null;
  /** YYYY-MM-DD (UTC) of registration. */
  created: string;
  evalImages: number | null;
  ribAuroc: number | null;
  ribFroc: number | null;
  clavicleAuroc: number | null;
  clavicleFroc: number | null;
  pseudoLabels: number;
}

export async function modelHistory(db: Queryable): Promise<ModelHistoryEntry[]> {
  const { rows } = await db.query(
    `SELECT version, parent_version, status, mode, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS created,
            eval_images, rib_auroc, rib_froc, clavicle_auroc, clavicle_froc, pseudo_labels
     FROM analytics_model_history
     ORDER BY created_at, version`,
  );
  return rows.map((r) => ({
    version: r.version,
    parentVersion: r.parent_version,
    status: r.status,
    mode: r.mode,
    created: r.created,
    evalImages: numOrNull(r.eval_images),
    ribAuroc: numOrNull(r.rib_auroc),
    ribFroc: numOrNull(r.rib_froc),
    clavicleAuroc: numOrNull(r.clavicle_auroc),
    clavicleFroc: numOrNull(r.clavicle_froc),
    pseudoLabels: num(r.pseudo_labels),
  }));
}

export interface ScoreHistogramBin {
  modelVersion: string;
  class: string;
  recordStatus: string;
  bin: number;
  labels: number;
}

export async function scoreHistogram(db: Queryable, modelVersion: string): Promise<ScoreHistogramBin[]> {
  const { rows } = await db.query(
    `SELECT model_version, class, record_status, bin, labels FROM analytics_pseudo_label_score_histogram
     WHERE model_version = $1 ORDER BY class, record_status, bin`,
    [modelVersion],
  );
  return rows.map((r) => ({
    modelVersion: r.model_version,
    class: r.class,
    recordStatus: r.record_status,
    bin: num(r.bin),
    labels: num(r.labels),
  }));
}

export interface DiscordantImage {
  reviewRef: string;
  facility: string | null;
  class: string;
  modelVersion: string;
  teacherScore: number;
  reportStatus: string;
  viewPosition: string | null;
  arrivedMonth: string;
}

/** The first `limit` discordant images (highest teacher score first) and how many there are. */
export async function discordantImages(
  db: Queryable,
  limit: number,
): Promise<{ total: number; images: DiscordantImage[] }> {
  // two queries: the top rows come off the score index, the count skips the joins
  const { rows } = await db.query(
    `SELECT review_ref, facility, class, model_version, teacher_score, report_status, view_position,
            to_char(arrived_month, 'YYYY-MM') AS arrived_month
     FROM analytics_discordant_images
     ORDER BY teacher_score DESC, review_ref
     LIMIT $1`,
    [limit],
  );
  const { rows: counted } = await db.query(`SELECT count(*) AS total FROM analytics_discordant_images`);
  return {
    total: num(counted[0].total),
    images: rows.map((r) => ({
      reviewRef: r.review_ref,
      facility: r.facility,
      class: r.class,
      modelVersion: r.model_version,
      teacherScore: num(r.teacher_score),
      reportStatus: r.report_status,
      viewPosition: r.view_position,
      arrivedMonth: r.arrived_month,
    })),
  };
}
