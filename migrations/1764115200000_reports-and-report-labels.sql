-- Up Migration

-- Reports from the HL7 ORU feed. Plain SQL (not JS migrations) so the same files apply to a server
-- Postgres through node-pg-migrate and to the embedded PGlite database.

-- Every report version ever received (the status history), verbatim. A version's natural key is the
-- sending facility + MSH-10 + the OBR's position in the message, so a redelivered message is a no-op.
CREATE TABLE report_versions (
  sending_facility text NOT NULL,
  message_control_id text NOT NULL,
  obr_index integer NOT NULL,
  accession text NOT NULL,
  result_status char(1) NOT NULL CHECK (result_status IN ('P', 'F', 'C')),
  observed_at timestamptz NOT NULL,
  patient_pseudonym text NOT NULL,
  procedure_code text,
  procedure_text text,
  hl7_version text,
  report_text text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sending_facility, message_control_id, obr_index)
);
CREATE INDEX report_versions_accession_idx ON report_versions (sending_facility, accession);

-- The current version of each report (one row per facility + accession). It is replaced only by a
-- version of higher precedence: status rank (P=1 < F=2 < C=3), then the time the version was sent
-- (reported_at, added by 1764633600000), then MSH-10 and OBR index as a deterministic tie-break, so
-- every arrival order converges on the same row.
CREATE TABLE reports (
  id bigserial PRIMARY KEY,
  sending_facility text NOT NULL,
  accession text NOT NULL,
  result_status char(1) NOT NULL CHECK (result_status IN ('P', 'F', 'C')),
  status_rank smallint NOT NULL CHECK (status_rank BETWEEN 1 AND 3),
  provisional boolean NOT NULL,
  observed_at timestamptz NOT NULL,
  -- code-point order (COLLATE "C") for the tie-break, the same order the service compares in
  message_control_id text COLLATE "C" NOT NULL,
  obr_index integer NOT NULL,
  patient_pseudonym text NOT NULL,
  procedure_code text,
  procedure_text text,
  hl7_version text,
  report_text text NOT NULL,
  first_received_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sending_facility, accession)
);
CREATE INDEX reports_accession_idx ON reports (accession);

-- Labels of the current version of a report, one row per class (rib, clavicle, other).
CREATE TABLE report_labels (
  report_id bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
  class text NOT NULL CHECK (class IN ('rib', 'clavicle', 'other')),
  status text NOT NULL CHECK (status IN ('positive', 'negative', 'uncertain')),
  acuity text,
  side text,
  ribs integer[] NOT NULL DEFAULT '{}',
  evidence jsonb NOT NULL DEFAULT '[]',
  rule_version text NOT NULL,
  result_status char(1) NOT NULL CHECK (result_status IN ('P', 'F', 'C')),
  provisional boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (report_id, class)
);

-- One row per consumed Kafka record, so every input message is accounted for in audits: stored (as
-- one or more report versions), skipped (not a chest radiograph, or not a report status we keep) or
-- sent to the DLQ. Keyed by the record's position: a replay after a crash is a no-op.
CREATE TABLE hl7_message_ledger (
  topic text NOT NULL,
  kafka_partition integer NOT NULL,
  kafka_offset bigint NOT NULL,
  sending_facility text,
  message_control_id text,
  outcome text NOT NULL CHECK (outcome IN ('stored', 'skipped', 'dlq')),
  reason text,
  report_count integer NOT NULL DEFAULT 0,
  message_bytes integer NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, kafka_partition, kafka_offset)
);
CREATE INDEX hl7_message_ledger_outcome_idx ON hl7_message_ledger (outcome, processed_at);

-- De-identified view for analytics: no patient pseudonym, no report text, no accession or MSH-10
-- (both can be traced back to a patient in the hospital's systems).
CREATE VIEW report_labels_deid AS
SELECT
  r.id AS report_id,
  r.sending_facility,
  date_trunc('month', r.observed_at) AS observed_month,
  r.procedure_code,
  l.class,
  l.status,
  l.acuity,
  l.side,
  l.ribs,
  l.rule_version,
  l.result_status,
  l.provisional
FROM report_labels l
JOIN reports r ON r.id = l.report_id;

-- Prevalence of report labels by month, class, status, acuity and side (final and corrected reports).
CREATE VIEW report_label_prevalence_monthly AS
SELECT
  observed_month,
  class,
  status,
  acuity,
  side,
  count(*) AS reports
FROM report_labels_deid
WHERE NOT provisional
GROUP BY observed_month, class, status, acuity, side;

-- Roles are cluster-wide and may already exist (another database, an earlier run): create them only
-- when missing. Both are NOLOGIN; deployments grant them to their login users.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'harvester_service') THEN
    CREATE ROLE harvester_service NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'harvester_analytics') THEN
    CREATE ROLE harvester_analytics NOLOGIN;
  END IF;
END
$$;

-- the schema the tables were created in (public unless the migration runner was given another)
DO $$
BEGIN
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO harvester_service, harvester_analytics', current_schema());
END
$$;
GRANT SELECT, INSERT, UPDATE ON report_versions, reports, report_labels, hl7_message_ledger TO harvester_service;
GRANT USAGE, SELECT ON SEQUENCE reports_id_seq TO harvester_service;
GRANT SELECT ON report_labels_deid, report_label_prevalence_monthly TO harvester_service;
GRANT SELECT ON report_labels_deid, report_label_prevalence_monthly TO harvester_analytics;

-- Down Migration

DROP VIEW IF EXISTS report_label_prevalence_monthly;
DROP VIEW IF EXISTS report_labels_deid;
DROP TABLE IF EXISTS hl7_message_ledger;
DROP TABLE IF EXISTS report_labels;
DROP TABLE IF EXISTS reports;
DROP TABLE IF EXISTS report_versions;
-- The roles are left in place: they are cluster-wide and other databases may use them.
