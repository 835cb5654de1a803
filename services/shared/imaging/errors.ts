import { HarvesterError } from '../errors.ts';

/** Why a DICOM file could not be turned into a model input. */
export type DicomErrorCode =
  | 'not-dicom'
  | 'unsupported-transfer-syntax'
  | 'unsupported-pixel-format'
  | 'missing-attribute'
  | 'truncated-file'
  | 'truncated-pixel-data'
  | 'too-large'
  | 'corrupt-pixel-data'
  | 'bad-options';

/**
 * A file the imaging code refuses, with a reason meant for people (and a code for programs:
 * the pseudo-labeler sends these to the DLQ, `harvester prepare` counts them by code).
 */
export class DicomImageError extends HarvesterError<DicomErrorCode> {}

/** dicom-parser throws strings as well as Errors; keep its words but in one type. */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  if (typeof thrown === 'string') return thrown;
  if (thrown && typeof thrown === 'object' && 'exception' in thrown) return String(thrown.exception);
  return String(thrown);
}
