-- Up Migration

-- Closing the loop (issue 8): what the distill-scheduler and distill-worker record on the
-- analytics helper's distill_jobs, and the quality gate's decisions.

-- distill_jobs: the request (reason, recipe), its publication on distill.jobs, the attempt limit,
-- the runner that ran it, the model it produced and every attempt's outcome. A job goes
-- requested -> running -> succeeded | failed; a failed or expired attempt below max_attempts goes
-- back to requested (a retry, republished) with attempt kept.
ALTER TABLE distill_jobs
  ADD COLUMN reason text NOT NULL DEFAULT 'label-volume',
  ADD COLUMN recipe jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  -- null until the DistillJobRequested event for the current attempt is acknowledged by Kafka
  ADD COLUMN event_published_at timestamptz,
  ADD COLUMN runner text,
  ADD COLUMN duration_seconds double precision,
  ADD COLUMN output_model_path text,
  ADD COLUMN output_checksum_sha256 text,
  -- one object per attempt: {attempt, claimedBy, startedAt, endedAt, outcome, error}
  ADD COLUMN attempts jsonb NOT NULL DEFAULT '[]';

-- The scheduler's scans: requested jobs not yet published, running jobs by heartbeat.
CREATE INDEX distill_jobs_active_idx ON distill_jobs (status, heartbeat_at) WHERE status IN ('requested', 'running');

-- The quality gate: one decision per candidate model, with both metric sets and the rule applied.
CREATE TABLE model_promotions (
  id bigserial PRIMARY KEY,
  candidate_version text NOT NULL UNIQUE REFERENCES model_versions (version),
  -- the active teacher it was compared with (null when there was none)
  active_version text REFERENCES model_versions (version),
  job_id bigint REFERENCES distill_jobs (id),
  decision text NOT NULL CHECK (decision IN ('promoted', 'rejected')),
  reasons text[] NOT NULL,
  rule jsonb NOT NULL,
  candidate_metrics jsonb NOT NULL,
  active_metrics jsonb,
  -- identifies the held-out set both were evaluated on (prepared directory, split, image count)
  evaluation_set text NOT NULL,
  decided_at timestamptz NOT NULL DEFAULT now(),
  -- when models.released was acknowledged (promoted only; null = still to publish)
  released_event_at timestamptz
);
CREATE INDEX model_promotions_unreleased_idx ON model_promotions (decided_at)
  WHERE decision = 'promoted' AND released_event_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON model_promotions TO harvester_service;
GRANT USAGE, SELECT ON SEQUENCE model_promotions_id_seq TO harvester_service;

-- Down Migration

DROP TABLE IF EXISTS model_promotions;
DROP INDEX IF EXISTS distill_jobs_active_idx;
ALTER TABLE distill_jobs
  DROP COLUMN IF EXISTS reason,
  DROP COLUMN IF EXISTS recipe,
  DROP COLUMN IF EXISTS max_attempts,
  DROP COLUMN IF EXISTS event_published_at,
  DROP COLUMN IF EXISTS runner,
  DROP COLUMN IF EXISTS duration_seconds,
  DROP COLUMN IF EXISTS output_model_path,
  DROP COLUMN IF EXISTS output_checksum_sha256,
  DROP COLUMN IF EXISTS attempts;
