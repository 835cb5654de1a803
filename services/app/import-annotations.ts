import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type pg from 'pg';
import {
  AnnotationFileError,
  checkExpertBoxes,
  countRejections,
  isRegionSplit,
  parseAnnotationsJson,
  parseCocoAnnotations,
  readManifestGeometry,
  type AnnotationImportSummary,
  type CheckedExpertBox,
  type KnownImage,
  type ManifestImage,
  type ParsedAnnotations,
  type RegionSplit,
  type Rejection,
} from '../shared/annotations/index.ts';
import { withTransaction } from '../shared/db/transaction.ts';
import { ExpectedError } from '../shared/errors.ts';

export interface AnnotationsImportOptions {
  input: string;
  format?: string;
  split?: string;
  database?: string;
  dataDir?: string;
  imagesFrom?: string;
  /** Training store root (default TRAINING_STORE_URL or var/training-store). */
  store?: string;
  /** Model input size of the stored inputs (default TEACHER_INPUT_SIZE or 256). */
  size?: string;
}

type Format = 'json' | 'coco';

/** A mistake in the command's input: a clear one-line message, no stack trace. */
export const annotationsInputError = (message: string): Error => new ExpectedError(message);

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw annotationsInputError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** --format, else the file's shape: an array is annotations.json, an object COCO. */
function formatOf(option: string | undefined, text: string): Format {
  if (option !== undefined) {
    if (option === 'json' || option === 'coco') return option;
    throw annotationsInputError(`--format must be coco or json (got "${option}")`);
  }
  return text.trimStart().startsWith('[') ? 'json' : 'coco';
}

function splitOf(option: string | undefined): RegionSplit | undefined {
  if (option === undefined || isRegionSplit(option)) return option;
  throw annotationsInputError(`--split must be region-train or region-test (got "${option}")`);
}

/**
 * --images-from: a cohort directory (its manifest.jsonl) or the manifest file itself; the images'
 * files are resolved against the manifest's folder.
 */
function manifestOf(path: string): Map<string, ManifestImage> {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, 'manifest.jsonl');
  } catch {
    throw annotationsInputError(`--images-from ${path}: no such cohort directory or manifest file`);
  }
  const images = readManifestGeometry(readText(file, 'cohort manifest'), file);
  const folder = dirname(resolve(file));
  for (const image of images.values()) if (image.file) image.file = resolve(folder, image.file);
  return images;
}

export interface ImportAnnotationsInput {
  parsed: ParsedAnnotations;
  source: string;
  format: Format;
  split?: RegionSplit;
  /** Cohort manifest images (geometry, and absolute DICOM paths). */
  manifest?: ReadonlyMap<string, ManifestImage>;
}

const INSERT_CHUNK = 1000;

async function insertBoxes(
  client: pg.PoolClient,
  boxes: readonly CheckedExpertBox[],
  source: string,
): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < boxes.length; i += INSERT_CHUNK) {
    const chunk = boxes.slice(i, i + INSERT_CHUNK);
    const col = <T>(f: (b: CheckedExpertBox) => T): T[] => chunk.map(f);
    const { rowCount } = await client.query(
      `INSERT INTO region_annotations (sop_instance_uid, class, x0, y0, x1, y1, split, source, annotator)
       SELECT s, c, x0, y0, x1, y1, sp, $8, a
       FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::float8[], $6::float8[],
                   $7::text[], $9::text[]) AS t(s, c, x0, y0, x1, y1, sp, a)
       ON CONFLICT (sop_instance_uid, class, x0, y0, x1, y1) DO NOTHING`,
      [
        col((b) => b.sopInstanceUid),
        col((b) => b.class),
        col((b) => b.box[0]),
        col((b) => b.box[1]),
        col((b) => b.box[2]),
        col((b) => b.box[3]),
        col((b) => b.split),
        source,
        col((b) => b.annotator ?? null),
      ],
    );
    inserted += rowCount ?? 0;
  }
  return inserted;
}

/** The image rows (reviewed images of D_R) for the accepted boxes and fracture-free images. */
async function insertReviewedImages(
  client: pg.PoolClient,
  images: ReadonlyArray<{ sopInstanceUid: string; split: RegionSplit; annotator?: string }>,
  source: string,
): Promise<number> {
  const unique = [...new Map(images.map((i) => [i.sopInstanceUid, i])).values()];
  if (unique.length === 0) return 0;
  const { rowCount } = await client.query(
    `INSERT INTO region_annotated_images (sop_instance_uid, split, source, annotator)
     SELECT s, sp, $3, a FROM unnest($1::text[], $2::text[], $4::text[]) AS t(s, sp, a)
     ON CONFLICT (sop_instance_uid) DO NOTHING`,
    [
      unique.map((i) => i.sopInstanceUid),
      unique.map((i) => i.split),
      source,
      unique.map((i) => i.annotator ?? null),
    ],
  );
  return rowCount ?? 0;
}

/**
 * Checks parsed boxes and fracture-free images against the database (images, images already
 * reviewed, boxes already stored) and the optional cohort manifest, and stores the good ones in
 * one transaction: each reviewed image once with its split (region_annotated_images), each box
 * once. Imports are serialised by a table lock so two at once cannot split one image.
 */
export async function importAnnotations(
  pool: pg.Pool,
  input: ImportAnnotationsInput,
): Promise<{ summary: AnnotationImportSummary; rejects: Rejection[] }> {
  const { parsed } = input;
  const sops = [...new Set([...parsed.entries, ...parsed.fractureFree].map((e) => e.sopInstanceUid))];
  return withTransaction(pool, async (client) => {
    await client.query('LOCK TABLE region_annotated_images IN SHARE ROW EXCLUSIVE MODE');
    const images = new Map<string, KnownImage>();
    const stored = await client.query<{ sop_instance_uid: string; rows: number; columns: number }>(
      'SELECT sop_instance_uid, rows, columns FROM images WHERE sop_instance_uid = ANY($1::text[])',
      [sops],
    );
    for (const r of stored.rows)
      images.set(r.sop_instance_uid, { rows: r.rows, columns: r.columns, from: 'database' });
    for (const sop of sops) {
      const m = images.has(sop) ? undefined : input.manifest?.get(sop);
      if (m) images.set(sop, { rows: m.rows, columns: m.columns, from: 'manifest' });
    }
    const reviewed = await client.query<{ sop_instance_uid: string; split: RegionSplit; boxed: boolean }>(
      `SELECT r.sop_instance_uid, r.split,
         EXISTS (SELECT 1 FROM region_annotations a WHERE a.sop_instance_uid = r.sop_instance_uid) AS boxed
       FROM region_annotated_images r WHERE r.sop_instance_uid = ANY($1::text[])`,
      [sops],
    );
    const checked = checkExpertBoxes(
      parsed.entries,
      {
        images,
        storedSplits: new Map(reviewed.rows.map((r) => [r.sop_instance_uid, r.split])),
        storedBoxed: new Set(reviewed.rows.filter((r) => r.boxed).map((r) => r.sop_instance_uid)),
        split: input.split,
        manifestGiven: input.manifest !== undefined,
      },
      parsed.fractureFree,
    );
    // fracture-free and boxed images are disjoint (checked), so the first count is the new fracture-free ones
    const freeImported = await insertReviewedImages(client, checked.fractureFree, input.source);
    await insertReviewedImages(client, checked.accepted, input.source);
    const imported = await insertBoxes(client, checked.accepted, input.source);
    const rejects = [...parsed.rejects, ...checked.rejects].sort((a, b) => a.index - b.index);
    const bySplit = { 'region-train': 0, 'region-test': 0 };
    for (const b of checked.accepted) bySplit[b.split]++;
    const freeBySplit = { 'region-train': 0, 'region-test': 0 };
    for (const f of checked.fractureFree) freeBySplit[f.split]++;
    const summary: AnnotationImportSummary = {
      source: input.source,
      format: input.format,
      total: parsed.total,
      imported,
      alreadyPresent: checked.accepted.length - imported,
      rejected: countRejections(rejects),
      bySplit,
      fractureFree: {
        imported: freeImported,
        alreadyPresent: checked.fractureFree.length - freeImported,
        bySplit: freeBySplit,
      },
      imagesFromManifest: new Set(
        [...checked.accepted, ...checked.fractureFree]
          .filter((b) => b.imageFrom === 'manifest')
          .map((b) => b.sopInstanceUid),
      ).size,
    };
    return { summary, rejects };
  });
}

/** Reads and parses the input file, loads the manifest when given: everything before the database. */
export function readAnnotationsInput(opts: AnnotationsImportOptions): ImportAnnotationsInput {
  const split = splitOf(opts.split);
  const text = readText(opts.input, 'annotations file');
  const format = formatOf(opts.format, text);
  let parsed: ParsedAnnotations;
  try {
    parsed = format === 'coco' ? parseCocoAnnotations(text) : parseAnnotationsJson(text);
  } catch (err) {
    if (err instanceof AnnotationFileError) throw annotationsInputError(`${opts.input}: ${err.message}`);
    throw err;
  }
  const manifest = opts.imagesFrom ? manifestOf(opts.imagesFrom) : undefined;
  return { parsed, source: basename(opts.input), format, split, ...(manifest ? { manifest } : {}) };
}
