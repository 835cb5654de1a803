-- Up Migration

-- The pseudo-labeler's tables: DICOM arrivals, the record labels it joins them with, the teacher's
-- pseudo-labels (current and superseded), model versions and the discordance list for radiology QA.

-- One row per DICOM instance announced on dicom.arrived (SOP Instance UID is the natural key; a
-- redelivered arrival is a no-op). The arrival event's bytes and position are kept so an image
-- found broken later (when its report arrives) can still be dead-lettered with its original event.
CREATE TABLE images (
  sop_instance_uid text PRIMARY KEY,
  study_instance_uid text NOT NULL,
  series_instance_uid text NOT NULL,
  accession text NOT NULL,
  modality text NOT NULL,
  view_position text,
  body_part_examined text,
  rows integer NOT NULL,
  columns integer NOT NULL,
  bits_allocated integer NOT NULL,
  bits_stored integer NOT NULL,
  pixel_representation integer NOT NULL,
  pixel_spacing double precision[],
  photometric_interpretation text NOT NULL,
  transfer_syntax_uid text NOT NULL,
  uri text NOT NULL,
  size_bytes bigint,
  sha256 text,
  arrived_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  event_topic text NOT NULL,
  event_partition integer NOT NULL,
  event_offset bigint NOT NULL,
  event_value bytea NOT NULL,
  -- set when the file cannot be read or decoded; such images are dead-lettered once and not retried
  failed_reason text,
  failed_at timestamptz
);
CREATE INDEX images_accession_idx ON images (accession);

-- The current record label per study (accession), from labels.report. DicomArrived carries no
-- sending facility, so the join key is the accession alone. Replaced only by a version of higher
-- precedence, the report-labeler's order: status rank (P=1 < F=2 < C=3), observation time, MSH-10
-- (code-point order), OBR index; so any arrival order converges on the same row.
CREATE TABLE study_record_labels (
  accession text PRIMARY KEY,
  sending_facility text NOT NULL,
  report_status char(1) NOT NULL CHECK (report_status IN ('P', 'F', 'C')),
  status_rank smallint NOT NULL CHECK (status_rank BETWEEN 1 AND 3),
  provisional boolean NOT NULL,
  observed_at timestamptz NOT NULL,
  message_control_id text COLLATE "C" NOT NULL,
  obr_index integer NOT NULL,
  rule_version text NOT NULL,
  rib_status text NOT NULL CHECK (rib_status IN ('positive', 'negative', 'uncertain')),
  clavicle_status text NOT NULL CHECK (clavicle_status IN ('positive', 'negative', 'uncertain')),
  received_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Teacher models: written by the distiller (services/distiller/distiller/register.py matches these
-- column names), promoted by the scheduler. status: candidate -> active -> retired.
CREATE TABLE model_versions (
  version text PRIMARY KEY,
  parent_version text,
  checksum_sha256 text,
  artefact_uri text,
  metrics jsonb,
  training_counts jsonb,
  aals_params jsonb,
  recipe jsonb,
  input_size integer,
  output_stride integer,
  classes text[],
  mode text,
  status text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'active', 'retired')),
  created_at timestamptz NOT NULL DEFAULT now(),
  status_changed_at timestamptz
);
-- at most one active teacher
CREATE UNIQUE INDEX model_versions_one_active_idx ON model_versions (status) WHERE status = 'active';

-- The current pseudo-label of each (image, class, teacher version): exactly one row per key, which
-- is what the distiller reads (WHERE model_version = ...). The target map is quantised to 8 bits,
-- row-major target_height x target_width, value / 255. A label derived from an older report
-- version is moved to pseudo_labels_superseded before its replacement is written (see below).
-- record_status is the report's label for the class; target_method is 'zero' for record-negative
-- images and the sharpening method (aals, or an ablation) for record-positive ones.
CREATE TABLE pseudo_labels (
  sop_instance_uid text NOT NULL REFERENCES images (sop_instance_uid),
  class text NOT NULL CHECK (class IN ('rib', 'clavicle')),
  model_version text NOT NULL,
  accession text NOT NULL,
  record_status text NOT NULL CHECK (record_status IN ('positive', 'negative', 'uncertain')),
  target_method text NOT NULL CHECK (target_method IN ('zero', 'none', 'symmetric', 'asymmetric', 'aals')),
  aals_t double precision NOT NULL,
  aals_a0 double precision NOT NULL,
  aals_eps double precision NOT NULL,
  target bytea NOT NULL,
  target_height integer NOT NULL CHECK (target_height > 0),
  target_width integer NOT NULL CHECK (target_width > 0),
  teacher_score real NOT NULL,
  target_max real NOT NULL,
  target_mean real NOT NULL,
  positive_fraction real NOT NULL,
  -- the report version it derives from (its precedence, so a stale result never replaces a newer one)
  report_status char(1) NOT NULL CHECK (report_status IN ('P', 'F', 'C')),
  report_status_rank smallint NOT NULL,
  report_observed_at timestamptz NOT NULL,
  report_message_control_id text COLLATE "C" NOT NULL,
  report_obr_index integer NOT NULL,
  -- false until the PseudoLabelCreated event is acknowledged by Kafka (a crash in between republishes)
  event_published boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sop_instance_uid, class, model_version),
  CHECK (octet_length(target) = target_height * target_width)
);
CREATE INDEX pseudo_labels_accession_idx ON pseudo_labels (accession);
CREATE INDEX pseudo_labels_negative_score_idx ON pseudo_labels (teacher_score) WHERE record_status = 'negative';

-- History per model version: every pseudo-label replaced because its study's report changed
-- (a correction, or a final after a preliminary), or withdrawn because the new label is uncertain.
-- Same columns, plus when and by which report version it was superseded.
CREATE TABLE pseudo_labels_superseded (
  LIKE pseudo_labels,
  superseded_at timestamptz NOT NULL DEFAULT now(),
  superseded_by_report_status char(1) NOT NULL,
  superseded_by_message_control_id text NOT NULL,
  superseded_by_obr_index integer NOT NULL,
  PRIMARY KEY (sop_instance_uid, class, model_version, report_message_control_id, report_obr_index)
);

-- Discordance for radiology quality review: record-negative images on which the teacher is
-- confident. The threshold is a setting (one row; UPDATE it to change the view) and the function
-- takes any threshold for ad-hoc review.
CREATE TABLE discordance_settings (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  teacher_score_threshold real NOT NULL DEFAULT 0.5 CHECK (teacher_score_threshold >= 0 AND teacher_score_threshold <= 1),
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO discordance_settings DEFAULT VALUES;

CREATE FUNCTION discordant_images_above(threshold real)
RETURNS TABLE (
  accession text,
  study_instance_uid text,
  sop_instance_uid text,
  class text,
  model_version text,
  teacher_score real,
  report_status char(1),
  view_position text,
  arrived_at timestamptz,
  labelled_at timestamptz
)
LANGUAGE sql STABLE AS $$
  SELECT p.accession, i.study_instance_uid, p.sop_instance_uid, p.class, p.model_version, p.teacher_score,
         p.report_status, i.view_position, i.arrived_at, p.created_at
  FROM pseudo_labels p
  JOIN images i ON i.sop_instance_uid = p.sop_instance_uid
  WHERE p.record_status = 'negative' AND p.teacher_score > threshold
  ORDER BY p.teacher_score DESC
$$;

CREATE VIEW discordant_images AS
SELECT d.*
FROM discordance_settings s, LATERAL discordant_images_above(s.teacher_score_threshold) d;

-- De-identified summary for analytics: no accession, no UIDs.
CREATE VIEW pseudo_label_summary_deid AS
SELECT
  date_trunc('month', created_at) AS created_month,
  model_version,
  class,
  record_status,
  target_method,
  count(*) AS labels,
  avg(teacher_score) AS mean_teacher_score,
  avg(positive_fraction) AS mean_positive_fraction
FROM pseudo_labels
GROUP BY 1, 2, 3, 4, 5;

GRANT SELECT, INSERT, UPDATE ON images, study_record_labels, model_versions, discordance_settings
  TO harvester_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON pseudo_labels TO harvester_service;
GRANT SELECT, INSERT ON pseudo_labels_superseded TO harvester_service;
GRANT SELECT ON discordant_images, pseudo_label_summary_deid TO harvester_service;
GRANT EXECUTE ON FUNCTION discordant_images_above(real) TO harvester_service;
GRANT SELECT ON pseudo_label_summary_deid TO harvester_analytics;

-- Down Migration

DROP VIEW IF EXISTS pseudo_label_summary_deid;
DROP VIEW IF EXISTS discordant_images;
DROP FUNCTION IF EXISTS discordant_images_above(real);
DROP TABLE IF EXISTS discordance_settings;
DROP TABLE IF EXISTS pseudo_labels_superseded;
DROP TABLE IF EXISTS pseudo_labels;
DROP TABLE IF EXISTS model_versions;
DROP TABLE IF EXISTS study_record_labels;
DROP TABLE IF EXISTS images;
