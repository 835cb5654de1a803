import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type pg from 'pg';
import {
  AnnotationFileError,
  checkExpertBoxes,
  countRejections,
  formatImportSummary,
  formatRejection,
  isRegionSplit,
  parseAnnotationsJson,
  parseCocoAnnotations,
  readManifestGeometry,
  type AnnotationImportSummary,
  type CheckedExpertBox,
  type KnownImage,
  type ParsedAnnotations,
  type RegionSplit,
  type Rejection,
} from '../../shared/annotations/index.ts';
import { DEFAULT_EMBEDDED_DATA_DIR, startEmbeddedPostgres } from '../../shared/db/embedded-postgres.ts';
import { migrateDatabase } from '../../shared/db/migrate.ts';
import { createPool } from '../../shared/db/pool.ts';
import { withTransaction } from '../../shared/db/transaction.ts';

export interface AnnotationsImportOptions {
  input: string;
  format?: string;
  split?: string;
  database?: string;
  dataDir?: string;
  imagesFrom?: string;
}

type Format = 'json' | 'coco';

const userError = (message: string): Error => Object.assign(new Error(message), { expected: true });

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw userError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** --format, else the file's shape: an array is annotations.json, an object COCO. */
function formatOf(option: string | undefined, text: string): Format {
  if (option !== undefined) {
    if (option === 'json' || option === 'coco') return option;
    throw userError(`--format must be coco or json (got "${option}")`);
  }
  return text.trimStart().startsWith('[') ? 'json' : 'coco';
}

function splitOf(option: string | undefined): RegionSplit | undefined {
  if (option === undefined || isRegionSplit(option)) return option;
  throw userError(`--split must be region-train or region-test (got "${option}")`);
}

/** --images-from: a cohort directory (its manifest.jsonl) or the manifest file itself. */
function manifestOf(path: string): Map<string, { rows: number; columns: number }> {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, 'manifest.jsonl');
  } catch {
    throw userError(`--images-from ${path}: no such cohort directory or manifest file`);
  }
  return readManifestGeometry(readText(file, 'cohort manifest'), file);
}

export interface ImportAnnotationsInput {
  parsed: ParsedAnnotations;
  source: string;
  format: Format;
  split?: RegionSplit;
  manifest?: ReadonlyMap<string, { rows: number; columns: number }>;
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

/**
 * Checks parsed boxes against the database (images, boxes already stored) and the optional cohort
 * manifest, and stores the good ones in one transaction; a box already stored is counted, not
 * repeated. Imports are serialised by a table lock so two at once cannot split one image.
 */
export async function importAnnotations(
  pool: pg.Pool,
  input: ImportAnnotationsInput,
): Promise<{ summary: AnnotationImportSummary; rejects: Rejection[] }> {
  const { parsed } = input;
  const sops = [...new Set(parsed.entries.map((e) => e.sopInstanceUid))];
  return withTransaction(pool, async (client) => {
    await client.query('LOCK TABLE region_annotations IN SHARE ROW EXCLUSIVE MODE');
    const images = new Map<string, KnownImage>();
    const stored = await client.query<{ sop_instance_uid: string; rows: number; columns: number }>(
      'SELECT sop_instance_uid, rows, columns FROM images WHERE sop_instance_uid = ANY($1::text[])',
      [sops],
    );
    for (const r of stored.rows)
      images.set(r.sop_instance_uid, { rows: r.rows, columns: r.columns, from: 'database' });
    for (const sop of sops) {
      const m = images.has(sop) ? undefined : input.manifest?.get(sop);
      if (m) images.set(sop, { ...m, from: 'manifest' });
    }
    const splits = await client.query<{ sop_instance_uid: string; split: RegionSplit }>(
      'SELECT DISTINCT sop_instance_uid, split FROM region_annotations WHERE sop_instance_uid = ANY($1::text[])',
      [sops],
    );
    const storedSplits = new Map(splits.rows.map((r) => [r.sop_instance_uid, r.split]));
    const checked = checkExpertBoxes(parsed.entries, {
      images,
      storedSplits,
      split: input.split,
      manifestGiven: input.manifest !== undefined,
    });
    const imported = await insertBoxes(client, checked.accepted, input.source);
    const rejects = [...parsed.rejects, ...checked.rejects].sort((a, b) => a.index - b.index);
    const bySplit = { 'region-train': 0, 'region-test': 0 };
    for (const b of checked.accepted) bySplit[b.split]++;
    const summary: AnnotationImportSummary = {
      source: input.source,
      format: input.format,
      total: parsed.total,
      imported,
      alreadyPresent: checked.accepted.length - imported,
      rejected: countRejections(rejects),
      bySplit,
      imagesFromManifest: new Set(
        checked.accepted.filter((b) => b.imageFrom === 'manifest').map((b) => b.sopInstanceUid),
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
    if (err instanceof AnnotationFileError) throw userError(`${opts.input}: ${err.message}`);
    throw err;
  }
  const manifest = opts.imagesFrom ? manifestOf(opts.imagesFrom) : undefined;
  return { parsed, source: basename(opts.input), format, split, ...(manifest ? { manifest } : {}) };
}

/**
 * `harvester annotations import`: expert boxes (D_R) into region_annotations. Bad rows go to stderr
 * with their place in the file and are counted; the good ones are kept. Exit status 2 when some
 * rows were rejected, as `harvester label-reports`.
 */
export async function annotationsImportCommand(opts: AnnotationsImportOptions): Promise<void> {
  const input = readAnnotationsInput(opts);
  const embedded = opts.database
    ? null
    : await startEmbeddedPostgres({ dataDir: opts.dataDir ?? DEFAULT_EMBEDDED_DATA_DIR });
  const url = opts.database ?? embedded!.url;
  try {
    if (opts.database) await migrateDatabase({ database: url });
    const pool = createPool({ url, maxConnections: 1, applicationName: 'annotations-import' });
    try {
      const { summary, rejects } = await importAnnotations(pool, input);
      for (const r of rejects)
        process.stderr.write(`harvester annotations import: ${formatRejection(input.source, r)}\n`);
      process.stdout.write(formatImportSummary(summary) + '\n');
      if (rejects.length > 0) process.exitCode = 2;
    } finally {
      await pool.end();
    }
  } finally {
    await embedded?.close();
  }
}
