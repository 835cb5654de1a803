-- Up Migration

-- Closing the loop on a real feed (issue 14): the training store's index, the expert-reviewed
-- images of D_R (fracture-free ones included), and the data snapshot each job and model saw.

-- One row per shard file of the training store (docs/data-contracts.md, "Training store"). The id
-- is the SHA-256 of the file's bytes; `path` is relative to the store root (TRAINING_STORE_URL), so
-- a cluster can mount the same volume elsewhere.
CREATE TABLE training_shards (
  shard_id text PRIMARY KEY,
  path text NOT NULL UNIQUE,
  preprocessing_version text NOT NULL,
  height integer NOT NULL CHECK (height > 0),
  width integer NOT NULL CHECK (width > 0),
  images integer NOT NULL CHECK (images > 0),
  bytes bigint NOT NULL CHECK (bytes = images::bigint * height * width),
  -- pseudo-labeler, backfill, annotations-import
  writer text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The model input of an image under one preprocessing version: where it is and its checksum. No
-- foreign key to images: expert-annotated images may come from a cohort folder, not the feed.
-- source_rows/source_columns are the stored image's geometry (expert boxes are in its pixels).
CREATE TABLE training_inputs (
  sop_instance_uid text NOT NULL,
  preprocessing_version text NOT NULL,
  shard_id text NOT NULL REFERENCES training_shards (shard_id),
  byte_offset bigint NOT NULL CHECK (byte_offset >= 0),
  height integer NOT NULL,
  width integer NOT NULL,
  source_rows integer NOT NULL CHECK (source_rows > 0),
  source_columns integer NOT NULL CHECK (source_columns > 0),
  checksum_sha256 text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sop_instance_uid, preprocessing_version)
);
CREATE INDEX training_inputs_shard_idx ON training_inputs (shard_id);

-- Every image an expert reviewed for the region-labelled set D_R, with its split: those without a
-- row in region_annotations were found fracture-free (D_R's negatives). One split per image.
CREATE TABLE region_annotated_images (
  sop_instance_uid text PRIMARY KEY,
  split text NOT NULL CHECK (split IN ('region-train', 'region-test')),
  source text NOT NULL,
  annotator text,
  imported_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO region_annotated_images (sop_instance_uid, split, source, annotator, imported_at)
SELECT DISTINCT ON (sop_instance_uid) sop_instance_uid, split, source, annotator, imported_at
FROM region_annotations
ORDER BY sop_instance_uid, imported_at;
ALTER TABLE region_annotations
  ADD CONSTRAINT region_annotations_image_fk FOREIGN KEY (sop_instance_uid)
  REFERENCES region_annotated_images (sop_instance_uid);

-- What a job trained on: counts per class and record status, the watermark, the teacher version,
-- the preprocessing version, the shards read and a digest of the (image, class) list.
ALTER TABLE distill_jobs ADD COLUMN snapshot jsonb;
ALTER TABLE model_versions ADD COLUMN training_snapshot jsonb;

-- The snapshot's scan: one teacher version's labels up to a watermark.
CREATE INDEX pseudo_labels_version_created_idx ON pseudo_labels (model_version, created_at);

GRANT SELECT, INSERT ON training_shards, training_inputs, region_annotated_images TO harvester_service;

-- Down Migration

DROP INDEX IF EXISTS pseudo_labels_version_created_idx;
ALTER TABLE model_versions DROP COLUMN IF EXISTS training_snapshot;
ALTER TABLE distill_jobs DROP COLUMN IF EXISTS snapshot;
ALTER TABLE region_annotations DROP CONSTRAINT IF EXISTS region_annotations_image_fk;
DROP TABLE IF EXISTS region_annotated_images;
DROP TABLE IF EXISTS training_inputs;
DROP TABLE IF EXISTS training_shards;
