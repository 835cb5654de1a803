import { decodeFrame } from './codecs.ts';
import { parseDicomImage, type ParseOptions } from './parse.ts';
import {
  preprocessStored,
  type AppliedWindow,
  type PixelFormat,
  type PreprocessOptions,
} from './preprocess.ts';

export type ModelInputOptions = PreprocessOptions & ParseOptions;

/** The image's stored-pixel format (its window as applied, below) and where it came from. */
export interface ModelInputMeta extends Omit<PixelFormat, 'windowCenter' | 'windowWidth'> {
  sopInstanceUid?: string;
  modality?: string;
  viewPosition?: string;
  transferSyntaxUid: string;
  transferSyntaxName: string;
  numberOfFrames: number;
  window: AppliedWindow;
  inverted: boolean;
}

export interface ModelInput {
  /** Row-major height x width, values in [0, 1], bone bright. */
  pixels: Float32Array;
  width: number;
  height: number;
  meta: ModelInputMeta;
}

/**
 * A DICOM file's bytes -> the detector's input (the first frame; pure: no file access).
 * Throws DicomImageError with a reason for anything it cannot read.
 */
export async function dicomToModelInput(
  bytes: Uint8Array,
  options: ModelInputOptions = {},
): Promise<ModelInput> {
  const { header, frame } = parseDicomImage(bytes, options);
  const stored = await decodeFrame(header, frame);
  const { pixels, width, height, window, inverted } = preprocessStored(stored, header, options);
  return {
    pixels,
    width,
    height,
    meta: {
      sopInstanceUid: header.sopInstanceUid,
      modality: header.modality,
      viewPosition: header.viewPosition,
      transferSyntaxUid: header.transferSyntax.uid,
      transferSyntaxName: header.transferSyntax.name,
      rows: header.rows,
      columns: header.columns,
      bitsAllocated: header.bitsAllocated,
      bitsStored: header.bitsStored,
      pixelRepresentation: header.pixelRepresentation,
      photometricInterpretation: header.photometricInterpretation,
      numberOfFrames: header.numberOfFrames,
      rescaleSlope: header.rescaleSlope,
      rescaleIntercept: header.rescaleIntercept,
      window,
      inverted,
    },
  };
}
