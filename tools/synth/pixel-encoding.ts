/**
 * Turns a rendered intensity map into stored DICOM pixel values the way varied modalities do:
 * 12-16 bits stored, MONOCHROME2 or inverted MONOCHROME1, unsigned or signed, with rescale and a
 * VOI window computed from the image.
 */
import type { Rng } from './prng.ts';

export interface PixelStorage {
  bitsStored: number;
  /** MONOCHROME1: the stored value grows as the image gets darker. */
  monochrome1: boolean;
  /** PixelRepresentation 1: two's complement, sign-extended into the 16-bit word. */
  signed: boolean;
  rescaleSlope: number;
  rescaleIntercept: number;
}

export interface StoredImage {
  /** Raw 16-bit words as they go into Pixel Data (two's complement when signed). */
  words: Uint16Array;
  windowCenter: number;
  windowWidth: number;
  /** Smallest and largest stored value (signed when signed), for the round-trip checks. */
  minStored: number;
  maxStored: number;
}

export function drawPixelStorage(rng: Rng): PixelStorage {
  const bitsStored = rng.weighted([
    [12, 4],
    [14, 3],
    [15, 1],
    [16, 2],
  ] as const);
  const signed = rng.bool(0.12);
  const rescale = rng.weighted([
    [[1, 0], 8],
    [[1, -1024], 1],
    [[0.5, 0], 1],
    [[2, -100], 1],
  ] as const);
  return {
    bitsStored,
    monochrome1: rng.bool(0.15),
    signed,
    rescaleSlope: rescale[0],
    rescaleIntercept: rescale[1],
  };
}

/** Stored value range the image uses: not the full range, as detectors leave headroom. */
export function toStoredPixels(intensity: Float32Array, storage: PixelStorage, rng: Rng): StoredImage {
  const maxCode = 2 ** storage.bitsStored - 1;
  const lo = Math.round(maxCode * rng.range(0.02, 0.12));
  const hi = Math.round(maxCode * rng.range(0.85, 0.98));
  const span = hi - lo;
  const offset = storage.signed ? 2 ** (storage.bitsStored - 1) : 0;
  const words = new Uint16Array(intensity.length);
  const hist = new Uint32Array(maxCode + 1);
  for (let i = 0; i < intensity.length; i++) {
    let code = lo + Math.round((intensity[i] as number) * span);
    if (storage.monochrome1) code = maxCode - code;
    hist[code] = (hist[code] as number) + 1;
    // Signed values are the unsigned code shifted down by half the range; `& 0xffff` sign-extends.
    words[i] = (code - offset) & 0xffff;
  }
  // Window over the 1st-99th percentile of what is stored, in rescaled units.
  const n = intensity.length;
  let acc = 0;
  let p1 = 0;
  let p99 = maxCode;
  let minCode = -1;
  let maxSeen = 0;
  for (let c = 0; c <= maxCode; c++) {
    const h = hist[c] as number;
    if (h === 0) continue;
    if (minCode < 0) minCode = c;
    maxSeen = c;
    const before = acc;
    acc += h;
    if (before < n * 0.01 && acc >= n * 0.01) p1 = c;
    if (before < n * 0.99 && acc >= n * 0.99) p99 = c;
  }
  const slope = storage.rescaleSlope;
  const intercept = storage.rescaleIntercept;
  const r1 = slope * (p1 - offset) + intercept;
  const r99 = slope * (p99 - offset) + intercept;
  return {
    words,
    windowCenter: Math.round((r1 + r99) / 2),
    windowWidth: Math.max(1, Math.round(Math.abs(r99 - r1))),
    minStored: minCode - offset,
    maxStored: maxSeen - offset,
  };
}
