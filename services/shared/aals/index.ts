export {
  AALS_DEFAULTS,
  ASYMMETRIC_T,
  DEFAULT_FIXED_A,
  SYMMETRIC_T,
  SharpenOptionError,
  adaptiveStrength,
  sharpenAALS,
  sharpenAsymmetric,
  sharpenSymmetric,
  sharpenWithStrength,
  type AalsOptions,
  type FixedSharpenOptions,
} from './sharpen.ts';
export {
  TARGET_METHODS,
  isTargetMethod,
  makeTarget,
  type TargetMethod,
  type TargetOptions,
} from './target.ts';
