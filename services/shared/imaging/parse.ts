import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import { DicomImageError, describeThrown } from './errors.ts';
import { asPart10, type DicomLayout } from './file-meta.ts';
import { findPhotometric } from './photometric.ts';
import {
  describeTransferSyntax,
  findTransferSyntax,
  transferSyntaxRefusal,
  type TransferSyntax,
} from './transfer-syntax.ts';

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
  /** 0: samples interleaved per pixel; 1: one plane per sample (native and RLE colour only). */
  planarConfiguration: 0 | 1;
  numberOfFrames: number;
  /** How the file was laid out (part10, or read without preamble / file meta). */
  layout: DicomLayout['kind'];
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

/** The transfer syntax named in the file meta group, refused by name when it is not one we read. */
function readTransferSyntax(bytes: Uint8Array): { tsUid: string; transferSyntax: TransferSyntax } {
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
      `unsupported transfer syntax ${describeTransferSyntax(tsUid)}: ${transferSyntaxRefusal(tsUid)}`,
    );
  }
  return { tsUid, transferSyntax };
}

function parseDataset(bytes: Uint8Array): dicomParser.DataSet {
  try {
    return dicomParser.parseDicom(bytes, { inflater: inflateDeflatedDataset });
  } catch (thrown) {
    if (thrown instanceof DicomImageError) throw thrown;
    throw explainParseFailure(thrown);
  }
}

/** The image attributes, each checked against what the decoders read, and the PixelData element. */
function readImageHeader(
  ds: dicomParser.DataSet,
  transferSyntax: TransferSyntax,
  layout: DicomImageHeader['layout'],
  maxPixels: number,
): { header: DicomImageHeader; pixelData: dicomParser.Element } {
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
  const photometric = findPhotometric(photometricInterpretation);
  if (!photometric || !photometric.greyFrom) {
    throw new DicomImageError(
      'unsupported-pixel-format',
      `unsupported photometric interpretation ${photometricInterpretation}: ${photometric?.note ?? 'not one of the standard'}`,
    );
  }
  if (samplesPerPixel !== photometric.samplesPerPixel) {
    throw new DicomImageError(
      'unsupported-pixel-format',
      `SamplesPerPixel ${samplesPerPixel} with ${photometricInterpretation}, which has ${photometric.samplesPerPixel}`,
    );
  }
  if (![8, 16].includes(bitsAllocated)) {
    throw new DicomImageError(
      'unsupported-pixel-format',
      `BitsAllocated ${bitsAllocated}: only 8 and 16 are read${bitsAllocated === 1 ? ' (1-bit pixels are segmentation masks or overlays, not radiographs)' : ''}`,
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
  if (!pixelData) {
    const float = ds.elements['x7fe00008'] || ds.elements['x7fe00009'];
    throw new DicomImageError(
      'missing-attribute',
      float
        ? 'float pixel data (7FE0,0008/0009) is not a radiograph format; no PixelData (7FE0,0010)'
        : 'no PixelData (7FE0,0010)',
    );
  }
  const planarConfiguration = samplesPerPixel > 1 && ds.elements['x00280006'] ? ds.uint16('x00280006')! : 0;

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
    planarConfiguration: planarConfiguration === 1 ? 1 : 0,
    numberOfFrames,
    layout,
    rescaleSlope: slope,
    rescaleIntercept: intercept,
    ...(usableWindow ? { windowCenter, windowWidth } : {}),
  };

  return { header, pixelData };
}

/** The first frame of a native (uncompressed) PixelData, little-endian. */
function nativeFrame(
  ds: dicomParser.DataSet,
  pixelData: dicomParser.Element,
  header: DicomImageHeader,
  tsUid: string,
): Uint8Array {
  const { transferSyntax, columns, rows, bitsAllocated } = header;
  const frameBytes = nativeFrameBytes(header);
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
  const frame = ds.byteArray.subarray(pixelData.dataOffset, pixelData.dataOffset + frameBytes);
  return transferSyntax.encoding === 'native-big-endian' ? toLittleEndian(frame, bitsAllocated) : frame;
}

/** The first frame of an encapsulated PixelData, still compressed. */
function encapsulatedFrame(
  ds: dicomParser.DataSet,
  pixelData: dicomParser.Element,
  header: DicomImageHeader,
): Uint8Array {
  const { transferSyntax, columns, rows, numberOfFrames } = header;
  const frameBytes = nativeFrameBytes(header);
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
  if (transferSyntax.encoding === 'encapsulated-native' && frame.length < frameBytes) {
    throw new DicomImageError(
      'truncated-pixel-data',
      `encapsulated uncompressed frame of ${frame.length} bytes, a ${columns}x${rows} frame needs ${frameBytes}`,
    );
  }
  return frame;
}

/**
 * Parses a DICOM file and extracts the first frame, checking everything it can first. Files
 * without the 128-byte preamble, without "DICM", or without any file meta information (a bare
 * dataset in Implicit or Explicit VR Little Endian) are read too.
 */
export function parseDicomImage(input: Uint8Array, options: ParseOptions = {}): ParsedDicomImage {
  const part10 = asPart10(input);
  if (!part10) {
    throw new DicomImageError(
      'not-dicom',
      `not a DICOM file: no "DICM" marker at byte 128 or 0, and no dataset at the start (${input.length} bytes)`,
    );
  }
  const { tsUid, transferSyntax } = readTransferSyntax(part10.bytes);
  const ds = parseDataset(part10.bytes);
  const { header, pixelData } = readImageHeader(
    ds,
    transferSyntax,
    part10.layout.kind,
    options.maxPixels ?? DEFAULT_MAX_PIXELS,
  );
  const native = transferSyntax.encoding === 'native' || transferSyntax.encoding === 'native-big-endian';
  return {
    header,
    frame: native ? nativeFrame(ds, pixelData, header, tsUid) : encapsulatedFrame(ds, pixelData, header),
  };
}

/** Bytes of one native frame: YBR_FULL_422 stores 2 samples per pixel (Y Y Cb Cr per pixel pair). */
export function nativeFrameBytes(
  h: Pick<
    DicomImageHeader,
    'rows' | 'columns' | 'bitsAllocated' | 'samplesPerPixel' | 'photometricInterpretation'
  >,
): number {
  const samples = h.photometricInterpretation === 'YBR_FULL_422' ? 2 : h.samplesPerPixel;
  return (h.rows * h.columns * samples * h.bitsAllocated) / 8;
}

/** Explicit VR Big Endian pixel data: 16-bit samples byte-swapped to little endian (a copy). */
function toLittleEndian(frame: Uint8Array, bitsAllocated: number): Uint8Array {
  if (bitsAllocated !== 16) return frame;
  const out = new Uint8Array(frame.length);
  for (let i = 0; i + 1 < frame.length; i += 2) {
    out[i] = frame[i + 1]!;
    out[i + 1] = frame[i]!;
  }
  return out;
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
  if (ts.encoding === 'jpeg-dct' || ts.encoding === 'jpeg-lossless') {
    const table = dicomParser.createJPEGBasicOffsetTable(ds, pixelData);
    return dicomParser.readEncapsulatedImageFrame(ds, pixelData, 0, table);
  }
  throw new Error(`${frames} frames in ${fragments.length} fragments without a basic offset table`);
}
