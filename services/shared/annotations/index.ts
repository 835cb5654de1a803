// Expert boxes (D_R) in: parsing and checking, no I/O (`harvester annotations import` is the edge).
export * from './expert-box.ts';
export { AnnotationFileError } from './annotation-file-error.ts';
export { parseAnnotationsJson, type ParsedAnnotations } from './parse-annotations-json.ts';
export { parseCocoAnnotations } from './parse-coco-annotations.ts';
export { readManifestGeometry, type ManifestImage } from './manifest-geometry.ts';
export {
  checkExpertBoxes,
  expertBoxKey,
  type CheckedExpertBox,
  type CheckedFractureFree,
  type ExpertBoxContext,
} from './check-expert-boxes.ts';
export {
  countRejections,
  formatImportSummary,
  formatRejection,
  rejectedTotal,
  type AnnotationImportSummary,
} from './import-summary.ts';
