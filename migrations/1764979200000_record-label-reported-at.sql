-- Up Migration

-- The pseudo-labeler orders report versions by the system-wide rule the report-labeler uses
-- (services/shared/events/report-version-order.ts): status rank, then when the version was sent
-- (MSH-7, reported_at), then MSH-10 and OBR index. observed_at (OBR-7) is the exam time, the same for
-- every version of one exam, so two corrections could otherwise settle on a different version than
-- the reports table. Existing rows take the report-labeler's reported_at for their version when it is
-- stored, else observed_at (what 1764633600000 gave reports written before MSH-7 was kept).
ALTER TABLE study_record_labels ADD COLUMN reported_at timestamptz;
UPDATE study_record_labels s SET reported_at = COALESCE(
  (SELECT v.reported_at FROM report_versions v
   WHERE v.sending_facility = s.sending_facility AND v.message_control_id = s.message_control_id
     AND v.obr_index = s.obr_index),
  s.observed_at);
ALTER TABLE study_record_labels ALTER COLUMN reported_at SET NOT NULL;

-- The report version a pseudo-label derives from, and the version a superseded one derived from.
ALTER TABLE pseudo_labels ADD COLUMN report_reported_at timestamptz;
UPDATE pseudo_labels p SET report_reported_at = COALESCE(
  (SELECT s.reported_at FROM study_record_labels s
   WHERE s.accession = p.accession AND s.message_control_id = p.report_message_control_id
     AND s.obr_index = p.report_obr_index),
  (SELECT min(v.reported_at) FROM report_versions v
   WHERE v.accession = p.accession AND v.message_control_id = p.report_message_control_id
     AND v.obr_index = p.report_obr_index),
  p.report_observed_at);
ALTER TABLE pseudo_labels ALTER COLUMN report_reported_at SET NOT NULL;

ALTER TABLE pseudo_labels_superseded ADD COLUMN report_reported_at timestamptz;
UPDATE pseudo_labels_superseded p SET report_reported_at = COALESCE(
  (SELECT min(v.reported_at) FROM report_versions v
   WHERE v.accession = p.accession AND v.message_control_id = p.report_message_control_id
     AND v.obr_index = p.report_obr_index),
  p.report_observed_at);
ALTER TABLE pseudo_labels_superseded ALTER COLUMN report_reported_at SET NOT NULL;

-- Writers that predate the column (fixtures, ad-hoc loads) leave it out: it falls back to OBR-7,
-- as the report-labeler does when MSH-7 is empty.
CREATE FUNCTION study_record_labels_default_reported_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.reported_at := COALESCE(NEW.reported_at, NEW.observed_at);
  RETURN NEW;
END
$$;
CREATE TRIGGER study_record_labels_default_reported_at
  BEFORE INSERT OR UPDATE ON study_record_labels
  FOR EACH ROW EXECUTE FUNCTION study_record_labels_default_reported_at();

CREATE FUNCTION pseudo_labels_default_report_reported_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.report_reported_at := COALESCE(NEW.report_reported_at, NEW.report_observed_at);
  RETURN NEW;
END
$$;
CREATE TRIGGER pseudo_labels_default_report_reported_at
  BEFORE INSERT OR UPDATE ON pseudo_labels
  FOR EACH ROW EXECUTE FUNCTION pseudo_labels_default_report_reported_at();

-- Down Migration

DROP TRIGGER IF EXISTS pseudo_labels_default_report_reported_at ON pseudo_labels;
DROP FUNCTION IF EXISTS pseudo_labels_default_report_reported_at();
DROP TRIGGER IF EXISTS study_record_labels_default_reported_at ON study_record_labels;
DROP FUNCTION IF EXISTS study_record_labels_default_reported_at();
ALTER TABLE pseudo_labels_superseded DROP COLUMN IF EXISTS report_reported_at;
ALTER TABLE pseudo_labels DROP COLUMN IF EXISTS report_reported_at;
ALTER TABLE study_record_labels DROP COLUMN IF EXISTS reported_at;
