import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { dequantiseTarget } from '../shared/aals/target-encoding.ts';
import type { Teacher } from '../shared/onnx/teacher.ts';
import { readDicomModelInput } from '../shared/imaging/index.ts';
import { pngDataUri } from './png-data-uri.ts';

export interface SampleImage {
  sopInstanceUid: string;
  cls: 'rib' | 'clavicle';
  recordStatus: string;
  targetMethod: string;
  teacherScore: number;
  targetMax: number;
  /** PNG data URIs: the model input, the teacher's map of the class, the stored target. */
  image: string;
  teacherMap: string;
  target: string;
}

/** The SQL that picks the samples: the most confident record-positive labels, then record-negative ones. */
export const SAMPLE_QUERY = `SELECT p.sop_instance_uid, p.class, p.record_status, p.target_method, p.teacher_score,
       p.target_max, p.target, p.target_height, p.target_width, i.uri
FROM pseudo_labels p JOIN images i ON i.sop_instance_uid = p.sop_instance_uid
WHERE p.model_version = $1 AND p.record_status = $2
ORDER BY p.teacher_score DESC, p.sop_instance_uid
LIMIT $3`;

/**
 * Sample pseudo-labels with their images: the stored (dequantised) target next to the teacher's
 * map for the same class, recomputed from the DICOM file with the same teacher.
 */
export async function sampleImages(
  db: Pick<pg.Pool, 'query'>,
  teacher: Teacher,
  modelVersion: string,
  counts: { positive: number; negative: number },
): Promise<SampleImage[]> {
  const samples: SampleImage[] = [];
  for (const [status, limit] of [
    ['positive', counts.positive],
    ['negative', counts.negative],
  ] as const) {
    const { rows } = await db.query(SAMPLE_QUERY, [modelVersion, status, limit]);
    for (const r of rows) {
      const input = await readDicomModelInput(fileURLToPath(r.uri as string), {
        size: { width: teacher.inputWidth, height: teacher.inputHeight },
      });
      const [maps] = await teacher.run([input.pixels]);
      const c = r.class === 'rib' ? 0 : 1;
      const h = r.target_height as number;
      const w = r.target_width as number;
      const scale = Math.max(1, Math.round(teacher.inputHeight / h));
      samples.push({
        sopInstanceUid: r.sop_instance_uid,
        cls: r.class,
        recordStatus: r.record_status,
        targetMethod: r.target_method,
        teacherScore: Number(r.teacher_score),
        targetMax: Number(r.target_max),
        image: pngDataUri(input.pixels, teacher.inputHeight, teacher.inputWidth, 'grey'),
        teacherMap: pngDataUri(maps!.maps[c]!, maps!.height, maps!.width, 'heat', scale),
        target: pngDataUri(dequantiseTarget(r.target as Uint8Array, h, w), h, w, 'heat', scale),
      });
    }
  }
  return samples;
}
