import { DicomImageError } from './errors.ts';
import type { StoredPixels } from './codecs.ts';

/** The stored-pixel format and modality/VOI attributes that preprocessing depends on. */
export interface PixelFormat {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
  photometricInterpretation: string;
  rescaleSlope: number;
  rescaleIntercept: number;
  windowCenter?: number;
  windowWidth?: number;
}

export interface WindowOptions {
  /** When the file has no usable WindowCenter/Width (or ignoreDicomWindow): 'percentiles' (default) or 'minmax'. */
  windowFallback?: 'percentiles' | 'minmax';
  /** Lower and upper percentiles of the modality values for the fallback window (default [0.5, 99.5]). */
  percentiles?: readonly [number, number];
  /** Use the fallback even when the file has a window. */
  ignoreDicomWindow?: boolean;
}

export interface ResizeOptions {
  /** Model input size: a number for a square, or width and height (default 256). */
  size?: number | { width: number; height: number };
}

export type PreprocessOptions = WindowOptions & ResizeOptions;

export interface AppliedWindow {
  /** Modality values (after rescale) mapped to 0 and 1. */
  lower: number;
  upper: number;
  source: 'dicom' | 'percentiles' | 'minmax';
  center?: number;
  width?: number;
}

export interface Preprocessed {
  pixels: Float32Array;
  width: number;
  height: number;
  window: AppliedWindow;
  inverted: boolean;
}

export const DEFAULT_SIZE = 256;
export const DEFAULT_PERCENTILES: readonly [number, number] = [0.5, 99.5];

export function resolveSize(size: PreprocessOptions['size']): { width: number; height: number } {
  const { width, height } =
    typeof size === 'object' ? size : { width: size ?? DEFAULT_SIZE, height: size ?? DEFAULT_SIZE };
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 8192) {
      throw new DicomImageError('bad-options', `model input ${name} must be an integer in 1..8192, got ${v}`);
    }
  }
  return { width, height };
}

/**
 * Stored values as read may carry bits above BitsStored (overlays, or unsigned codec output of
 * signed data): mask them and sign-extend from BitsStored when the representation is signed.
 * Returns the input unchanged when nothing needs doing.
 */
export function normaliseStored(stored: StoredPixels, format: PixelFormat): StoredPixels | Int32Array {
  const signedView = stored instanceof Int8Array || stored instanceof Int16Array;
  const fullWidth = format.bitsStored === stored.BYTES_PER_ELEMENT * 8;
  if (fullWidth && signedView === (format.pixelRepresentation === 1)) return stored;
  const mask = format.bitsStored >= 32 ? 0xffffffff : (1 << format.bitsStored) - 1;
  const half = 1 << (format.bitsStored - 1);
  const out = new Int32Array(stored.length);
  if (format.pixelRepresentation === 1) {
    for (let i = 0; i < stored.length; i++) {
      const v = stored[i]! & mask;
      out[i] = v >= half ? v - (mask + 1) : v;
    }
  } else {
    for (let i = 0; i < stored.length; i++) out[i] = stored[i]! & mask;
  }
  return out;
}

/** Percentiles (0..100) of integer stored values, by histogram: exact and O(n + range). */
export function storedPercentiles(values: ArrayLike<number>, low: number, high: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (max - min > 1 << 20) return [min, max];
  const counts = new Uint32Array(max - min + 1);
  for (let i = 0; i < values.length; i++) counts[values[i]! - min]!++;
  const rankLow = Math.floor((low / 100) * (values.length - 1));
  const rankHigh = Math.ceil((high / 100) * (values.length - 1));
  let seen = 0;
  let lowValue = min;
  let highValue = max;
  let foundLow = false;
  for (let k = 0; k < counts.length; k++) {
    seen += counts[k]!;
    if (!foundLow && seen > rankLow) {
      lowValue = k + min;
      foundLow = true;
    }
    if (seen > rankHigh) {
      highValue = k + min;
      break;
    }
  }
  return [lowValue, highValue];
}

export function chooseWindow(
  values: ArrayLike<number>,
  format: PixelFormat,
  options: WindowOptions,
): AppliedWindow {
  const { windowCenter: c, windowWidth: w } = format;
  if (!options.ignoreDicomWindow && c !== undefined && w !== undefined && w >= 1) {
    // DICOM PS3.3 C.11.2.1.2.1 linear VOI: c - 0.5 -/+ (w - 1) / 2 map to 0 and 1.
    return {
      lower: c - 0.5 - (w - 1) / 2,
      upper: c - 0.5 + (w - 1) / 2,
      source: 'dicom',
      center: c,
      width: w,
    };
  }
  const fallback = options.windowFallback ?? 'percentiles';
  const [pLow, pHigh] = options.percentiles ?? DEFAULT_PERCENTILES;
  if (!(pLow >= 0 && pLow < pHigh && pHigh <= 100)) {
    throw new DicomImageError(
      'bad-options',
      `percentiles must satisfy 0 <= low < high <= 100, got [${pLow}, ${pHigh}]`,
    );
  }
  const [sLow, sHigh] =
    fallback === 'minmax' ? storedPercentiles(values, 0, 100) : storedPercentiles(values, pLow, pHigh);
  const a = sLow * format.rescaleSlope + format.rescaleIntercept;
  const b = sHigh * format.rescaleSlope + format.rescaleIntercept;
  return { lower: Math.min(a, b), upper: Math.max(a, b), source: fallback };
}

/** For each output index, the input indices that overlap it and their overlap fractions. */
export function areaWeights(
  inSize: number,
  outSize: number,
): { input: Int32Array; output: Int32Array; weight: Float64Array } {
  const scale = inSize / outSize;
  const input: number[] = [];
  const output: number[] = [];
  const weight: number[] = [];
  for (let o = 0; o < outSize; o++) {
    const start = o * scale;
    const end = (o + 1) * scale;
    for (let i = Math.floor(start); i < Math.min(inSize, Math.ceil(end)); i++) {
      const overlap = Math.min(i + 1, end) - Math.max(i, start);
      if (overlap > 1e-12) {
        input.push(i);
        output.push(o);
        weight.push(overlap / scale);
      }
    }
  }
  // Sorted by input index so rows can be streamed through once.
  const order = input.map((_, k) => k).sort((p, q) => input[p]! - input[q]! || output[p]! - output[q]!);
  return {
    input: Int32Array.from(order, (k) => input[k]!),
    output: Int32Array.from(order, (k) => output[k]!),
    weight: Float64Array.from(order, (k) => weight[k]!),
  };
}

/**
 * Stored values -> model input in [0, 1]: rescale (slope, intercept), VOI window (linear),
 * MONOCHROME1 inverted so bone is bright, then area-averaged to the model size (each output
 * pixel is the mean of the input area it covers; upscaling repeats pixels). The aspect ratio is
 * not kept: the image is stretched to the model size, and boxes scale by size / columns and
 * size / rows. One pass over the input.
 */
export function preprocessStored(
  stored: StoredPixels | Int32Array,
  format: PixelFormat,
  options: PreprocessOptions = {},
): Preprocessed {
  const { width: outW, height: outH } = resolveSize(options.size);
  const { rows: inH, columns: inW } = format;
  if (stored.length < inW * inH) {
    throw new DicomImageError(
      'truncated-pixel-data',
      `decoded ${stored.length} pixels, a ${inW}x${inH} frame needs ${inW * inH}`,
    );
  }
  const values = normaliseStored(stored as StoredPixels, format);
  const window = chooseWindow(values, format, options);
  const inverted = format.photometricInterpretation === 'MONOCHROME1';
  // n = clamp(stored * k + b, 0, 1) folds rescale, window and inversion into one multiply-add.
  const span = window.upper - window.lower;
  let k = span > 0 ? format.rescaleSlope / span : 0;
  let b = span > 0 ? (format.rescaleIntercept - window.lower) / span : 0;
  if (inverted) {
    k = -k;
    b = 1 - b;
  }

  const out = new Float64Array(outW * outH);
  const xw = areaWeights(inW, outW);
  const yw = areaWeights(inH, outH);
  const row = new Float64Array(inW);
  const resized = new Float64Array(outW);
  let yk = 0;
  for (let y = 0; y < inH; y++) {
    const base = y * inW;
    for (let x = 0; x < inW; x++) {
      const n = values[base + x]! * k + b;
      row[x] = n < 0 ? 0 : n > 1 ? 1 : n;
    }
    resized.fill(0);
    for (let t = 0; t < xw.input.length; t++) resized[xw.output[t]!]! += xw.weight[t]! * row[xw.input[t]!]!;
    for (; yk < yw.input.length && yw.input[yk] === y; yk++) {
      const w = yw.weight[yk]!;
      const o = yw.output[yk]! * outW;
      for (let x = 0; x < outW; x++) out[o + x]! += w * resized[x]!;
    }
  }
  const pixels = new Float32Array(out.length);
  for (let i = 0; i < out.length; i++) pixels[i] = Math.min(1, Math.max(0, out[i]!));
  return { pixels, width: outW, height: outH, window, inverted };
}
