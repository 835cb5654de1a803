-- Up Migration

-- Analytics: de-identified views for harvester_analytics (the `harvester stats` command, the
-- dashboard and ad-hoc SQL; docs/analytics.md). No view here exposes a patient pseudonym, report
-- text, accession, MSH-10 or DICOM UID; times are reduced to the month (UTC, so results do not
-- depend on the session's TimeZone). The analytics role gets SELECT on these views only: a view
-- reads its tables with its owner's rights, so the role never needs the tables themselves.

-- Distillation jobs (DESIGN.md; issue 8 builds the scheduler and the runners on this table). One row
-- per request; label_watermark is the pseudo_labels.created_at up to which the job's training data
-- was taken, so "new labels" are those created after the last non-failed job's watermark.
CREATE TABLE distill_jobs (
  id bigserial PRIMARY KEY,
  status text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'running', 'succeeded', 'failed')),
  requested_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  label_watermark timestamptz NOT NULL,
  -- new labels per class when the job was requested, e.g. {"rib": 812, "clavicle": 240}
  label_counts jsonb NOT NULL DEFAULT '{}',
  -- the scheduler/worker instance that holds the job, its attempt number and last sign of life
  claimed_by text,
  attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  heartbeat_at timestamptz,
  -- the teacher at request time and the model the job produced (model_versions.version)
  base_model_version text,
  output_model_version text,
  error text,
  CHECK (status <> 'succeeded' OR finished_at IS NOT NULL),
  CHECK (status <> 'failed' OR finished_at IS NOT NULL)
);
-- Single flight: at most one job requested or running at a time, whichever replica asks.
CREATE UNIQUE INDEX distill_jobs_single_flight_idx ON distill_jobs ((true)) WHERE status IN ('requested', 'running');
CREATE INDEX distill_jobs_watermark_idx ON distill_jobs (label_watermark DESC) WHERE status <> 'failed';

-- Indexes the analytics queries need at scale (bench/analytics-views.ts): labels newer than a
-- watermark, and images grouped by accession for the view position of a study.
CREATE INDEX pseudo_labels_created_at_idx ON pseudo_labels (class, created_at) INCLUDE (record_status);
CREATE INDEX report_labels_updated_at_idx ON report_labels (class, updated_at) WHERE NOT provisional;
CREATE INDEX images_accession_view_idx ON images (accession, view_position);

-- The view position of each study: the images' ViewPosition when they agree, 'mixed' when they
-- differ, NULL when unknown. Images carry no sending facility, so the key is the accession (as in
-- the pseudo-labeler's join). Internal: not granted to the analytics role (it holds accessions).
CREATE VIEW study_view_positions AS
SELECT
  accession,
  -- min <> max rather than count(DISTINCT ...) > 1: the same answer, and a hash aggregate can do it
  CASE WHEN min(view_position) <> max(view_position) THEN 'mixed' ELSE min(view_position) END AS view_position
FROM images
GROUP BY accession;

-- One row per report label, de-identified: month, facility, view position, class, status, acuity,
-- side; final and corrected reports only (provisional ones are replaced). view_position is
-- 'unknown' until an image of the study has arrived. A query that does not use view_position skips
-- the images entirely (the left join on a unique key is removed by the planner).
CREATE VIEW analytics_report_labels AS
SELECT
  date_trunc('month', r.observed_at AT TIME ZONE 'UTC')::date AS month,
  r.sending_facility AS facility,
  coalesce(v.view_position, 'unknown') AS view_position,
  l.class,
  l.status,
  l.acuity,
  l.side,
  l.rule_version,
  l.result_status
FROM report_labels l
JOIN reports r ON r.id = l.report_id
LEFT JOIN study_view_positions v ON v.accession = r.accession
WHERE NOT l.provisional;

-- Label counts by month, facility, view position, class, status, acuity and side. One report
-- counts once per class.
CREATE VIEW analytics_label_prevalence AS
SELECT month, facility, view_position, class, status, acuity, side, count(*)::bigint AS labels
FROM analytics_report_labels
GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- Prevalence per month and class: reports (one per report and class) and how many say positive,
-- uncertain, negative; positive_rate = positive / reports.
CREATE VIEW analytics_prevalence_monthly AS
SELECT
  date_trunc('month', r.observed_at AT TIME ZONE 'UTC')::date AS month,
  l.class,
  count(*)::bigint AS reports,
  count(*) FILTER (WHERE l.status = 'positive')::bigint AS positive,
  count(*) FILTER (WHERE l.status = 'uncertain')::bigint AS uncertain,
  count(*) FILTER (WHERE l.status = 'negative')::bigint AS negative,
  (count(*) FILTER (WHERE l.status = 'positive'))::double precision / count(*) AS positive_rate
FROM report_labels l
JOIN reports r ON r.id = l.report_id
WHERE NOT l.provisional
GROUP BY 1, 2;

-- Record-positive rate against teacher-positive rate, per teacher version, class and month of the
-- report. A teacher-positive image scores above the discordance threshold (discordance_settings),
-- the same operating point the discordance list uses, so record_negative_teacher_positive here is
-- the size of that list.
CREATE VIEW analytics_record_vs_teacher AS
SELECT
  p.model_version,
  p.class,
  date_trunc('month', p.report_observed_at AT TIME ZONE 'UTC')::date AS month,
  s.teacher_score_threshold::double precision AS teacher_threshold,
  count(*)::bigint AS images,
  count(*) FILTER (WHERE p.record_status = 'positive')::bigint AS record_positive,
  count(*) FILTER (WHERE p.teacher_score > s.teacher_score_threshold)::bigint AS teacher_positive,
  count(*) FILTER (WHERE p.record_status = 'positive' AND p.teacher_score > s.teacher_score_threshold)::bigint
    AS both_positive,
  count(*) FILTER (WHERE p.record_status = 'negative' AND p.teacher_score > s.teacher_score_threshold)::bigint
    AS record_negative_teacher_positive,
  count(*) FILTER (WHERE p.record_status = 'positive' AND p.teacher_score <= s.teacher_score_threshold)::bigint
    AS record_positive_teacher_negative,
  (count(*) FILTER (WHERE p.record_status = 'positive'))::double precision / count(*) AS record_positive_rate,
  (count(*) FILTER (WHERE p.teacher_score > s.teacher_score_threshold))::double precision / count(*)
    AS teacher_positive_rate
FROM pseudo_labels p
CROSS JOIN discordance_settings s
GROUP BY p.model_version, p.class, 3, s.teacher_score_threshold;

-- New labels per detector class since the last distillation: the newest job that did not fail
-- (requested, running or succeeded) sets the watermark; with no job yet, every label is new.
-- new_pseudo_labels is what the distill-scheduler compares with its threshold; new_report_labels
-- counts final/corrected report labels updated since the same instant.
CREATE VIEW analytics_label_volume_since_distill AS
WITH last_job AS (
  SELECT id, status, requested_at, finished_at, label_watermark
  FROM distill_jobs
  WHERE status <> 'failed'
  ORDER BY label_watermark DESC, id DESC
  LIMIT 1
)
SELECT
  c.class,
  j.id AS last_job_id,
  j.status AS last_job_status,
  j.requested_at AS last_job_requested_at,
  j.finished_at AS last_job_finished_at,
  j.label_watermark,
  p.new_pseudo_labels,
  p.new_record_positive_pseudo_labels,
  r.new_report_labels
FROM (VALUES ('rib'), ('clavicle')) AS c (class)
LEFT JOIN last_job j ON true
-- coalesce rather than "IS NULL OR": the comparison stays an index condition
CROSS JOIN LATERAL (
  SELECT count(*)::bigint AS new_pseudo_labels,
         (count(*) FILTER (WHERE pl.record_status = 'positive'))::bigint AS new_record_positive_pseudo_labels
  FROM pseudo_labels pl
  WHERE pl.class = c.class AND pl.created_at > coalesce(j.label_watermark, '-infinity')
) p
CROSS JOIN LATERAL (
  SELECT count(*)::bigint AS new_report_labels
  FROM report_labels l
  WHERE l.class = c.class AND NOT l.provisional AND l.updated_at > coalesce(j.label_watermark, '-infinity')
) r;

-- Pseudo-label counts and teacher-score distribution per teacher version, class and record status.
CREATE VIEW analytics_pseudo_label_scores AS
SELECT
  model_version,
  class,
  record_status,
  count(*)::bigint AS labels,
  avg(teacher_score)::double precision AS mean_score,
  min(teacher_score)::double precision AS min_score,
  percentile_cont(0.1) WITHIN GROUP (ORDER BY teacher_score) AS p10_score,
  percentile_cont(0.25) WITHIN GROUP (ORDER BY teacher_score) AS p25_score,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY teacher_score) AS median_score,
  percentile_cont(0.75) WITHIN GROUP (ORDER BY teacher_score) AS p75_score,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY teacher_score) AS p90_score,
  max(teacher_score)::double precision AS max_score,
  avg(positive_fraction)::double precision AS mean_positive_fraction
FROM pseudo_labels
GROUP BY model_version, class, record_status;

-- The same as a histogram: ten bins of width 0.1 over [0, 1] (bin 1 = [0, 0.1), bin 10 = [0.9, 1]).
-- Only bins with labels appear.
CREATE VIEW analytics_pseudo_label_score_histogram AS
SELECT
  model_version,
  class,
  record_status,
  bin,
  (bin - 1) / 10.0 AS score_from,
  bin / 10.0 AS score_to,
  count(*)::bigint AS labels
FROM (
  SELECT model_version, class, record_status,
         greatest(1, least(10, width_bucket(teacher_score::double precision, 0, 1, 10))) AS bin
  FROM pseudo_labels
) b
GROUP BY model_version, class, record_status, bin;

-- Model history: every registered teacher with its held-out metrics (evaluate.py's JSON: per class
-- auroc and froc; a missing or non-numeric value reads as NULL) and its pseudo-label count.
CREATE VIEW analytics_model_history AS
SELECT
  m.version,
  m.parent_version,
  m.status,
  m.mode,
  m.created_at,
  m.status_changed_at,
  CASE WHEN jsonb_typeof(m.metrics -> 'images') = 'number' THEN (m.metrics ->> 'images')::integer END
    AS eval_images,
  CASE WHEN jsonb_typeof(m.metrics -> 'rib' -> 'auroc') = 'number'
    THEN (m.metrics -> 'rib' ->> 'auroc')::double precision END AS rib_auroc,
  CASE WHEN jsonb_typeof(m.metrics -> 'rib' -> 'froc') = 'number'
    THEN (m.metrics -> 'rib' ->> 'froc')::double precision END AS rib_froc,
  CASE WHEN jsonb_typeof(m.metrics -> 'clavicle' -> 'auroc') = 'number'
    THEN (m.metrics -> 'clavicle' ->> 'auroc')::double precision END AS clavicle_auroc,
  CASE WHEN jsonb_typeof(m.metrics -> 'clavicle' -> 'froc') = 'number'
    THEN (m.metrics -> 'clavicle' ->> 'froc')::double precision END AS clavicle_froc,
  coalesce(p.labels, 0)::bigint AS pseudo_labels,
  m.metrics,
  m.training_counts,
  m.aals_params
FROM model_versions m
LEFT JOIN (SELECT model_version, count(*) AS labels FROM pseudo_labels GROUP BY model_version) p
  ON p.model_version = m.version;

-- The same metrics one row per version and class, for charts across versions.
CREATE VIEW analytics_model_metrics AS
SELECT
  m.version,
  m.status,
  m.created_at,
  c.class,
  CASE WHEN jsonb_typeof(m.metrics -> c.class -> 'auroc') = 'number'
    THEN (m.metrics -> c.class ->> 'auroc')::double precision END AS auroc,
  CASE WHEN jsonb_typeof(m.metrics -> c.class -> 'froc') = 'number'
    THEN (m.metrics -> c.class ->> 'froc')::double precision END AS froc
FROM model_versions m
CROSS JOIN (VALUES ('rib'), ('clavicle')) AS c (class);

-- The discordance list for analytics. An image is named by review_ref, a keyed hash of its SOP
-- Instance UID (the key is generated here, per database, and never granted to the analytics role),
-- so an analyst can hand a reviewer the reference without seeing the UID or accession; a reviewer
-- with the service role finds the study in discordant_images_review.
CREATE TABLE analytics_review_key (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  key text NOT NULL
);
INSERT INTO analytics_review_key (key) VALUES (replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));

-- The pseudo-labeler's discordant_images plus the reference (for reviewers: service role only).
CREATE VIEW discordant_images_review AS
SELECT
  left(encode(sha256(convert_to(k.key || ':' || d.sop_instance_uid, 'UTF8')), 'hex'), 16) AS review_ref,
  d.*
FROM discordant_images d
CROSS JOIN analytics_review_key k;

-- The same selection as discordant_images (record-negative, teacher score above the
-- discordance_settings threshold), written on the tables: discordant_images goes through a
-- SECURITY INVOKER function, which would need the analytics role to read pseudo_labels itself.
-- Unordered, so a count is cheap: ORDER BY teacher_score DESC, review_ref for the review order.
CREATE VIEW analytics_discordant_images AS
SELECT
  left(encode(sha256(convert_to(k.key || ':' || p.sop_instance_uid, 'UTF8')), 'hex'), 16) AS review_ref,
  s.sending_facility AS facility,
  p.class,
  p.model_version,
  -- real, as stored: a cast would keep ORDER BY teacher_score off the score index
  p.teacher_score,
  p.report_status,
  i.view_position,
  date_trunc('month', i.arrived_at AT TIME ZONE 'UTC')::date AS arrived_month
FROM pseudo_labels p
-- left joins on unique keys (every pseudo-label has its image): a count(*) skips them
LEFT JOIN images i ON i.sop_instance_uid = p.sop_instance_uid
LEFT JOIN study_record_labels s ON s.accession = p.accession
CROSS JOIN discordance_settings t
CROSS JOIN analytics_review_key k
WHERE p.record_status = 'negative' AND p.teacher_score > t.teacher_score_threshold;

GRANT SELECT, INSERT, UPDATE ON distill_jobs TO harvester_service;
GRANT USAGE, SELECT ON SEQUENCE distill_jobs_id_seq TO harvester_service;
GRANT SELECT ON discordant_images_review TO harvester_service;
GRANT SELECT ON
  analytics_report_labels,
  analytics_label_prevalence,
  analytics_prevalence_monthly,
  analytics_record_vs_teacher,
  analytics_label_volume_since_distill,
  analytics_pseudo_label_scores,
  analytics_pseudo_label_score_histogram,
  analytics_model_history,
  analytics_model_metrics,
  analytics_discordant_images
TO harvester_analytics, harvester_service;

-- Down Migration

DROP VIEW IF EXISTS analytics_discordant_images;
DROP VIEW IF EXISTS discordant_images_review;
DROP TABLE IF EXISTS analytics_review_key;
DROP VIEW IF EXISTS analytics_model_metrics;
DROP VIEW IF EXISTS analytics_model_history;
DROP VIEW IF EXISTS analytics_pseudo_label_score_histogram;
DROP VIEW IF EXISTS analytics_pseudo_label_scores;
DROP VIEW IF EXISTS analytics_label_volume_since_distill;
DROP VIEW IF EXISTS analytics_record_vs_teacher;
DROP VIEW IF EXISTS analytics_prevalence_monthly;
DROP VIEW IF EXISTS analytics_label_prevalence;
DROP VIEW IF EXISTS analytics_report_labels;
DROP VIEW IF EXISTS study_view_positions;
DROP INDEX IF EXISTS images_accession_view_idx;
DROP INDEX IF EXISTS report_labels_updated_at_idx;
DROP INDEX IF EXISTS pseudo_labels_created_at_idx;
DROP TABLE IF EXISTS distill_jobs;
