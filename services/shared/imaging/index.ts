export { DicomImageError, type DicomErrorCode } from './errors.ts';
export { supportedTransferSyntaxes, describeTransferSyntax, type TransferSyntax } from './transfer-syntax.ts';
export {
  parseDicomImage,
  DEFAULT_MAX_PIXELS,
  type DicomImageHeader,
  type ParsedDicomImage,
  type ParseOptions,
} from './parse.ts';
export { decodeFrame, warmUpCodecs, type StoredPixels } from './codecs.ts';
export { decodeRleFrame } from './rle.ts';
export {
  preprocessStored,
  resolveSize,
  areaWeights,
  DEFAULT_SIZE,
  DEFAULT_PERCENTILES,
  type PixelFormat,
  type PreprocessOptions,
  type Preprocessed,
  type AppliedWindow,
} from './preprocess.ts';
export {
  dicomToModelInput,
  type ModelInput,
  type ModelInputMeta,
  type ModelInputOptions,
} from './decode-image.ts';
export { readDicomModelInput } from './read-file.ts';
