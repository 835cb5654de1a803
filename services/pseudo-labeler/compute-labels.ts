/**
 * The pseudo-labeler's compute step, independent of where its inputs came from: plan which
 * (image, class) pairs need the teacher, read and preprocess those images, run the teacher in
 * micro-batches, and turn its maps into stored targets. The Kafka processor (batch-processor.ts)
 * and the archive backfill (services/backfill) both run exactly this code.
 */
import { makeTarget, type TargetMethod } from '../shared/aals/index.ts';
import { DicomImageError, dicomToModelInput } from '../shared/imaging/index.ts';
import { StorageError, type ImageStorage } from './image-storage.ts';
import {
  DETECTOR_CLASSES,
  decideImage,
  type DetectorClass,
  type JoinPolicy,
  type LabelStatus,
} from './join-decision.ts';
import type { MicroBatcher } from './micro-batcher.ts';
import type { ComputedLabel, JoinRow, Withdrawal } from './store.ts';
import { mapMax, quantiseTarget, targetStats } from './target-encoding.ts';
import type { Teacher, TeacherMaps } from './teacher.ts';

export interface ComputeJob {
  row: JoinRow;
  classes: Array<{ cls: DetectorClass; recordStatus: LabelStatus; target: 'positive' | 'negative' }>;
}

export type JobResult =
  | { ok: true; job: ComputeJob; maps: TeacherMaps }
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
}

/** Reads, preprocesses and runs the teacher on every job; unreadable images become failures. */
export async function inferJobs(jobs: ComputeJob[], deps: InferenceDeps): Promise<JobResult[]> {
  const { storage, teacher, batcher } = deps;
  const pending: Array<Promise<JobResult>> = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await batcher.waitForRoom(deps.maxQueue);
      let pixels: Float32Array;
      try {
        const bytes = await storage.read(job.row.uri);
        const input = await dicomToModelInput(bytes, {
          size: { width: teacher.inputWidth, height: teacher.inputHeight },
        });
        pixels = input.pixels;
      } catch (err) {
        if (err instanceof DicomImageError || err instanceof StorageError) {
          pending.push(
            Promise.resolve({ ok: false, job, reason: err.code, detail: err.message.slice(0, 300) }),
          );
          continue;
        }
        throw err;
      }
      const result = batcher.submit(pixels).then((maps): JobResult => ({ ok: true, job, maps }));
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
