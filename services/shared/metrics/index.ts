export { auroc } from './auroc.ts';
export {
  DEFAULT_SUPPRESSION_RADIUS,
  findDetections,
  type Detection,
  type ProbabilityMap,
} from './detections.ts';
export {
  FROC_RATES,
  froc,
  labelDetections,
  type Box,
  type FrocImage,
  type FrocOptions,
  type FrocPoint,
  type FrocResult,
} from './froc.ts';
