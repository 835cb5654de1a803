/**
 * Reads a cohort directory (docs/data-contracts.md) into what `harvester feed` publishes: the
 * manifest with each image's arrival header, and the raw HL7 messages with their report lines.
 * Everything is checked before anything is sent, so a broken cohort fails with a clear message
 * instead of a half-published feed.
 */
import { readDicomArrivalHeader, type DicomArrivalHeader } from '../shared/imaging/dicom-arrival-header.ts';
import { existsSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hl7MessageKey, readMshHeader } from '../shared/hl7-transport/msh-header.ts';
import { splitHl7 } from '../shared/hl7/split.ts';
import type { ManifestLine, ReportLine } from '../../tools/synth/study-output.ts';
import { ExpectedError } from '../shared/errors.ts';

export class CohortReadError extends ExpectedError {}

export interface CohortImage {
  manifest: ManifestLine;
  header: DicomArrivalHeader;
  /** Absolute path of the DICOM file, and its file:// uri. */
  path: string;
  uri: string;
  sizeBytes: number;
}

export interface CohortReport {
  line: ReportLine;
  /** The message bytes as in reports.hl7 (segments ended by CR). */
  raw: Buffer;
  /** MSH-4|MSH-10, the key on hl7.oru.raw. */
  key: string;
}

export interface FeedableCohort {
  dir: string;
  images: CohortImage[];
  reports: CohortReport[];
}

// The synthetic writer's headers are about 1.2 kB; other files get a second, whole-file read.
const HEADER_PREFIX_BYTES = 64 * 1024;

function readJsonLines<T>(path: string, text: string, required: readonly string[]): T[] {
  const out: T[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new CohortReadError(`${path} line ${i + 1} is not JSON: ${(err as Error).message}`);
    }
    const missing = required.filter((k) => (value as Record<string, unknown> | null)?.[k] === undefined);
    if (missing.length > 0) throw new CohortReadError(`${path} line ${i + 1} lacks ${missing.join(', ')}`);
    out.push(value as T);
  });
  return out;
}

async function readHeader(path: string): Promise<{ header: DicomArrivalHeader; sizeBytes: number }> {
  const handle = await open(path, 'r');
  let prefix: Buffer;
  let sizeBytes: number;
  try {
    sizeBytes = (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.min(HEADER_PREFIX_BYTES, sizeBytes));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    prefix = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  try {
    return { header: readDicomArrivalHeader(prefix), sizeBytes };
  } catch (err) {
    if (prefix.length >= sizeBytes) throw err;
    return { header: readDicomArrivalHeader(await readFile(path)), sizeBytes };
  }
}

/** Runs `work` over `items` with at most `limit` at a time, results in input order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (t: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function readFeedableCohort(dirArg: string): Promise<FeedableCohort> {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new CohortReadError(`cohort directory ${dirArg} not found`);
  if (!statSync(dir).isDirectory()) throw new CohortReadError(`${dirArg} is not a directory`);
  const manifestPath = join(dir, 'manifest.jsonl');
  if (!existsSync(manifestPath)) {
    throw new CohortReadError(
      `${manifestPath} not found: is ${dirArg} a cohort written by harvester synth (docs/data-contracts.md)?`,
    );
  }
  const manifest = readJsonLines<ManifestLine>(manifestPath, await readFile(manifestPath, 'utf8'), [
    'sopInstanceUid',
    'seriesInstanceUid',
    'studyInstanceUid',
    'accession',
    'file',
    'rows',
    'columns',
    'modality',
    'photometricInterpretation',
    'transferSyntaxUid',
  ]);

  const missing: string[] = [];
  const images = await mapLimited(manifest, 16, async (m, i): Promise<CohortImage | null> => {
    const path = resolve(dir, m.file);
    let read: { header: DicomArrivalHeader; sizeBytes: number };
    try {
      read = await readHeader(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        missing.push(m.file);
        return null;
      }
      throw new CohortReadError(`${m.file} (manifest line ${i + 1}): ${(err as Error).message}`);
    }
    if (read.header.sopInstanceUid !== null && read.header.sopInstanceUid !== m.sopInstanceUid) {
      throw new CohortReadError(
        `${m.file} (manifest line ${i + 1}) holds SOP Instance UID ${read.header.sopInstanceUid}, the manifest says ${m.sopInstanceUid}`,
      );
    }
    if (read.header.studyTime === null) {
      throw new CohortReadError(`${m.file} (manifest line ${i + 1}) has no StudyDate (0008,0020)`);
    }
    return {
      manifest: m,
      header: read.header,
      path,
      uri: pathToFileURL(path).href,
      sizeBytes: read.sizeBytes,
    };
  });
  if (missing.length > 0) {
    throw new CohortReadError(
      `${missing.length} DICOM file(s) listed in manifest.jsonl are missing from ${dirArg}, e.g. ${missing.slice(0, 3).join(', ')}`,
    );
  }

  const hl7Path = join(dir, 'reports.hl7');
  const linesPath = join(dir, 'reports.jsonl');
  for (const p of [hl7Path, linesPath]) {
    if (!existsSync(p))
      throw new CohortReadError(`${p} not found (a cohort has reports.hl7 and reports.jsonl)`);
  }
  const split = splitHl7(await readFile(hl7Path));
  const bad = split.garbage[0];
  if (bad) throw new CohortReadError(`${hl7Path}: line ${bad.line} (offset ${bad.offset}): ${bad.problem}`);
  const raws = split.messages.map((m) => m.bytes);
  const lines = readJsonLines<ReportLine>(linesPath, await readFile(linesPath, 'utf8'), [
    'accession',
    'status',
    'time',
    'messageControlId',
  ]);
  if (raws.length !== lines.length) {
    throw new CohortReadError(
      `reports.hl7 holds ${raws.length} message(s) but reports.jsonl ${lines.length} line(s); they must match one to one`,
    );
  }
  const reports = raws.map((raw, i): CohortReport => {
    const line = lines[i]!;
    let key: string;
    let controlId: string;
    try {
      const msh = readMshHeader(raw);
      key = hl7MessageKey(msh);
      controlId = msh.messageControlId;
    } catch (err) {
      throw new CohortReadError(`reports.hl7 message ${i + 1}: ${(err as Error).message}`);
    }
    if (controlId !== line.messageControlId) {
      throw new CohortReadError(
        `reports.hl7 message ${i + 1} has MSH-10 ${controlId}, reports.jsonl line ${i + 1} says ${line.messageControlId}`,
      );
    }
    if (!Number.isFinite(Date.parse(line.time))) {
      throw new CohortReadError(`reports.jsonl line ${i + 1}: time "${line.time}" is not an ISO 8601 date`);
    }
    return { line, raw, key };
  });
  return { dir, images: images as CohortImage[], reports };
}
