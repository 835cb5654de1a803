import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import { DicomImageError, describeThrown } from './errors.ts';
import { describeTransferSyntax, findTransferSyntax, type TransferSyntax } from './transfer-syntax.ts';

/** What the imaging code needs from a DICOM header, plus the first frame's encoded bytes. */
export interface DicomImageHeader {
  transferSyntax: TransferSyntax;
  sopInstanceUid?: string;
  modality?: string;
  viewPosition?: string;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: 0 | 1;
  photometricInterpretation: string;
  numberOfFrames: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** First values of WindowCenter/WindowWidth when both are present and usable. */
  windowCenter?: number;
  windowWidth?: number;
}

export interface ParsedDicomImage {
  header: DicomImageHeader;
  /** The first frame: native bytes, or the compressed stream of an encapsulated syntax. */
  frame: Uint8Array;
}

export interface ParseOptions {
  /** Refuse images with more pixels than this before decoding (default 40 million). */
  maxPixels?: number;
}

export const DEFAULT_MAX_PIXELS = 40_000_000;

function requireUint16(ds: dicomParser.DataSet, tag: string, name: string): number {
  const element = ds.elements[tag];
  if (!element || element.length < 2)
    throw new DicomImageError('missing-attribute', `missing ${name} (${tagLabel(tag)})`);
  return ds.uint16(tag)!;
}

function tagLabel(tag: string): string {
  return `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()})`;
}

function optionalString(ds: dicomParser.DataSet, tag: string): string | undefined {
  const value = ds.string(tag)?.trim();
  return value ? value : undefined;
}

function optionalNumber(ds: dicomParser.DataSet, tag: string): number | undefined {
  if (!ds.elements[tag]) return undefined;
  const value = ds.floatString(tag, 0);
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

/** Deflated Explicit VR LE: the dataset after the file meta group is raw-deflated. */
function inflateDeflatedDataset(bytes: Uint8Array, position: number): Uint8Array {
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(bytes.subarray(position));
  } catch (err) {
    throw new DicomImageError(
      'truncated-pixel-data',
      `deflated dataset does not inflate: ${(err as Error).message}`,
    );
  }
  const full = new Uint8Array(position + inflated.length);
  full.set(bytes.subarray(0, position));
  full.set(inflated, position);
  return full;
}

/** dicom-parser throws {exception, dataSet} with what it parsed before failing. */
function explainParseFailure(thrown: unknown): DicomImageError {
  const reason = describeThrown(thrown);
  const partial = (thrown as { dataSet?: dicomParser.DataSet })?.dataSet;
  if (/overrun|past end|beyond/i.test(reason)) {
    const tags = Object.keys(partial?.elements ?? {}).sort();
    const last = tags.at(-1);
    if (last === 'x7fe00010') {
      return new DicomImageError(
        'truncated-pixel-data',
        `truncated pixel data: the file ends before the end of PixelData (7FE0,0010) (${reason})`,
      );
    }
    return new DicomImageError(
      'truncated-file',
      `truncated file: it ends inside the dataset${last ? ` after ${tagLabel(last)}` : ''} (${reason})`,
    );
  }
  return new DicomImageError('not-dicom', `cannot parse DICOM: ${reason}`);
}

function hasPart10Preamble(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

/** Parses a DICOM Part 10 file and extracts the first frame, checking everything it can first. */
export function parseDicomImage(bytes: Uint8Array, options: ParseOptions = {}): ParsedDicomImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!hasPart10Preamble(bytes)) {
    throw new DicomImageError(
      'not-dicom',
      `not a DICOM file: no "DICM" marker at byte 128 (${bytes.length} bytes)`,
    );
  }
  // The transfer syntax comes from the file meta group, read first: a dataset in a syntax we do
  // not read (big endian, say) must be refused by name, not misparsed.
  let tsUid: string;
  try {
    tsUid = dicomParser.readPart10Header(bytes).string('x00020010')?.replace(/\0/g, '').trim() ?? '';
  } catch (thrown) {
    throw new DicomImageError(
      'truncated-file',
      `cannot read the DICOM file meta header: ${describeThrown(thrown)}`,
    );
  }
  if (!tsUid) throw new DicomImageError('missing-attribute', 'missing TransferSyntaxUID (0002,0010)');
  const transferSyntax = findTransferSyntax(tsUid);
  if (!transferSyntax) {
    throw new DicomImageError(
      'unsupported-transfer-syntax',
      `unsupported transfer syntax ${describeTransferSyntax(tsUid)}`,
    );
  }
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, { inflater: inflateDeflatedDataset });
  } catch (thrown) {
    if (thrown instanceof DicomImageError) throw thrown;
    throw explainParseFailure(thrown);
  }

  const rows = requireUint16(ds, 'x00280010', 'Rows');
  const columns = requireUint16(ds, 'x00280011', 'Columns');
  const bitsAllocated = requireUint16(ds, 'x00280100', 'BitsAllocated');
  const bitsStored = ds.elements['x00280101'] ? ds.uint16('x00280101')! : bitsAllocated;
  const highBit = ds.elements['x00280102'] ? ds.uint16('x00280102')! : bitsStored - 1;
  const pixelRepresentation = ds.elements['x00280103'] ? ds.uint16('x00280103')! : 0;
  const samplesPerPixel = ds.elements['x00280002'] ? ds.uint16('x00280002')! : 1;
  const photometricInterpretation = optionalString(ds, 'x00280004');
  if (!photometricInterpretation)
    throw new DicomImageError('missing-attribute', 'missing PhotometricInterpretation (0028,0004)');
  const numberOfFrames = Math.max(1, Number.parseInt(ds.string('x00280008') ?? '1', 10) || 1);

  if (rows === 0 || columns === 0)
    throw new DicomImageError('unsupported-pixel-format', `empty image: ${columns}x${rows}`);
  if (rows * columns > maxPixels) {
    throw new DicomImageError(
      'too-large',
      `image ${columns}x${rows} has ${rows * columns} pixels, above the limit of ${maxPixels}`,
    );
  }
  if (photometricInterpretation !== 'MONOCHROME1' && photometricInterpretation !== 'MONOCHROME2') {
    throw new DicomImageError(
      'unsupported-pixel-format',
      `unsupported photometric interpretation ${photometricInterpretation}: only MONOCHROME1 and MONOCHROME2 radiographs are read`,
    );
  }
  if (samplesPerPixel !== 1) {
    throw new DicomImageError(
      'unsupported-pixel-format',
      `SamplesPerPixel ${samplesPerPixel}: only single-sample images are read`,
    );
  }
  if (![8, 16].includes(bitsAllocated)) {
    throw new DicomImageError(
      'unsupported-pixel-format',
      `BitsAllocated ${bitsAllocated}: only 8 and 16 are read`,
    );
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit !== bitsStored - 1) {
    throw new DicomImageError(
      'unsupported-pixel-format',
      `BitsStored ${bitsStored} / HighBit ${highBit} with BitsAllocated ${bitsAllocated}: expected 1 <= BitsStored <= BitsAllocated and HighBit = BitsStored - 1`,
    );
  }
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) {
    throw new DicomImageError(
      'unsupported-pixel-format',
      `PixelRepresentation ${pixelRepresentation} is neither 0 nor 1`,
    );
  }

  const slope = optionalNumber(ds, 'x00281053') ?? 1;
  const intercept = optionalNumber(ds, 'x00281052') ?? 0;
  if (slope === 0) throw new DicomImageError('unsupported-pixel-format', 'RescaleSlope is 0');
  const windowCenter = optionalNumber(ds, 'x00281050');
  const windowWidth = optionalNumber(ds, 'x00281051');
  const usableWindow = windowCenter !== undefined && windowWidth !== undefined && windowWidth >= 1;

  const pixelData = ds.elements['x7fe00010'];
  if (!pixelData) throw new DicomImageError('missing-attribute', 'no PixelData (7FE0,0010)');

  const header: DicomImageHeader = {
    transferSyntax,
    sopInstanceUid: optionalString(ds, 'x00080018'),
    modality: optionalString(ds, 'x00080060'),
    viewPosition: optionalString(ds, 'x00185101'),
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation: pixelRepresentation as 0 | 1,
    photometricInterpretation,
    numberOfFrames,
    rescaleSlope: slope,
    rescaleIntercept: intercept,
    ...(usableWindow ? { windowCenter, windowWidth } : {}),
  };

  const frameBytes = (rows * columns * bitsAllocated) / 8;
  if (transferSyntax.encoding === 'native') {
    if (pixelData.encapsulatedPixelData) {
      throw new DicomImageError(
        'corrupt-pixel-data',
        `encapsulated PixelData in a native transfer syntax ${tsUid}`,
      );
    }
    const available = Math.min(pixelData.length, ds.byteArray.length - pixelData.dataOffset);
    if (available < frameBytes) {
      throw new DicomImageError(
        'truncated-pixel-data',
        `truncated pixel data: ${Math.max(0, available)} bytes, a ${columns}x${rows} ${bitsAllocated}-bit frame needs ${frameBytes}`,
      );
    }
    return { header, frame: ds.byteArray.subarray(pixelData.dataOffset, pixelData.dataOffset + frameBytes) };
  }

  if (!pixelData.encapsulatedPixelData || !pixelData.fragments || pixelData.fragments.length === 0) {
    throw new DicomImageError(
      'corrupt-pixel-data',
      `transfer syntax ${transferSyntax.name} needs encapsulated pixel data, found none`,
    );
  }
  for (const fragment of pixelData.fragments) {
    if (fragment.position + fragment.length > ds.byteArray.length) {
      throw new DicomImageError(
        'truncated-pixel-data',
        'truncated pixel data: a compressed fragment runs past the end of the file',
      );
    }
  }
  let frame: Uint8Array;
  try {
    frame = firstFrame(ds, pixelData, numberOfFrames, transferSyntax);
  } catch (thrown) {
    throw new DicomImageError(
      'corrupt-pixel-data',
      `cannot extract the first frame: ${describeThrown(thrown)}`,
    );
  }
  return { header, frame };
}

function firstFrame(
  ds: dicomParser.DataSet,
  pixelData: dicomParser.Element,
  frames: number,
  ts: TransferSyntax,
): Uint8Array {
  const fragments = pixelData.fragments!;
  if (frames === 1)
    return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixelData, 0, fragments.length);
  if (pixelData.basicOffsetTable && pixelData.basicOffsetTable.length > 0) {
    return dicomParser.readEncapsulatedImageFrame(ds, pixelData, 0);
  }
  if (fragments.length === frames)
    return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixelData, 0, 1);
  if (ts.encoding === 'jpeg-baseline' || ts.encoding === 'jpeg-lossless') {
    const table = dicomParser.createJPEGBasicOffsetTable(ds, pixelData);
    return dicomParser.readEncapsulatedImageFrame(ds, pixelData, 0, table);
  }
  throw new Error(`${frames} frames in ${fragments.length} fragments without a basic offset table`);
}
