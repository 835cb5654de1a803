import type pg from 'pg';
import { preprocessingVersion } from '../shared/training-store/model-input-bytes.ts';
import { findStoredInputs } from '../shared/training-store/training-store-index.ts';
import type { TrainingStore, WrittenShard } from '../shared/training-store/training-store.ts';
import { newInputs, type ComputeJob, type InferenceDeps, type JobResult } from './compute-labels.ts';
import type { Teacher } from '../shared/onnx/teacher.ts';

/**
 * The pseudo-labeler's side of the training store: which inputs of a chunk are stored already (at
 * the teacher's input size), and one shard with those the chunk decoded. The Kafka processor, the
 * backfill and relabel share these, so every labelled image's input lands in the store once.
 */

type Size = Pick<Teacher, 'inputWidth' | 'inputHeight'>;

export function teacherPreprocessingVersion(teacher: Size): string {
  return preprocessingVersion(teacher.inputWidth, teacher.inputHeight);
}

/** The stored inputs of the jobs' images, for inferJobs to read instead of decoding. */
export async function storedInputsFor(
  db: pg.Pool | pg.ClientBase,
  store: TrainingStore,
  jobs: readonly ComputeJob[],
  teacher: Size,
): Promise<NonNullable<InferenceDeps['stored']>> {
  const inputs = await findStoredInputs(
    db,
    jobs.map((j) => j.row.sopInstanceUid),
    teacherPreprocessingVersion(teacher),
  );
  return { store, inputs };
}

/** Writes the inputs decoded for these results as one shard (null when all came from the store). */
export async function writeNewInputs(
  store: TrainingStore,
  results: readonly JobResult[],
  teacher: Size,
): Promise<WrittenShard | null> {
  const inputs = newInputs(results);
  if (inputs.length === 0) return null;
  return store.writeShard(inputs, {
    name: teacherPreprocessingVersion(teacher),
    height: teacher.inputHeight,
    width: teacher.inputWidth,
  });
}
