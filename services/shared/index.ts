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
  type TargetMethod,
} from './aals/index.ts';
export {
  DETECTOR_CLASSES,
  LABEL_STATUSES,
  REPORT_STATUSES,
  type DetectorClass,
  type LabelStatus,
  type ReportStatus,
} from './vocabulary.ts';
