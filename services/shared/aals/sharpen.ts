import { ExpectedError } from '../errors.ts';
/**
 * Label sharpening of a teacher's probability map (PAPER.md, "AALS"):
 *
 *     S(y)   = expit(a * logit(y) + (1 - a) * logit(t))
 *     a      = a0 - (a0 - 1) * y_max          (AALS: adaptive, computed once per map)
 *     target = max(S(y), y)                   (never lowers the teacher's probability)
 *
 * y is clamped into [eps, 1 - eps] before logit (and y_max is taken over the clamped map, as the
 * distiller does); the max is taken with the unclamped y. The max applies to every sharpening
 * method so the ablation varies only the centre t and fixed vs adaptive strength.
 *
 * eps defaults to 1e-6: logit(1e-6) is about -13.8, so even a = a0 = 4 keeps exp() far from
 * overflow, and 1 - 1e-6 is still distinct from 1 in float32 (spacing there is 6e-8), so the clamp
 * only touches probabilities the teacher reports as saturated. The Python distiller
 * (services/distiller/distiller/targets.py) uses the same default.
 */

export interface AalsOptions {
  /** Sharpening centre, in (0, 1): values above are pushed up, below pushed down. Default 0.4. */
  t?: number;
  /** Maximum strength, >= 1: the strength when the teacher's map maximum is 0. Default 4. */
  a0?: number;
  /** Clamp for logit, in (0, 0.5). Default 1e-6. */
  eps?: number;
}

export interface FixedSharpenOptions {
  /** Fixed strength, >= 1 (1 leaves the map unchanged). Default 4 (= the AALS default a0). */
  a?: number;
  /** Clamp for logit, in (0, 0.5). Default 1e-6. */
  eps?: number;
}

export const AALS_DEFAULTS = Object.freeze({ t: 0.4, a0: 4, eps: 1e-6 });
export const SYMMETRIC_T = 0.5;
export const ASYMMETRIC_T = 0.4;
export const DEFAULT_FIXED_A = 4;

/** A sharpening parameter out of range; `expected` so the CLI prints one clear line. */
export class SharpenOptionError extends ExpectedError {}

function checkT(t: number): void {
  if (!(t > 0 && t < 1)) throw new SharpenOptionError(`t must be in (0, 1), got ${t}`);
}
function checkStrength(name: 'a0' | 'a', value: number): void {
  if (!(value >= 1 && Number.isFinite(value))) {
    throw new SharpenOptionError(`${name} must be a finite number >= 1, got ${value}`);
  }
}
function checkEps(eps: number): void {
  if (!(eps > 0 && eps < 0.5)) throw new SharpenOptionError(`eps must be in (0, 0.5), got ${eps}`);
}

/** The maximum of the map clamped into [eps, 1 - eps]; throws on an empty map or NaN. */
export function clampedMax(map: Float32Array, eps: number): number {
  if (map.length === 0) throw new SharpenOptionError('the probability map is empty');
  let max = -Infinity;
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    if (v > max) max = v;
    else if (Number.isNaN(v)) throw new SharpenOptionError(`the probability map has NaN at index ${i}`);
  }
  return Math.min(Math.max(max, eps), 1 - eps);
}

/**
 * max(S(y), y) for every pixel, with a given strength a and centre t. One log and one exp per pixel:
 * logit(y) = log(y / (1 - y)).
 */
export function sharpenWithStrength(map: Float32Array, a: number, t: number, eps: number): Float32Array {
  const out = new Float32Array(map.length);
  const offset = (1 - a) * Math.log(t / (1 - t));
  const lo = eps;
  const hi = 1 - eps;
  for (let i = 0; i < map.length; i++) {
    const y = map[i]!;
    if (Number.isNaN(y)) throw new SharpenOptionError(`the probability map has NaN at index ${i}`);
    const yc = y < lo ? lo : y > hi ? hi : y;
    const s = 1 / (1 + Math.exp(-(a * Math.log(yc / (1 - yc)) + offset)));
    out[i] = s > y ? s : y;
  }
  return out;
}

/** The adaptive strength a = a0 - (a0 - 1) * y_max. */
export function adaptiveStrength(yMax: number, a0: number): number {
  return a0 - (a0 - 1) * yMax;
}

/**
 * Adaptive asymmetric label sharpening of one class's probability map (values in [0, 1]).
 * Returns a new Float32Array of the same length; the input is not modified.
 */
export function sharpenAALS(map: Float32Array, options: AalsOptions = {}): Float32Array {
  const t = options.t ?? AALS_DEFAULTS.t;
  const a0 = options.a0 ?? AALS_DEFAULTS.a0;
  const eps = options.eps ?? AALS_DEFAULTS.eps;
  checkT(t);
  checkStrength('a0', a0);
  checkEps(eps);
  const a = adaptiveStrength(clampedMax(map, eps), a0);
  return sharpenWithStrength(map, a, t, eps);
}

/** Symmetric sharpening: t = 0.5, fixed strength a (an ablation of AALS). */
export function sharpenSymmetric(map: Float32Array, options: FixedSharpenOptions = {}): Float32Array {
  return sharpenFixed(map, SYMMETRIC_T, options);
}

/** Asymmetric sharpening: t = 0.4, fixed strength a (an ablation of AALS). */
export function sharpenAsymmetric(map: Float32Array, options: FixedSharpenOptions = {}): Float32Array {
  return sharpenFixed(map, ASYMMETRIC_T, options);
}

function sharpenFixed(map: Float32Array, t: number, options: FixedSharpenOptions): Float32Array {
  const a = options.a ?? DEFAULT_FIXED_A;
  const eps = options.eps ?? AALS_DEFAULTS.eps;
  checkStrength('a', a);
  checkEps(eps);
  if (map.length === 0) throw new SharpenOptionError('the probability map is empty');
  return sharpenWithStrength(map, a, t, eps);
}
