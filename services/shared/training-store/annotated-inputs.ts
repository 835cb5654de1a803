import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { DicomImageError, dicomToModelInput } from '../imaging/index.ts';
import { createImageStorage, StorageError } from '../storage/image-storage.ts';
import { preprocessingVersion, quantiseInput } from './model-input-bytes.ts';
import { indexShard } from './training-store-index.ts';
import type { InputToStore, TrainingStore } from './training-store.ts';

export interface AnnotatedInputsOptions {
  /** The model input size (the teacher's; boxes are scaled to it when training). */
  width: number;
  height: number;
  /** Absolute paths of DICOM files by SOP Instance UID (a cohort folder), tried before the images table. */
  files?: ReadonlyMap<string, string>;
  maxDicomBytes?: number;
  /** Inputs per shard. */
  shardImages?: number;
}

export interface AnnotatedInputsOutcome {
  preprocessingVersion: string;
  stored: number;
  alreadyStored: number;
  /** Reviewed images with no readable DICOM yet (not arrived, or unreadable): stored once they are. */
  unavailable: number;
  problems: Array<{ sopInstanceUid: string; reason: string }>;
}

/**
 * Puts the model input of every expert-reviewed image (region_annotated_images, with or without
 * boxes) into the training store, at one input size: from the cohort folder's file when given,
 * else from the images table's uri. Images whose input is stored already are skipped, so running
 * it again (after more images arrived) only adds what is missing.
 */
export async function storeAnnotatedInputs(
  pool: pg.Pool,
  store: TrainingStore,
  options: AnnotatedInputsOptions,
): Promise<AnnotatedInputsOutcome> {
  const version = preprocessingVersion(options.width, options.height);
  const { rows } = await pool.query<{ sop_instance_uid: string; uri: string | null; stored: boolean }>(
    `SELECT r.sop_instance_uid, i.uri,
       EXISTS (SELECT 1 FROM training_inputs t
               WHERE t.sop_instance_uid = r.sop_instance_uid AND t.preprocessing_version = $1) AS stored
     FROM region_annotated_images r LEFT JOIN images i ON i.sop_instance_uid = r.sop_instance_uid
     ORDER BY r.sop_instance_uid`,
    [version],
  );
  const outcome: AnnotatedInputsOutcome = {
    preprocessingVersion: version,
    stored: 0,
    alreadyStored: rows.filter((r) => r.stored).length,
    unavailable: 0,
    problems: [],
  };
  const storage = createImageStorage({ maxBytes: options.maxDicomBytes ?? 268_435_456 });
  const perShard = options.shardImages ?? 256;
  let pending: InputToStore[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const shard = await store.writeShard(pending, {
      name: version,
      width: options.width,
      height: options.height,
    });
    outcome.stored += await withTransaction(pool, (client) =>
      indexShard(client, shard, 'annotations-import'),
    );
    pending = [];
  };
  for (const row of rows.filter((r) => !r.stored)) {
    const file = options.files?.get(row.sop_instance_uid);
    const uri = file ? pathToFileURL(file).href : row.uri;
    if (!uri) {
      outcome.unavailable++;
      outcome.problems.push({
        sopInstanceUid: row.sop_instance_uid,
        reason: 'not arrived yet (no DICOM file known)',
      });
      continue;
    }
    try {
      const input = await dicomToModelInput(await storage.read(uri), {
        size: { width: options.width, height: options.height },
      });
      pending.push({
        sopInstanceUid: row.sop_instance_uid,
        pixels: quantiseInput(input.pixels),
        sourceRows: input.meta.rows,
        sourceColumns: input.meta.columns,
      });
    } catch (err) {
      if (!(err instanceof DicomImageError || err instanceof StorageError)) throw err;
      outcome.unavailable++;
      outcome.problems.push({ sopInstanceUid: row.sop_instance_uid, reason: `${err.code}: ${err.message}` });
      continue;
    }
    if (pending.length >= perShard) await flush();
  }
  await flush();
  return outcome;
}
