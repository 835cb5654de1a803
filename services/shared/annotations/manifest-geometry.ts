import { AnnotationFileError } from './annotation-file-error.ts';

/** An image as a cohort manifest lists it: geometry, and its DICOM file relative to the cohort. */
export interface ManifestImage {
  rows: number;
  columns: number;
  file?: string;
}

/**
 * Image geometry from a cohort's manifest.jsonl (docs/data-contracts.md): SOP Instance UID ->
 * rows and columns. Used for images whose boxes arrive before the images reach the database.
 * A broken manifest line fails the whole import: the manifest is the reference, not the input.
 */
export function readManifestGeometry(text: string, name = 'manifest.jsonl'): Map<string, ManifestImage> {
  const out = new Map<string, ManifestImage>();
  const lines = text.split('\n');
  lines.forEach((raw, k) => {
    const line = raw.trim();
    if (!line) return;
    let m: unknown;
    try {
      m = JSON.parse(line);
    } catch (err) {
      throw new AnnotationFileError(`${name} line ${k + 1}: not JSON (${(err as Error).message})`);
    }
    const { sopInstanceUid, rows, columns, file } = (m ?? {}) as Record<string, unknown>;
    if (
      typeof sopInstanceUid !== 'string' ||
      !Number.isInteger(rows) ||
      !Number.isInteger(columns) ||
      (rows as number) <= 0 ||
      (columns as number) <= 0
    )
      throw new AnnotationFileError(
        `${name} line ${k + 1}: needs "sopInstanceUid", "rows" and "columns" (positive integers)`,
      );
    out.set(sopInstanceUid, {
      rows: rows as number,
      columns: columns as number,
      ...(typeof file === 'string' && file !== '' ? { file } : {}),
    });
  });
  return out;
}
