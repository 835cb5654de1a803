import { DETECTOR_CLASSES } from '../shared/vocabulary.ts';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import cliProgress from 'cli-progress';
import { DicomImageError, readDicomModelInput, resolveSize, warmUpCodecs } from '../shared/imaging/index.ts';
import { DEFAULT_PERCENTILES } from '../shared/imaging/preprocess.ts';
import {
  checkManifestEntry,
  ManifestError,
  quantise,
  scaleClassBoxes,
  type IndexEntry,
} from '../shared/imaging/prepared.ts';
import { ExpectedError } from '../shared/errors.ts';

export interface PrepareOptions {
  cohort: string;
  out?: string;
  size: string;
}

interface Annotation {
  sopInstanceUid: string;
  class: string;
  box: unknown;
}

async function readAnnotations(file: string): Promise<Map<string, Annotation[]>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return new Map(); // a cohort without expert boxes is still preparable
    throw new ExpectedError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed))
    throw new ExpectedError(`${file} must hold a JSON array of {sopInstanceUid, class, box, split}`);
  const bySop = new Map<string, Annotation[]>();
  for (const a of parsed as Annotation[]) {
    if (!a || typeof a.sopInstanceUid !== 'string') continue;
    const list = bySop.get(a.sopInstanceUid) ?? [];
    list.push(a);
    bySop.set(a.sopInstanceUid, list);
  }
  return bySop;
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file)) {
    for (const byte of chunk as Buffer) if (byte === 0x0a) n++;
  }
  return n;
}

async function write(stream: WriteStream, data: Uint8Array | string): Promise<void> {
  if (!stream.write(data)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

/**
 * Prepares a cohort (`harvester prepare`, the demo): a cohort's DICOM files -> prepared/meta.json, images.u8, index.jsonl
 * (docs/data-contracts.md), streaming one image at a time. A file that cannot be read is reported
 * (file and reason) and counted, and the others go on.
 */
export async function prepareCohort(opts: PrepareOptions): Promise<void> {
  const size = Number(opts.size);
  try {
    resolveSize(size);
  } catch (err) {
    throw new ExpectedError(`--size: ${(err as Error).message}`);
  }
  const cohort = resolve(opts.cohort);
  const out = resolve(opts.out ?? join(cohort, 'prepared'));
  const manifestPath = join(cohort, 'manifest.jsonl');
  let total: number;
  try {
    total = await countLines(manifestPath);
  } catch (err) {
    throw new ExpectedError(
      `cannot read ${manifestPath}: ${(err as Error).message} (is --cohort a cohort directory?)`,
    );
  }
  const annotations = await readAnnotations(join(cohort, 'annotations.json'));
  await mkdir(out, { recursive: true });
  await warmUpCodecs();

  const images = createWriteStream(join(out, 'images.u8'));
  const index = createWriteStream(join(out, 'index.jsonl'));
  const failures = createWriteStream(join(out, 'failures.jsonl'));
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'prepare [{bar}] {value}/{total} images | {failed} failed | {eta}s left',
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { failed: 0 });
  const failedBy = new Map<string, number>();
  let count = 0;
  let failed = 0;
  let lineNo = 0;
  const bytes = new Uint8Array(size * size);
  const started = Date.now();

  const lines = createInterface({ input: createReadStream(manifestPath), crlfDelay: Infinity });
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let file = `manifest.jsonl line ${lineNo}`;
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (err) {
        throw new ManifestError(`not JSON: ${(err as Error).message}`);
      }
      const entry = checkManifestEntry(parsed);
      file = entry.file;
      const input = await readDicomModelInput(join(cohort, entry.file), { size });
      const stored = { rows: input.meta.rows, columns: input.meta.columns };
      if (
        (entry.rows !== undefined && entry.rows !== stored.rows) ||
        (entry.columns !== undefined && entry.columns !== stored.columns)
      ) {
        throw new ManifestError(
          `manifest says ${entry.columns}x${entry.rows} but the DICOM is ${stored.columns}x${stored.rows}`,
        );
      }
      const model = { width: size, height: size };
      const region = entry.split !== 'record';
      const indexEntry: IndexEntry = {
        i: count,
        sopInstanceUid: entry.sopInstanceUid,
        accession: entry.accession,
        split: entry.split,
        record: { rib: entry.reportLabel.rib, clavicle: entry.reportLabel.clavicle },
        boxes: region ? scaleClassBoxes(annotations.get(entry.sopInstanceUid) ?? [], stored, model) : [],
        truthBoxes: scaleClassBoxes(entry.fractures, stored, model),
      };
      await write(images, quantise(input.pixels, bytes));
      await write(index, JSON.stringify(indexEntry) + '\n');
      count++;
    } catch (err) {
      if (!(
        err instanceof DicomImageError ||
        err instanceof ManifestError ||
        (err as NodeJS.ErrnoException).code
      ))
        throw err;
      failed++;
      const code =
        err instanceof DicomImageError
          ? err.code
          : err instanceof ManifestError
            ? 'bad-manifest-line'
            : 'unreadable-file';
      failedBy.set(code, (failedBy.get(code) ?? 0) + 1);
      const reason = (err as Error).message;
      await write(failures, JSON.stringify({ line: lineNo, file, code, reason }) + '\n');
      bar.stop();
      process.stderr.write(`prepare: ${file}: ${reason}\n`);
      bar.start(total, lineNo, { failed });
    }
    bar.update(lineNo, { failed });
  }
  bar.stop();
  await Promise.all([close(images), close(index), close(failures)]);
  if (count === 0)
    throw new ExpectedError(
      `no image could be prepared from ${manifestPath} (${failed} failed; see ${join(out, 'failures.jsonl')})`,
    );

  const meta = {
    size,
    count,
    classes: [...DETECTOR_CLASSES],
    dtype: 'uint8',
    file: 'images.u8',
    preprocessing: {
      rescale: 'RescaleSlope and RescaleIntercept applied',
      window: `linear VOI from the first WindowCenter/WindowWidth; without one, the ${DEFAULT_PERCENTILES[0]}th-${DEFAULT_PERCENTILES[1]}th percentiles of the image`,
      monochrome1: 'inverted after windowing (bone bright)',
      resize: `area average to ${size}x${size}, aspect ratio not kept; boxes scaled by size/columns and size/rows`,
      frames: 'first frame',
      quantisation: 'round(v * 255)',
    },
    failed,
    source: { cohort, manifest: 'manifest.jsonl', annotations: 'annotations.json' },
  };
  await writeFile(join(out, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  const seconds = (Date.now() - started) / 1000;
  const why = [...failedBy].map(([code, n]) => `${n} ${code}`).join(', ');
  process.stderr.write(
    `prepare: ${count} images written to ${out} in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(1)} images/s); ` +
      `${failed} failed${failed ? ` (${why}; see failures.jsonl)` : ''}\n`,
  );
}
