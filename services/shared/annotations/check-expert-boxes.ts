import {
  rejection,
  type ExpertBoxEntry,
  type KnownImage,
  type RegionSplit,
  type Rejection,
} from './expert-box.ts';

/** A box that passed every check, with its split decided and where its image was found. */
export interface CheckedExpertBox extends ExpertBoxEntry {
  split: RegionSplit;
  imageFrom: KnownImage['from'];
}

export interface ExpertBoxContext {
  /** Stored geometry of the images the boxes name (absent = unknown image). */
  images: ReadonlyMap<string, KnownImage>;
  /** The split of images that already have stored boxes: an image belongs to one split only. */
  storedSplits: ReadonlyMap<string, RegionSplit>;
  /** --split: the split of rows that do not state one; a row stating the other split is refused. */
  split?: RegionSplit;
  /** Whether a cohort manifest was consulted (changes only the message for unknown images). */
  manifestGiven?: boolean;
}

/** The natural key of a stored box (region_annotations' unique key). */
export const expertBoxKey = (e: Pick<ExpertBoxEntry, 'sopInstanceUid' | 'class' | 'box'>): string =>
  JSON.stringify([e.sopInstanceUid, e.class, ...e.box]);

/**
 * Checks well-formed boxes against the images they name: the image is known (database or cohort
 * manifest), the box lies inside its rows and columns, the split is given and the image is in one
 * split only (train boxes on a held-out image would leak it into training), no box twice in the
 * file. Every entry ends up either accepted or rejected with one reason.
 */
export function checkExpertBoxes(
  entries: readonly ExpertBoxEntry[],
  context: ExpertBoxContext,
): { accepted: CheckedExpertBox[]; rejects: Rejection[] } {
  const accepted: CheckedExpertBox[] = [];
  const rejects: Rejection[] = [];
  const fileSplits = new Map<string, { split: RegionSplit; where: string }>();
  const seen = new Map<string, string>();
  for (const e of entries) {
    if (e.split && context.split && e.split !== context.split) {
      rejects.push(rejection(e, 'split-conflict', `the file says ${e.split}, --split says ${context.split}`));
      continue;
    }
    const split = e.split ?? context.split;
    if (!split) {
      rejects.push(
        rejection(e, 'missing-split', 'no split in the file; pass --split region-train|region-test'),
      );
      continue;
    }
    const image = context.images.get(e.sopInstanceUid);
    if (!image) {
      rejects.push(
        rejection(
          e,
          'unknown-image',
          context.manifestGiven
            ? `image ${e.sopInstanceUid} is not in the images table or the cohort manifest`
            : `image ${e.sopInstanceUid} is not in the images table (pass --images-from COHORT if it has not arrived yet)`,
        ),
      );
      continue;
    }
    if (e.stated && (e.stated.rows !== image.rows || e.stated.columns !== image.columns)) {
      rejects.push(
        rejection(
          e,
          'size-mismatch',
          `the file gives the image as ${e.stated.columns}x${e.stated.rows}, the stored image is ${image.columns}x${image.rows} (columns x rows)`,
        ),
      );
      continue;
    }
    const [x0, y0, x1, y1] = e.box;
    if (x0 < 0 || y0 < 0 || x1 > image.columns || y1 > image.rows) {
      rejects.push(
        rejection(
          e,
          'box-outside-image',
          `box [${e.box.join(', ')}] is outside the image (columns ${image.columns}, rows ${image.rows})`,
        ),
      );
      continue;
    }
    const stored = context.storedSplits.get(e.sopInstanceUid);
    if (stored && stored !== split) {
      rejects.push(
        rejection(
          e,
          'split-conflict',
          `image already has ${stored} boxes in the database, this row says ${split}`,
        ),
      );
      continue;
    }
    const earlier = fileSplits.get(e.sopInstanceUid);
    if (earlier && earlier.split !== split) {
      rejects.push(
        rejection(
          e,
          'split-conflict',
          `${earlier.where} puts this image in ${earlier.split}, this row in ${split}`,
        ),
      );
      continue;
    }
    const key = expertBoxKey(e);
    const first = seen.get(key);
    if (first) {
      rejects.push(rejection(e, 'duplicate-in-file', `same image, class and box as ${first}`));
      continue;
    }
    seen.set(key, e.where);
    if (!earlier) fileSplits.set(e.sopInstanceUid, { split, where: e.where });
    accepted.push({ ...e, split, imageFrom: image.from });
  }
  return { accepted, rejects };
}
