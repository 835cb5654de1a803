// The package's public entry: the pure domain functions other programs may use.
export { ConfigError, loadConfig } from './config/env.ts';
export {
  AALS_DEFAULTS,
  SharpenOptionError,
  TARGET_METHODS,
  makeTarget,
  sharpenAALS,
  sharpenAsymmetric,
  sharpenSymmetric,
  type AalsOptions,
  type FixedSharpenOptions,
  type RecordStatus,
  type TargetMethod,
} from './aals/index.ts';
