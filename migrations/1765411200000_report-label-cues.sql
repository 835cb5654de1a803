-- Up Migration

-- Why a label is what it is (report rules 1.2.0): the cue that made it negative or uncertain
-- (negation, hedge, history, hardware, conditional; null when positive or not mentioned) and every
-- mention of the bone with its status, cue, trigger words, section and whether it decided
-- (services/shared/report-rules/README.md). Rows labelled by earlier rules keep null / [].
ALTER TABLE report_labels ADD COLUMN cue text;
ALTER TABLE report_labels ADD COLUMN reasons jsonb NOT NULL DEFAULT '[]';

-- Down Migration

ALTER TABLE report_labels DROP COLUMN IF EXISTS reasons;
ALTER TABLE report_labels DROP COLUMN IF EXISTS cue;
