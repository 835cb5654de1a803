-- Up Migration

-- Expert boxes (the region-labelled set D_R), loaded by `harvester annotations import`. One row per
-- box in the pixel coordinates of the stored image (x right, y down, x1/y1 exclusive), as in
-- docs/data-contracts.md. The natural key is the box itself, so importing the same file again adds
-- nothing. No foreign key to images: annotations may be imported before their images arrive (the
-- importer then checks them against the cohort manifest). Coordinates are double precision because
-- annotation tools export fractional pixels; they are stored as given.
CREATE TABLE region_annotations (
  id bigserial PRIMARY KEY,
  sop_instance_uid text NOT NULL,
  class text NOT NULL CHECK (class IN ('rib', 'clavicle')),
  x0 double precision NOT NULL CHECK (x0 >= 0),
  y0 double precision NOT NULL CHECK (y0 >= 0),
  x1 double precision NOT NULL,
  y1 double precision NOT NULL,
  -- region-train teaches the teacher (and the student); region-test is held out for evaluation only
  split text NOT NULL CHECK (split IN ('region-train', 'region-test')),
  -- the file it was imported from (its base name)
  source text NOT NULL,
  annotator text,
  imported_at timestamptz NOT NULL DEFAULT now(),
  CHECK (x0 < x1 AND y0 < y1),
  UNIQUE (sop_instance_uid, class, x0, y0, x1, y1)
);
CREATE INDEX region_annotations_split_idx ON region_annotations (split, sop_instance_uid);

GRANT SELECT, INSERT ON region_annotations TO harvester_service;
GRANT USAGE, SELECT ON SEQUENCE region_annotations_id_seq TO harvester_service;

-- Down Migration

DROP TABLE IF EXISTS region_annotations;
