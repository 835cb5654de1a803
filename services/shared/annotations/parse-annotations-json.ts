import { AnnotationFileError } from './annotation-file-error.ts';
import {
  isRejection,
  readAnnotator,
  readClass,
  readCornerBox,
  readSplit,
  showValue,
} from './entry-fields.ts';
import { rejection, type ExpertBoxEntry, type FractureFreeEntry, type Rejection } from './expert-box.ts';

export interface ParsedAnnotations {
  entries: ExpertBoxEntry[];
  /** Images reviewed and found fracture-free (D_R negatives). */
  fractureFree: FractureFreeEntry[];
  rejects: Rejection[];
  /** Box rows (JSON) or annotations (COCO) in the file. */
  total: number;
}

/**
 * annotations.json as `harvester synth` writes it (docs/data-contracts.md): an array of
 * {"sopInstanceUid","class","box":[x0,y0,x1,y1],"split"}, optionally "annotator"; a row
 * {"sopInstanceUid","split","fractureFree":true} records an image reviewed with no fracture.
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
  const fractureFree: FractureFreeEntry[] = [];
  const rejects: Rejection[] = [];
  let boxRows = 0;
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
    if (r.fractureFree === true) {
      if (r.class !== undefined || r.box !== undefined) {
        rejects.push(
          rejection(at, 'fracture-free-conflict', 'a "fractureFree": true row has no "class" or "box"'),
        );
        return;
      }
      const split = readSplit(r.split, at);
      if (isRejection(split)) return void rejects.push(split);
      const annotator = readAnnotator(r.annotator);
      fractureFree.push({
        ...at,
        sopInstanceUid: sop.trim(),
        ...(split ? { split } : {}),
        ...(annotator ? { annotator } : {}),
      });
      return;
    }
    boxRows++;
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
  const notObjects = data.length - boxRows - fractureFree.length;
  return { entries, fractureFree, rejects, total: boxRows + notObjects };
}
