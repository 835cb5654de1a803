import { AnnotationFileError } from './annotation-file-error.ts';
import {
  isRejection,
  readAnnotator,
  readClass,
  readCornerBox,
  readSplit,
  showValue,
} from './entry-fields.ts';
import { rejection, type ExpertBoxEntry, type Rejection } from './expert-box.ts';

export interface ParsedAnnotations {
  entries: ExpertBoxEntry[];
  rejects: Rejection[];
  /** Rows (JSON) or annotations (COCO) in the file. */
  total: number;
}

/**
 * annotations.json as `harvester synth` writes it (docs/data-contracts.md): an array of
 * {"sopInstanceUid","class","box":[x0,y0,x1,y1],"split"}, optionally "annotator".
 * Rows are numbered from 1 in messages ("row 3"); a bad row is rejected, the others are kept.
 */
export function parseAnnotationsJson(text: string): ParsedAnnotations {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new AnnotationFileError(`not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data))
    throw new AnnotationFileError(
      'annotations JSON must be an array of {"sopInstanceUid","class","box","split"} (is it COCO? use --format coco)',
    );
  const entries: ExpertBoxEntry[] = [];
  const rejects: Rejection[] = [];
  data.forEach((row: unknown, index) => {
    const at = { index, where: `row ${index + 1}` };
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      rejects.push(rejection(at, 'not-an-object', `expected an object, got ${showValue(row)}`));
      return;
    }
    const r = row as Record<string, unknown>;
    const sop = r.sopInstanceUid ?? r.sop_instance_uid;
    if (typeof sop !== 'string' || sop.trim() === '') {
      rejects.push(rejection(at, 'missing-image', 'no "sopInstanceUid" string'));
      return;
    }
    const cls = readClass(r.class, at);
    if (isRejection(cls)) return void rejects.push(cls);
    const box = readCornerBox(r.box, at);
    if (isRejection(box)) return void rejects.push(box);
    const split = readSplit(r.split, at);
    if (isRejection(split)) return void rejects.push(split);
    const annotator = readAnnotator(r.annotator);
    entries.push({
      ...at,
      sopInstanceUid: sop.trim(),
      class: cls,
      box,
      ...(split ? { split } : {}),
      ...(annotator ? { annotator } : {}),
    });
  });
  return { entries, rejects, total: data.length };
}
