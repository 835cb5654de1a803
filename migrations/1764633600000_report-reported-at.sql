-- Up Migration

-- When a report version was sent (MSH-7; OBR-7 when MSH-7 is empty). Versions of the same result
-- status are ordered by it: a second correction (C) supersedes the first even though both carry the
-- exam's observation time in OBR-7. observed_at stays the exam time, for analytics by month.
ALTER TABLE report_versions ADD COLUMN reported_at timestamptz;
UPDATE report_versions SET reported_at = observed_at WHERE reported_at IS NULL;
ALTER TABLE report_versions ALTER COLUMN reported_at SET NOT NULL;

ALTER TABLE reports ADD COLUMN reported_at timestamptz;
UPDATE reports SET reported_at = observed_at WHERE reported_at IS NULL;
ALTER TABLE reports ALTER COLUMN reported_at SET NOT NULL;

-- Down Migration

ALTER TABLE reports DROP COLUMN IF EXISTS reported_at;
ALTER TABLE report_versions DROP COLUMN IF EXISTS reported_at;
