import { DETECTOR_CLASSES, type DetectorClass, type LabelStatus } from '../vocabulary.ts';
import { ExpectedError } from '../errors.ts';
/**
 * The prepared model-input format (docs/data-contracts.md, "Prepared model inputs"): pure helpers
 * shared by `harvester prepare` and anything else that writes or checks it.
 */

export type Split = 'region-train' | 'region-test' | 'record';

export interface ClassBox {
  class: DetectorClass;
  box: [number, number, number, number];
}

export interface ManifestEntry {
  sopInstanceUid: string;
  accession: string;
  file: string;
  rows?: number;
  columns?: number;
  split: Split;
  fractures: { class: string; box: number[] }[];
  reportLabel: Record<DetectorClass, LabelStatus>;
}

export interface IndexEntry {
  i: number;
  sopInstanceUid: string;
  accession: string;
  split: Split;
  record: Record<DetectorClass, LabelStatus>;
  boxes: ClassBox[];
  truthBoxes: ClassBox[];
}

const SPLITS = new Set(['region-train', 'region-test', 'record']);
const STATUSES = new Set(['positive', 'uncertain', 'negative']);

export class ManifestError extends ExpectedError {}

function isBox(box: unknown): box is [number, number, number, number] {
  return (
    Array.isArray(box) && box.length === 4 && box.every((v) => typeof v === 'number' && Number.isFinite(v))
  );
}

/** Checks one parsed manifest line; throws ManifestError saying which field is wrong. */
export function checkManifestEntry(value: unknown): ManifestEntry {
  const e = value as Partial<ManifestEntry> | null;
  if (!e || typeof e !== 'object') throw new ManifestError('not a JSON object');
  for (const key of ['sopInstanceUid', 'accession', 'file'] as const) {
    if (typeof e[key] !== 'string' || e[key] === '')
      throw new ManifestError(`"${key}" must be a non-empty string`);
  }
  if (!SPLITS.has(e.split as string))
    throw new ManifestError(
      `"split" must be region-train, region-test or record, got ${JSON.stringify(e.split)}`,
    );
  const label = e.reportLabel as Record<string, unknown> | undefined;
  for (const cls of DETECTOR_CLASSES) {
    if (!label || !STATUSES.has(label[cls] as string)) {
      throw new ManifestError(
        `"reportLabel.${cls}" must be positive, uncertain or negative, got ${JSON.stringify(label?.[cls])}`,
      );
    }
  }
  if (e.fractures !== undefined && !Array.isArray(e.fractures))
    throw new ManifestError('"fractures" must be an array');
  return { ...(e as ManifestEntry), fractures: e.fractures ?? [] };
}

/** Scales a box from stored-image pixels to model-input pixels (the image is stretched). */
export function scaleBox(
  box: readonly number[],
  from: { rows: number; columns: number },
  to: { width: number; height: number },
): [number, number, number, number] {
  const sx = to.width / from.columns;
  const sy = to.height / from.rows;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return [r(box[0]! * sx), r(box[1]! * sy), r(box[2]! * sx), r(box[3]! * sy)];
}

/** Boxes of the detector's classes, scaled; other classes ("other" bone) are left out. */
export function scaleClassBoxes(
  boxes: readonly { class: string; box: unknown }[],
  from: { rows: number; columns: number },
  to: { width: number; height: number },
): ClassBox[] {
  const out: ClassBox[] = [];
  for (const b of boxes) {
    if (!(DETECTOR_CLASSES as readonly string[]).includes(b.class)) continue;
    if (!isBox(b.box)) throw new ManifestError(`box ${JSON.stringify(b.box)} is not [x0, y0, x1, y1]`);
    const [x0, y0, x1, y1] = b.box;
    if (!(x0 < x1 && y0 < y1 && x0 >= 0 && y0 >= 0 && x1 <= from.columns && y1 <= from.rows)) {
      throw new ManifestError(
        `box [${b.box.join(', ')}] is empty or outside the ${from.columns}x${from.rows} image`,
      );
    }
    out.push({ class: b.class as DetectorClass, box: scaleBox(b.box, from, to) });
  }
  return out;
}

/** [0, 1] floats to bytes, value / 255 = intensity. */
export function quantise(pixels: Float32Array, out: Uint8Array = new Uint8Array(pixels.length)): Uint8Array {
  for (let i = 0; i < pixels.length; i++) out[i] = Math.round(pixels[i]! * 255);
  return out;
}
