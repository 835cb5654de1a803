import {
  rejection,
  type ExpertBoxEntry,
  type FractureFreeEntry,
  type KnownImage,
  type RegionSplit,
  type Rejection,
} from './expert-box.ts';

/** A box that passed every check, with its split decided and where its image was found. */
export interface CheckedExpertBox extends ExpertBoxEntry {
  split: RegionSplit;
  imageFrom: KnownImage['from'];
}

/** A fracture-free image that passed every check. */
export interface CheckedFractureFree extends FractureFreeEntry {
  split: RegionSplit;
  imageFrom: KnownImage['from'];
}

export interface ExpertBoxContext {
  /** Stored geometry of the images the boxes name (absent = unknown image). */
  images: ReadonlyMap<string, KnownImage>;
  /** The split of images already reviewed (stored boxes or fracture-free): one split per image. */
  storedSplits: ReadonlyMap<string, RegionSplit>;
  /** Images that have stored boxes (they cannot be listed as fracture-free). */
  storedBoxed?: ReadonlySet<string>;
  /** --split: the split of rows that do not state one; a row stating the other split is refused. */
  split?: RegionSplit;
  /** Whether a cohort manifest was consulted (changes only the message for unknown images). */
  manifestGiven?: boolean;
}

/** The natural key of a stored box (region_annotations' unique key). */
export const expertBoxKey = (e: Pick<ExpertBoxEntry, 'sopInstanceUid' | 'class' | 'box'>): string =>
  JSON.stringify([e.sopInstanceUid, e.class, ...e.box]);

type ImageEntry = Pick<FractureFreeEntry, 'index' | 'where' | 'sopInstanceUid' | 'split' | 'stated'>;

/**
 * The checks every reviewed image passes, with or without boxes: a split from the file or
 * --split, the image known (database or cohort manifest) at the size the file states, and one
 * split per image across the database and the file. Returns the split and image, or why not.
 */
function checkImageEntry(
  e: ImageEntry,
  context: ExpertBoxContext,
  fileSplits: ReadonlyMap<string, { split: RegionSplit; where: string }>,
): { split: RegionSplit; image: KnownImage } | Rejection {
  if (e.split && context.split && e.split !== context.split) {
    return rejection(e, 'split-conflict', `the file says ${e.split}, --split says ${context.split}`);
  }
  const split = e.split ?? context.split;
  if (!split) {
    return rejection(e, 'missing-split', 'no split in the file; pass --split region-train|region-test');
  }
  const image = context.images.get(e.sopInstanceUid);
  if (!image) {
    return rejection(
      e,
      'unknown-image',
      context.manifestGiven
        ? `image ${e.sopInstanceUid} is not in the images table or the cohort manifest`
        : `image ${e.sopInstanceUid} is not in the images table (pass --images-from COHORT if it has not arrived yet)`,
    );
  }
  if (e.stated && (e.stated.rows !== image.rows || e.stated.columns !== image.columns)) {
    return rejection(
      e,
      'size-mismatch',
      `the file gives the image as ${e.stated.columns}x${e.stated.rows}, the stored image is ${image.columns}x${image.rows} (columns x rows)`,
    );
  }
  const stored = context.storedSplits.get(e.sopInstanceUid);
  if (stored && stored !== split) {
    return rejection(
      e,
      'split-conflict',
      `image is already in ${stored} in the database, this row says ${split}`,
    );
  }
  const earlier = fileSplits.get(e.sopInstanceUid);
  if (earlier && earlier.split !== split) {
    return rejection(
      e,
      'split-conflict',
      `${earlier.where} puts this image in ${earlier.split}, this row in ${split}`,
    );
  }
  return { split, image };
}

const isRejected = (v: object): v is Rejection => 'reason' in v;

/**
 * Checks well-formed boxes against the images they name: the image is known (database or cohort
 * manifest), the box lies inside its rows and columns, the split is given and the image is in one
 * split only (train boxes on a held-out image would leak it into training), no box twice in the
 * file. Then the fracture-free images: the same image checks, and no boxes for them in the file or
 * the database. Every entry ends up either accepted or rejected with one reason.
 */
export function checkExpertBoxes(
  entries: readonly ExpertBoxEntry[],
  context: ExpertBoxContext,
  fractureFree: readonly FractureFreeEntry[] = [],
): { accepted: CheckedExpertBox[]; fractureFree: CheckedFractureFree[]; rejects: Rejection[] } {
  const accepted: CheckedExpertBox[] = [];
  const acceptedFree: CheckedFractureFree[] = [];
  const rejects: Rejection[] = [];
  const fileSplits = new Map<string, { split: RegionSplit; where: string }>();
  const seen = new Map<string, string>();
  const boxedInFile = new Set(entries.map((e) => e.sopInstanceUid));
  for (const e of entries) {
    const checked = checkImageEntry(e, context, fileSplits);
    if (isRejected(checked)) {
      rejects.push(checked);
      continue;
    }
    const { split, image } = checked;
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
    const key = expertBoxKey(e);
    const first = seen.get(key);
    if (first) {
      rejects.push(rejection(e, 'duplicate-in-file', `same image, class and box as ${first}`));
      continue;
    }
    seen.set(key, e.where);
    if (!fileSplits.has(e.sopInstanceUid)) fileSplits.set(e.sopInstanceUid, { split, where: e.where });
    accepted.push({ ...e, split, imageFrom: image.from });
  }
  for (const e of fractureFree) {
    if (boxedInFile.has(e.sopInstanceUid) || context.storedBoxed?.has(e.sopInstanceUid)) {
      rejects.push(
        rejection(
          e,
          'fracture-free-conflict',
          `image ${e.sopInstanceUid} is listed as fracture-free but has boxes ${boxedInFile.has(e.sopInstanceUid) ? 'in this file' : 'in the database'}`,
        ),
      );
      continue;
    }
    const checked = checkImageEntry(e, context, fileSplits);
    if (isRejected(checked)) {
      rejects.push(checked);
      continue;
    }
    if (!fileSplits.has(e.sopInstanceUid))
      fileSplits.set(e.sopInstanceUid, { split: checked.split, where: e.where });
    acceptedFree.push({ ...e, split: checked.split, imageFrom: checked.image.from });
  }
  return { accepted, fractureFree: acceptedFree, rejects };
}
