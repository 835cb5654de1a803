import type { LabelStatus } from '../vocabulary.ts';
import {
  sharpenAALS,
  sharpenAsymmetric,
  sharpenSymmetric,
  SharpenOptionError,
  type AalsOptions,
  type FixedSharpenOptions,
} from './sharpen.ts';

/** How a record-positive image's target is made from the teacher's map (the paper's ablation). */
export const TARGET_METHODS = ['none', 'symmetric', 'asymmetric', 'aals'] as const;
export type TargetMethod = (typeof TARGET_METHODS)[number];

export interface TargetOptions extends AalsOptions, FixedSharpenOptions {}

export function isTargetMethod(value: string): value is TargetMethod {
  return (TARGET_METHODS as readonly string[]).includes(value);
}

/**
 * The student's target for one class map, from the record's label for that class:
 * negative -> all zeros (the teacher's map only gives the size); positive -> the teacher's map
 * sharpened by `method`; uncertain -> null (no target: callers skip or weight it out).
 * Options: t, a0, eps for 'aals'; a, eps for 'symmetric' and 'asymmetric' (their t is fixed).
 */
export function makeTarget(
  method: TargetMethod,
  map: Float32Array,
  recordStatus: LabelStatus,
  options: TargetOptions = {},
): Float32Array | null {
  if (!isTargetMethod(method)) {
    throw new SharpenOptionError(
      `unknown target method "${method}"; expected one of ${TARGET_METHODS.join(', ')}`,
    );
  }
  switch (recordStatus) {
    case 'negative':
      return new Float32Array(map.length);
    case 'uncertain':
      return null;
    case 'positive':
      break;
    default:
      throw new SharpenOptionError(`unknown record status "${String(recordStatus)}"`);
  }
  switch (method) {
    case 'none':
      return Float32Array.from(map);
    case 'symmetric':
      return sharpenSymmetric(map, { a: options.a, eps: options.eps });
    case 'asymmetric':
      return sharpenAsymmetric(map, { a: options.a, eps: options.eps });
    case 'aals':
      return sharpenAALS(map, { t: options.t, a0: options.a0, eps: options.eps });
  }
}
