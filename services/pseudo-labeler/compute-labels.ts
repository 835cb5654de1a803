/**
 * The pseudo-labeler's compute step, independent of where its inputs came from: plan which
 * (image, class) pairs need the teacher, read and preprocess those images, run the teacher in
 * micro-batches, and turn its maps into stored targets. The Kafka processor (batch-processor.ts)
 * and the archive backfill (services/app/backfill) both run exactly this code.
 */
import { DETECTOR_CLASSES, type DetectorClass, type LabelStatus } from '../shared/vocabulary.ts';
import { makeTarget, type TargetMethod } from '../shared/aals/index.ts';
import { DicomImageError, dicomToModelInput } from '../shared/imaging/index.ts';
import { dequantiseInput, quantiseInput } from '../shared/training-store/model-input-bytes.ts';
import {
  TrainingStoreError,
  type InputToStore,
  type StoredInputRef,
  type TrainingStore,
} from '../shared/training-store/training-store.ts';
import { StorageError, type ImageStorage } from '../shared/storage/image-storage.ts';
import { decideImage, type JoinPolicy } from './join-decision.ts';
import type { MicroBatcher } from './micro-batcher.ts';
import type { ComputedLabel, JoinRow, Withdrawal } from './store.ts';
import { mapMax, quantiseTarget, targetStats } from '../shared/aals/target-encoding.ts';
import type { Teacher, TeacherMaps } from '../shared/onnx/teacher.ts';

export interface ComputeJob {
  row: JoinRow;
  classes: Array<{ cls: DetectorClass; recordStatus: LabelStatus; target: 'positive' | 'negative' }>;
}

export type JobResult =
  /** `newInput`: the model input decoded for this job, to add to the training store. */
  | { ok: true; job: ComputeJob; maps: TeacherMaps; newInput?: InputToStore }
  | { ok: false; job: ComputeJob; reason: string; detail: string };

/** The join decision for every row: images to run the teacher on, stored labels to withdraw. */
export function planComputeJobs(
  rows: JoinRow[],
  policy: JoinPolicy,
): { jobs: ComputeJob[]; withdrawals: Withdrawal[] } {
  const jobs: ComputeJob[] = [];
  const withdrawals: Withdrawal[] = [];
  for (const row of rows) {
    const actions = decideImage(row.study, row.existing, policy);
    const job: ComputeJob = { row, classes: [] };
    for (const cls of DETECTOR_CLASSES) {
      const action = actions[cls];
      if (action.kind === 'compute') {
        job.classes.push({ cls, recordStatus: action.recordStatus, target: action.target });
      } else if (action.kind === 'withdraw') {
        withdrawals.push({ sopInstanceUid: row.sopInstanceUid, cls, report: row.study! });
      }
    }
    if (job.classes.length > 0) jobs.push(job);
  }
  return { jobs, withdrawals };
}

export interface InferenceDeps {
  storage: ImageStorage;
  teacher: Pick<Teacher, 'inputWidth' | 'inputHeight'>;
  batcher: MicroBatcher<Float32Array, TeacherMaps>;
  /** Images decoded or waiting for inference at most (memory bound). */
  maxQueue: number;
  decodeConcurrency: number;
  /**
   * Inputs already in the training store at the teacher's size: read from there instead of
   * decoding the DICOM again (a corrected report, a relabel with a new teacher).
   */
  stored?: { store: TrainingStore; inputs: ReadonlyMap<string, StoredInputRef> };
}

/**
 * The model input of one job as bytes (the stored form) and, when it was decoded here rather than
 * read from the training store, the input to store.
 */
async function modelInputBytes(
  job: ComputeJob,
  deps: InferenceDeps,
): Promise<{ bytes: Uint8Array; newInput?: InputToStore }> {
  const { teacher } = deps;
  const ref = deps.stored?.inputs.get(job.row.sopInstanceUid);
  if (ref && ref.width === teacher.inputWidth && ref.height === teacher.inputHeight) {
    try {
      return { bytes: await deps.stored!.store.read(ref) };
    } catch (err) {
      // a missing or damaged shard is not the image's fault: decode the DICOM as if never stored
      if (!(err instanceof TrainingStoreError)) throw err;
    }
  }
  const input = await dicomToModelInput(await deps.storage.read(job.row.uri), {
    size: { width: teacher.inputWidth, height: teacher.inputHeight },
  });
  const bytes = quantiseInput(input.pixels);
  return {
    bytes,
    newInput: {
      sopInstanceUid: job.row.sopInstanceUid,
      pixels: bytes,
      sourceRows: input.meta.rows,
      sourceColumns: input.meta.columns,
    },
  };
}

/**
 * Reads (from the training store, or the DICOM file decoded and preprocessed), quantises and runs
 * the teacher on every job: the teacher sees exactly the bytes that are stored for training.
 * Unreadable images become failures.
 */
export async function inferJobs(jobs: ComputeJob[], deps: InferenceDeps): Promise<JobResult[]> {
  const { batcher } = deps;
  const pending: Array<Promise<JobResult>> = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await batcher.waitForRoom(deps.maxQueue);
      let input: { bytes: Uint8Array; newInput?: InputToStore };
      try {
        input = await modelInputBytes(job, deps);
      } catch (err) {
        if (err instanceof DicomImageError || err instanceof StorageError) {
          pending.push(
            Promise.resolve({ ok: false, job, reason: err.code, detail: err.message.slice(0, 300) }),
          );
          continue;
        }
        throw err;
      }
      const result = batcher
        .submit(dequantiseInput(input.bytes))
        .then((maps): JobResult => ({ ok: true, job, maps, newInput: input.newInput }));
      result.catch(() => {}); // observed below; keeps an early worker failure from leaving it unhandled
      pending.push(result);
    }
  };
  const workers = Array.from({ length: Math.min(deps.decodeConcurrency, jobs.length) }, worker);
  const workerResults = await Promise.allSettled(workers);
  const settled = await Promise.allSettled(pending);
  for (const r of [...workerResults, ...settled]) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<JobResult>).value);
}

export interface TargetSettings {
  targetMethod: TargetMethod;
  aals: { t: number; a0: number; eps: number };
}

/** One job's teacher maps as pseudo-labels: sharpened (record-positive) or zero (record-negative). */
export function computedLabels(
  job: ComputeJob,
  maps: TeacherMaps,
  settings: TargetSettings,
): ComputedLabel[] {
  const study = job.row.study!;
  return job.classes.map(({ cls, recordStatus, target }) => {
    const map = maps.maps[DETECTOR_CLASSES.indexOf(cls)]!;
    const targetMap =
      target === 'negative'
        ? new Float32Array(map.length)
        : makeTarget(settings.targetMethod, map, 'positive', settings.aals)!;
    const stats = targetStats(targetMap);
    return {
      sopInstanceUid: job.row.sopInstanceUid,
      cls,
      accession: job.row.accession,
      recordStatus,
      targetMethod: target === 'negative' ? 'zero' : settings.targetMethod,
      aals: settings.aals,
      target: quantiseTarget(targetMap),
      height: maps.height,
      width: maps.width,
      teacherScore: mapMax(map),
      targetMax: stats.max,
      targetMean: stats.mean,
      positiveFraction: stats.positiveFraction,
      report: study,
    };
  });
}

/** The inputs decoded for these results, in job order (what the training store lacks). */
export function newInputs(results: readonly JobResult[]): InputToStore[] {
  return results.flatMap((r) => (r.ok && r.newInput ? [r.newInput] : []));
}
