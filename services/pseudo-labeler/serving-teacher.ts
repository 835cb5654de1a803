import { DETECTOR_CLASSES } from '../shared/vocabulary.ts';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import type { Logger } from '../shared/observability/logger.ts';
import type { Teacher } from '../shared/onnx/teacher.ts';

export interface ServingTeacherRegistration {
  version: string;
  /** The active model in model_versions after registration (this one, or the one found active). */
  active: string;
  /** This teacher became the active one now (there was none). */
  activated: boolean;
}

/**
 * Registers the teacher the pseudo-labeler starts with in model_versions (its ONNX file's uri and
 * checksum, input size, output stride) and makes it the active teacher when none is: the
 * scheduler's jobs then distil from it and the gate compares each student with the teacher that
 * actually labels. A model already active (a promoted student) stays active; the pseudo-labeler
 * follows it through models.released when TEACHER_HOT_SWAP is on.
 */
export async function registerServingTeacher(
  pool: pg.Pool,
  teacher: Teacher,
  modelPath: string,
  logger: Logger,
): Promise<ServingTeacherRegistration> {
  const bytes = await readFile(modelPath);
  const checksum = createHash('sha256').update(bytes).digest('hex');
  const [maps] = await teacher.run([new Float32Array(teacher.inputWidth * teacher.inputHeight)]);
  const stride = Math.round(teacher.inputWidth / maps!.width);
  await pool.query(
    `INSERT INTO model_versions (version, checksum_sha256, artefact_uri, input_size, output_stride, classes, mode, recipe)
     VALUES ($1, $2, $3, $4, $5, $6, 'teacher', $7)
     ON CONFLICT (version) DO NOTHING`,
    [
      teacher.version,
      checksum,
      pathToFileURL(path.resolve(modelPath)).href,
      teacher.inputWidth,
      stride,
      [...DETECTOR_CLASSES],
      JSON.stringify({ registeredBy: 'pseudo-labeler', modelPath: path.basename(modelPath) }),
    ],
  );
  let activated = false;
  try {
    const { rowCount } = await pool.query(
      `UPDATE model_versions SET status = 'active', status_changed_at = now()
       WHERE version = $1 AND NOT EXISTS (SELECT 1 FROM model_versions WHERE status = 'active')`,
      [teacher.version],
    );
    activated = rowCount === 1;
  } catch (err) {
    // another instance activated its teacher at the same moment (the one-active unique index)
    if ((err as { code?: string }).code !== '23505') throw err;
  }
  const { rows } = await pool.query<{ version: string }>(
    `SELECT version FROM model_versions WHERE status = 'active'`,
  );
  const active = rows[0]?.version ?? teacher.version;
  if (activated)
    logger.info({ version: teacher.version }, 'registered the serving teacher as the active model');
  else if (active !== teacher.version) {
    logger.warn(
      { serving: teacher.version, active },
      `model_versions names ${active} as the active teacher, not the configured one: ` +
        'with TEACHER_HOT_SWAP=true this service follows models.released to it',
    );
  }
  return { version: teacher.version, active, activated };
}
