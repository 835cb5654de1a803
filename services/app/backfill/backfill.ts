import { readFile, stat } from 'node:fs/promises';
import { Presets, SingleBar } from 'cli-progress';
import type pg from 'pg';
import type { TargetSettings } from '../../pseudo-labeler/compute-labels.ts';
import { createImageStorage } from '../../shared/storage/image-storage.ts';
import type { JoinPolicy } from '../../pseudo-labeler/join-decision.ts';
import { MicroBatcher } from '../../pseudo-labeler/micro-batcher.ts';
import type { Teacher, TeacherMaps } from '../../shared/onnx/teacher.ts';
import type { TrainingStore } from '../../shared/training-store/training-store.ts';
import type { ExtractionDeps } from '../../report-labeler/extract.ts';
import { splitHl7 } from '../../shared/hl7/split.ts';
import { isDicomFileName, isHl7FileName, listArchiveFiles } from './archive-files.ts';
import { addCounts, type Counts } from './counts.ts';
import { databaseTotals, type DatabaseTotals } from './database-totals.ts';
import { backfillImageBatch } from './image-batch.ts';
import {
  backfillPseudoLabelBatch,
  pendingAccessions,
  type PseudoLabelBatchOutcome,
} from './pseudo-label-batch.ts';
import { backfillReportBatch, type ArchiveMessage, type ReportBatchOutcome } from './report-batch.ts';

export type BackfillPhase = 'reports' | 'images' | 'pseudo-labels';

export interface BackfillOptions {
  /** An HL7 file, or a folder searched recursively for *.hl7. */
  reports: string;
  /** A folder searched recursively for DICOM files (*.dcm or no extension), or one file. */
  dicom: string;
  pool: pg.Pool;
  extraction: ExtractionDeps;
  maxDicomBytes: number;
  teacher: Teacher;
  /** Where the model input of every labelled image is kept (as the pseudo-labeler does). */
  trainingStore: TrainingStore;
  policy: JoinPolicy;
  target: TargetSettings;
  inference: { batchSize: number; maxWaitMs: number; maxQueue: number; decodeConcurrency: number };
  reportBatchSize?: number;
  imageBatchSize?: number;
  studyBatchSize?: number;
  /** Stops at the next batch boundary (Ctrl-C); what is committed stays, a rerun resumes. */
  signal?: AbortSignal;
  progress?: boolean;
  /** One line per bad input (file and reason), as it is found. */
  onProblem?: (line: string) => void;
  /** After each committed batch (tests interrupt a run here). */
  afterBatch?: (phase: BackfillPhase) => void;
}

export interface BackfillSummary {
  modelVersion: string;
  interrupted: boolean;
  seconds: number;
  /** The report batches' outcomes summed (their problems go to onProblem, not here). */
  reports: { files: number } & Omit<ReportBatchOutcome, 'problems'>;
  images: { files: number; alreadyDone: number; recorded: number; failed: Counts; skipped: Counts };
  /** The pseudo-label batches' outcomes summed. */
  pseudoLabels: { studies: number } & Omit<PseudoLabelBatchOutcome, 'problems'>;
  totals: DatabaseTotals;
}

function progressBar(enabled: boolean, label: string, unit: string): SingleBar | null {
  if (!enabled) return null;
  return new SingleBar(
    {
      format: `${label.padEnd(13)} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
}

/**
 * The historical-archive path without Kafka: reports (HL7 files) through the report-labeler's
 * extraction and store, images (DICOM files) into the pseudo-labeler's images table, then the
 * join and the teacher for every study with both, as the pseudo-labeler does. Every step skips
 * what is already in the database by its natural key, so an interrupted run is resumed by running
 * it again, and a repeated run changes nothing.
 */
export async function runBackfill(options: BackfillOptions): Promise<BackfillSummary> {
  const started = performance.now();
  const { pool, signal } = options;
  const progress = options.progress ?? false;
  const problem = options.onProblem ?? (() => {});
  const stopped = () => signal?.aborted === true;
  const summary: BackfillSummary = {
    modelVersion: options.teacher.version,
    interrupted: false,
    seconds: 0,
    reports: { files: 0, messages: 0, alreadyDone: 0, stored: 0, versions: 0, skipped: {}, failed: {} },
    images: { files: 0, alreadyDone: 0, recorded: 0, failed: {}, skipped: {} },
    pseudoLabels: {
      studies: 0,
      images: 0,
      inferred: 0,
      written: {},
      superseded: 0,
      withdrawn: 0,
      stale: 0,
      failed: {},
    },
    totals: undefined as unknown as DatabaseTotals,
  };

  // ---- reports
  const hl7Files = await listArchiveFiles(options.reports, isHl7FileName, 'reports');
  const dicomFiles = await listArchiveFiles(options.dicom, isDicomFileName, 'DICOM folder');
  summary.reports.files = hl7Files.length;
  summary.images.files = dicomFiles.length;
  const sizes = await Promise.all(hl7Files.map(async (f) => (await stat(f)).size));
  const reportBar = progressBar(progress, 'reports', 'bytes');
  reportBar?.start(
    sizes.reduce((a, b) => a + b, 0),
    0,
  );
  const reportBatchSize = options.reportBatchSize ?? 500;
  let pending: ArchiveMessage[] = [];
  let pendingBytes = 0;
  const flushReports = async () => {
    if (pending.length === 0) return;
    const out = await backfillReportBatch(pool, pending, options.extraction);
    const r = summary.reports;
    r.messages += out.messages;
    r.alreadyDone += out.alreadyDone;
    r.stored += out.stored;
    r.versions += out.versions;
    addCounts(r.skipped, out.skipped);
    addCounts(r.failed, out.failed);
    for (const p of out.problems) problem(`${p.file}: message ${p.index + 1}: ${p.reason}`);
    reportBar?.increment(pendingBytes);
    pending = [];
    pendingBytes = 0;
    options.afterBatch?.('reports');
  };
  for (let f = 0; f < hl7Files.length && !stopped(); f++) {
    const file = hl7Files[f]!;
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (err) {
      problem(`${file}: unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      summary.reports.failed['unreadable-file'] = (summary.reports.failed['unreadable-file'] ?? 0) + 1;
      continue;
    }
    const mtime = (await stat(file)).mtimeMs;
    const split = splitHl7(data);
    const messages = split.messages.map((m) => m.bytes);
    // A line that is not an HL7 segment is a bad input of its own; the messages around it go on.
    for (const g of split.garbage) problem(`${file}: line ${g.line} (offset ${g.offset}): ${g.problem}`);
    if (split.garbage.length > 0) {
      summary.reports.failed['not-a-segment'] =
        (summary.reports.failed['not-a-segment'] ?? 0) + split.garbage.length;
    }
    // bytes the splitter dropped between messages (blank lines, framing, garbage) still count as read
    pendingBytes += data.length - messages.reduce((a, m) => a + m.length, 0);
    for (let i = 0; i < messages.length; i++) {
      pending.push({ file, index: i, bytes: messages[i]!, fallbackTimeMs: mtime });
      pendingBytes += messages[i]!.length;
      if (pending.length >= reportBatchSize) {
        await flushReports();
        if (stopped()) break;
      }
    }
  }
  if (!stopped()) await flushReports();
  reportBar?.stop();

  // ---- images
  const imageBar = progressBar(progress && !stopped(), 'images', 'files');
  imageBar?.start(dicomFiles.length, 0);
  const imageBatchSize = options.imageBatchSize ?? 64;
  for (let i = 0; i < dicomFiles.length && !stopped(); i += imageBatchSize) {
    const batch = dicomFiles.slice(i, i + imageBatchSize);
    const out = await backfillImageBatch(pool, batch, options.maxDicomBytes);
    const s = summary.images;
    s.alreadyDone += out.alreadyDone;
    s.recorded += out.recorded;
    addCounts(s.failed, out.failed);
    addCounts(s.skipped, out.skipped);
    for (const p of out.problems) problem(`${p.file}: ${p.reason}: ${p.detail}`);
    imageBar?.increment(batch.length);
    options.afterBatch?.('images');
  }
  imageBar?.stop();

  // ---- pseudo-labels
  const { teacher } = options;
  if (!stopped()) {
    const accessions = await pendingAccessions(pool, teacher.version);
    const batcher = new MicroBatcher<Float32Array, TeacherMaps>((images) => teacher.run(images), {
      maxBatchSize: options.inference.batchSize,
      maxWaitMs: options.inference.maxWaitMs,
    });
    const inference = {
      storage: createImageStorage({ maxBytes: options.maxDicomBytes }),
      teacher,
      batcher,
      maxQueue: options.inference.maxQueue,
      decodeConcurrency: options.inference.decodeConcurrency,
    };
    const labelBar = progressBar(progress, 'pseudo-labels', 'studies');
    labelBar?.start(accessions.length, 0);
    const studyBatchSize = options.studyBatchSize ?? 32;
    for (let i = 0; i < accessions.length && !stopped(); i += studyBatchSize) {
      const batch = accessions.slice(i, i + studyBatchSize);
      const out = await backfillPseudoLabelBatch(pool, batch, {
        modelVersion: teacher.version,
        policy: options.policy,
        target: options.target,
        inference,
        trainingStore: options.trainingStore,
      });
      const s = summary.pseudoLabels;
      s.studies += batch.length;
      s.images += out.images;
      s.inferred += out.inferred;
      addCounts(s.written, out.written);
      s.superseded += out.superseded;
      s.withdrawn += out.withdrawn;
      s.stale += out.stale;
      addCounts(s.failed, out.failed);
      for (const p of out.problems) problem(`image ${p.sopInstanceUid}: ${p.reason}: ${p.detail}`);
      labelBar?.increment(batch.length);
      options.afterBatch?.('pseudo-labels');
    }
    labelBar?.stop();
  }

  summary.interrupted = stopped();
  summary.totals = await databaseTotals(pool, teacher.version);
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
