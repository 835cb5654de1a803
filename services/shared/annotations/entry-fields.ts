import {
  isAnnotationClass,
  isRegionSplit,
  rejection,
  type AnnotationClass,
  type PixelBox,
  type RegionSplit,
  type Rejection,
} from './expert-box.ts';

type At = { index: number; where: string };

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** A box [x0, y0, x1, y1] of finite numbers with x0 < x1 and y0 < y1, or why not. */
export function readCornerBox(value: unknown, at: At): PixelBox | Rejection {
  if (
    !Array.isArray(value) ||
    value.length !== 4 ||
    !value.every((v) => typeof v === 'number' && Number.isFinite(v))
  )
    return rejection(at, 'bad-box', `box must be [x0, y0, x1, y1] numbers, got ${show(value)}`);
  const [x0, y0, x1, y1] = value as PixelBox;
  if (!(x0 < x1 && y0 < y1))
    return rejection(at, 'bad-box', `box ${show(value)} is empty or inverted (need x0 < x1 and y0 < y1)`);
  return [x0, y0, x1, y1];
}

/** The class, or why it is not one the detector learns. */
export function readClass(value: unknown, at: At): AnnotationClass | Rejection {
  const name = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (isAnnotationClass(name)) return name;
  return rejection(at, 'unknown-class', `class ${show(value)} is not rib or clavicle`);
}

/** The split when stated (undefined when absent or null), or why it is invalid. */
export function readSplit(value: unknown, at: At): RegionSplit | undefined | Rejection {
  if (value === undefined || value === null) return undefined;
  if (isRegionSplit(value)) return value;
  return rejection(at, 'bad-split', `split ${show(value)} is not region-train or region-test`);
}

/** An optional annotator name: a non-empty string, anything else is ignored. */
export function readAnnotator(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function isRejection(v: unknown): v is Rejection {
  return typeof v === 'object' && v !== null && 'reason' in v && 'detail' in v;
}

export { show as showValue };
