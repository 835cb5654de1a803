-- Up Migration

-- Erasure on request (`harvester forget`, docs/erasure.md).
--
-- images.patient_pseudonym: the DicomArrived event's keyed HMAC of (0010,0020) when the sender gave
-- one, so a patient's images are found even before (or without) their report. Older rows: null.
ALTER TABLE images ADD COLUMN patient_pseudonym text;
CREATE INDEX images_patient_pseudonym_idx ON images (patient_pseudonym) WHERE patient_pseudonym IS NOT NULL;
-- forget finds a patient's reports by pseudonym
CREATE INDEX reports_patient_pseudonym_idx ON reports (patient_pseudonym);
CREATE INDEX report_versions_patient_pseudonym_idx ON report_versions (patient_pseudonym);
CREATE INDEX report_versions_accession_only_idx ON report_versions (accession);
CREATE INDEX pseudo_labels_superseded_sop_idx ON pseudo_labels_superseded (sop_instance_uid);

-- One row per erasure: what was erased (how many rows per table, how many shards rewritten), when,
-- and the models that had already trained on the data. Never the patient id, pseudonym or
-- accession: the record proves an erasure happened without saying whose.
CREATE TABLE erasures (
  id bigserial PRIMARY KEY,
  erased_at timestamptz NOT NULL DEFAULT now(),
  -- how the subject was named: patient-id (pseudonymised) or accession
  selector text NOT NULL CHECK (selector IN ('patient-id', 'accession')),
  -- {"reports": n, "report_versions": n, "report_labels": n, "images": n, ...}
  rows_deleted jsonb NOT NULL,
  training_inputs_erased integer NOT NULL,
  shards_rewritten integer NOT NULL,
  shards_removed integer NOT NULL,
  -- model_versions whose recorded training snapshot held erased data, and those trained from a
  -- prepared folder (no snapshot: whether they saw the data cannot be told)
  models_trained_on_data text[] NOT NULL,
  -- distill_jobs whose snapshot held erased data (a job still running has no model yet)
  jobs_trained_on_data bigint[] NOT NULL,
  models_with_unknown_data text[] NOT NULL
);

-- Where a shard rewritten by an erasure came from: every earlier path of its inputs, so a model whose
-- snapshot listed the old shard is still found to have read them (snapshots keep the old paths).
CREATE TABLE training_shard_lineage (
  shard_id text NOT NULL,
  ancestor_path text NOT NULL,
  PRIMARY KEY (shard_id, ancestor_path)
);

-- Shard files replaced by an erasure, deleted once it committed; a crash in between leaves the path
-- here and the next `harvester forget` deletes it first.
CREATE TABLE erasure_pending_files (
  path text PRIMARY KEY,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

-- What later arrivals are matched against: a patient pseudonym (already a keyed HMAC), the SHA-256
-- of an accession (images and report labels carry the accession, not always a pseudonym) or of an
-- image's SOP Instance UID (a training input indexed late by a chunk that read the image before the
-- erasure). Not linked to the erasures rows. Readable by the services, never by the analytics role.
CREATE TABLE erased_subjects (
  kind text NOT NULL CHECK (kind IN ('patient', 'accession', 'image')),
  digest text NOT NULL,
  PRIMARY KEY (kind, digest)
);

GRANT SELECT ON erased_subjects TO harvester_service;

-- Down Migration

DROP TABLE IF EXISTS erasure_pending_files;
DROP TABLE IF EXISTS training_shard_lineage;
DROP TABLE IF EXISTS erased_subjects;
DROP TABLE IF EXISTS erasures;
DROP INDEX IF EXISTS pseudo_labels_superseded_sop_idx;
DROP INDEX IF EXISTS report_versions_accession_only_idx;
DROP INDEX IF EXISTS report_versions_patient_pseudonym_idx;
DROP INDEX IF EXISTS reports_patient_pseudonym_idx;
DROP INDEX IF EXISTS images_patient_pseudonym_idx;
ALTER TABLE images DROP COLUMN IF EXISTS patient_pseudonym;
