import { DETECTOR_CLASSES, type DetectorClass } from '../vocabulary.ts';
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { auroc, DEFAULT_SUPPRESSION_RADIUS, froc, FROC_RATES, type Box } from '../metrics/index.ts';
import type pg from 'pg';
import { scaleClassBoxes, type IndexEntry } from '../imaging/prepared.ts';
import { dequantiseInput, preprocessingVersion } from '../training-store/model-input-bytes.ts';
import { findStoredInputs } from '../training-store/training-store-index.ts';
import type { TrainingStore } from '../training-store/training-store.ts';
import type { Teacher, TeacherMaps } from '../onnx/teacher.ts';
import { ExpectedError } from '../errors.ts';

/**
 * Scores an ONNX detector on the held-out region-labelled images of a prepared cohort with the
 * TypeScript metrics (services/shared/metrics, the same definitions as the distiller's
 * evaluate.py): per class AUROC of the image score (max of the map) and FROC score against the
 * expert boxes scaled to map cells. The gate runs the candidate and the active teacher through
 * this same function, on the same images, with the same runtime that will serve them.
 */

/** A held-out image: its id and expert boxes in model-input pixels (none: fracture-free). */
export type HeldOutEntry = Pick<IndexEntry, 'sopInstanceUid' | 'boxes'>;

export interface HeldOutSet {
  /** Where it came from: a prepared folder, or `database`. */
  dir: string;
  split: string;
  size: number;
  entries: HeldOutEntry[];
  /** Identifies the set: directory, split, image count and a hash of the index lines used. */
  id: string;
  images: Float32Array[];
}

export class EvaluationError extends ExpectedError {}

export async function loadHeldOutSet(dir: string, split = 'region-test'): Promise<HeldOutSet> {
  let meta: { size: number; count: number; file?: string };
  try {
    meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as typeof meta;
  } catch (err) {
    throw new EvaluationError(
      `cannot read ${path.join(dir, 'meta.json')} (a harvester prepare output): ${(err as Error).message}`,
    );
  }
  const lines = (await readFile(path.join(dir, 'index.jsonl'), 'utf8')).split('\n').filter(Boolean);
  const entries = lines.map((l) => JSON.parse(l) as IndexEntry).filter((e) => e.split === split);
  if (entries.length === 0) throw new EvaluationError(`${dir} has no ${split} images to evaluate on`);
  const plane = meta.size * meta.size;
  const file = await open(path.join(dir, meta.file ?? 'images.u8'), 'r');
  const images: Float32Array[] = [];
  try {
    const buf = Buffer.alloc(plane);
    for (const e of entries) {
      const { bytesRead } = await file.read(buf, 0, plane, e.i * plane);
      if (bytesRead !== plane) throw new EvaluationError(`${dir}: image ${e.i} is truncated`);
      const img = new Float32Array(plane);
      for (let k = 0; k < plane; k++) img[k] = buf[k]! / 255;
      images.push(img);
    }
  } finally {
    await file.close();
  }
  const hash = setHash(entries);
  return {
    dir,
    split,
    size: meta.size,
    entries,
    images,
    id: `${path.resolve(dir)}#${split}:${entries.length}:${hash}`,
  };
}

const setHash = (entries: readonly HeldOutEntry[]) =>
  createHash('sha256')
    .update(entries.map((e) => e.sopInstanceUid).join('\n'))
    .digest('hex')
    .slice(0, 12);

/**
 * The held-out set from what the system holds: the expert-reviewed images of `split` (boxes from
 * region_annotations, none = fracture-free) whose model input at `size` is in the training store,
 * read and checked from there. The set is identified by the preprocessing version, the count and a
 * hash of the image list, so two decisions on the same set say so.
 */
export async function loadHeldOutSetFromDatabase(
  db: pg.Pool,
  store: TrainingStore,
  size: number,
  split = 'region-test',
): Promise<HeldOutSet> {
  const version = preprocessingVersion(size, size);
  const { rows } = await db.query<{
    sop_instance_uid: string;
    boxes: Array<[string, number, number, number, number]>;
  }>(
    `SELECT r.sop_instance_uid,
       coalesce((SELECT json_agg(json_build_array(a.class, a.x0, a.y0, a.x1, a.y1) ORDER BY a.id)
                 FROM region_annotations a WHERE a.sop_instance_uid = r.sop_instance_uid), '[]'::json) AS boxes
     FROM region_annotated_images r WHERE r.split = $1 ORDER BY r.sop_instance_uid`,
    [split],
  );
  const inputs = await findStoredInputs(
    db,
    rows.map((r) => r.sop_instance_uid),
    version,
  );
  const usable = rows.filter((r) => inputs.has(r.sop_instance_uid));
  if (usable.length === 0) {
    throw new EvaluationError(
      `no ${split} image has a model input at ${version} in the training store (${rows.length} reviewed): ` +
        `import expert annotations of the ${split} split (harvester annotations import)`,
    );
  }
  const entries: HeldOutEntry[] = [];
  const images: Float32Array[] = [];
  for (const r of usable) {
    const ref = inputs.get(r.sop_instance_uid)!;
    images.push(dequantiseInput(await store.read(ref)));
    entries.push({
      sopInstanceUid: r.sop_instance_uid,
      boxes: scaleClassBoxes(
        r.boxes.map(([cls, x0, y0, x1, y1]) => ({ class: cls, box: [x0, y0, x1, y1] })),
        { rows: ref.sourceRows, columns: ref.sourceColumns },
        { width: size, height: size },
      ),
    });
  }
  return {
    dir: 'database',
    split,
    size,
    entries,
    images,
    id: `database#${split}:${entries.length}:${setHash(entries)}@${version}`,
  };
}

export interface ClassMetrics {
  auroc: number | null;
  froc: number | null;
  frocSensitivities: Array<number | null>;
  positives: number;
  boxes: number;
}

export type HeldOutMetrics = {
  images: number;
  frocRates: number[];
  suppressionRadius: number;
  stride: number;
  split: string;
} & Record<DetectorClass, ClassMetrics>;

const finite = (v: number) => (Number.isFinite(v) ? v : null);

export async function evaluateTeacher(
  teacher: Teacher,
  set: HeldOutSet,
  batchSize = 16,
): Promise<HeldOutMetrics> {
  if (teacher.inputWidth !== set.size || teacher.inputHeight !== set.size) {
    throw new EvaluationError(
      `model input ${teacher.inputHeight} x ${teacher.inputWidth} differs from the held-out set's ${set.size} px: prepare it at the model's size`,
    );
  }
  const maps: TeacherMaps[] = [];
  for (let i = 0; i < set.images.length; i += batchSize)
    maps.push(...(await teacher.run(set.images.slice(i, i + batchSize))));
  const stride = set.size / maps[0]!.width;
  const result = {
    images: set.entries.length,
    frocRates: [...FROC_RATES],
    suppressionRadius: DEFAULT_SUPPRESSION_RADIUS,
    stride,
    split: set.split,
  } as HeldOutMetrics;
  DETECTOR_CLASSES.forEach((cls, c) => {
    const labels = set.entries.map((e) => e.boxes.some((b) => b.class === cls));
    const scores = maps.map((m) => m.maps[c]!.reduce((a: number, v: number) => (v > a ? v : a), -Infinity));
    const images = maps.map((m, n) => ({
      map: { height: m.height, width: m.width, values: m.maps[c]! },
      boxes: set.entries[n]!.boxes.filter((b) => b.class === cls).map(
        (b) => b.box.map((v) => v / stride) as unknown as Box,
      ),
    }));
    const fr = froc(images);
    result[cls] = {
      auroc: finite(auroc(scores, labels)),
      froc: finite(fr.score),
      frocSensitivities: fr.sensitivities.map(finite),
      positives: labels.filter(Boolean).length,
      boxes: fr.totalBoxes,
    };
  });
  return result;
}
