import { DETECTOR_CLASSES, type DetectorClass } from '../vocabulary.ts';
/** The detector's classes that experts box (docs/data-contracts.md). */
export type AnnotationClass = DetectorClass;

/** The region-labelled set D_R: region-train teaches, region-test is held out for evaluation. */
export const REGION_SPLITS = ['region-train', 'region-test'] as const;
export type RegionSplit = (typeof REGION_SPLITS)[number];

export const isAnnotationClass = (v: unknown): v is AnnotationClass =>
  typeof v === 'string' && (DETECTOR_CLASSES as readonly string[]).includes(v);
export const isRegionSplit = (v: unknown): v is RegionSplit =>
  typeof v === 'string' && (REGION_SPLITS as readonly string[]).includes(v);

/** [x0, y0, x1, y1] in stored-image pixels, x right, y down, x1/y1 exclusive. */
export type PixelBox = [number, number, number, number];

/**
 * One expert box as read from a file, well-formed but not yet checked against the images:
 * `index` is its position in the file (0-based), `where` says how to find it there.
 */
export interface ExpertBoxEntry {
  index: number;
  where: string;
  sopInstanceUid: string;
  class: AnnotationClass;
  box: PixelBox;
  /** Absent when the file does not say (the importer's --split then decides). */
  split?: RegionSplit;
  annotator?: string;
  /** The image size the file states (COCO width/height), to catch boxes drawn on a resized copy. */
  stated?: { rows: number; columns: number };
}

/**
 * An image the file says an expert reviewed and found fracture-free (a D_R negative): a COCO image
 * with no annotation, or an annotations.json row {"sopInstanceUid", "split", "fractureFree": true}.
 */
export interface FractureFreeEntry {
  index: number;
  where: string;
  sopInstanceUid: string;
  split?: RegionSplit;
  annotator?: string;
  stated?: { rows: number; columns: number };
}

/** Why a row was not imported. Each has one fixed meaning, counted in the summary. */
export type RejectReason =
  | 'not-an-object'
  | 'missing-image'
  | 'unknown-class'
  | 'bad-box'
  | 'bad-split'
  | 'missing-split'
  | 'split-conflict'
  | 'unknown-image'
  | 'size-mismatch'
  | 'box-outside-image'
  | 'duplicate-in-file'
  | 'fracture-free-conflict';

/** What each reason means, for the summary. */
export const REJECT_REASON_TEXT: Record<RejectReason, string> = {
  'not-an-object': 'not an annotation object',
  'missing-image': 'no SOP Instance UID (or COCO image) to attach the box to',
  'unknown-class': 'class is not rib or clavicle',
  'bad-box': 'box is not four finite coordinates with x0 < x1 and y0 < y1',
  'bad-split': 'split is not region-train or region-test',
  'missing-split': 'no split in the file and no --split given',
  'split-conflict': 'the image is already in the other split (file, --split or database)',
  'unknown-image': 'image is neither in the images table nor in the cohort manifest',
  'size-mismatch': "the file's image size differs from the stored image's",
  'box-outside-image': "box reaches outside the stored image's rows/columns",
  'duplicate-in-file': 'the same box appears earlier in the file',
  'fracture-free-conflict':
    'listed as fracture-free but has boxes (in the file or the database), or a class/box',
};

export interface Rejection {
  index: number;
  where: string;
  reason: RejectReason;
  detail: string;
}

/** The stored geometry of an image and where the importer found it. */
export interface KnownImage {
  rows: number;
  columns: number;
  from: 'database' | 'manifest';
}

export const rejection = (
  at: { index: number; where: string },
  reason: RejectReason,
  detail: string,
): Rejection => ({ index: at.index, where: at.where, reason, detail });
