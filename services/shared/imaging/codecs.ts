import { createRequire } from 'node:module';
import { DicomImageError, describeThrown } from './errors.ts';
import { decodeJpegDct } from './jpeg-dct.ts';
import { findPhotometric, luma } from './photometric.ts';
import { decodeRleFrame } from './rle.ts';
import type { DicomImageHeader } from './parse.ts';

/** Stored pixel values of one frame, before rescale (signed or unsigned as stored). */
export type StoredPixels = Uint8Array | Int8Array | Uint16Array | Int16Array;

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

/** The shape shared by the cornerstone WASM decoders (CharLS, libjpeg-turbo, OpenJPEG). */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  delete(): void;
}
type WasmModule = Record<string, new () => WasmDecoder>;

const require = createRequire(import.meta.url);

const codecMessages: string[] = [];
function remember(line: string): void {
  codecMessages.push(line);
  if (codecMessages.length > 8) codecMessages.shift();
}

// Each WASM codec is instantiated at most once per process, on first use.
const modules = new Map<string, Promise<WasmModule>>();
function loadWasm(specifier: string): Promise<WasmModule> {
  let loaded = modules.get(specifier);
  if (!loaded) {
    const factory = require(specifier) as (overrides: object) => Promise<WasmModule>;
    // OpenJPEG prints [INFO] lines to stdout, which would corrupt a CLI's output: keep the
    // codecs' messages for error reports instead.
    loaded = factory({ print: remember, printErr: remember });
    modules.set(specifier, loaded);
  }
  return loaded;
}

const CODECS = {
  'jpeg-dct': { module: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', decoder: 'JPEGDecoder' },
  'jpeg-ls': { module: '@cornerstonejs/codec-charls/decodewasmjs', decoder: 'JpegLSDecoder' },
  'jpeg-2000': { module: '@cornerstonejs/codec-openjpeg/decodewasmjs', decoder: 'J2KDecoder' },
  htj2k: { module: '@cornerstonejs/codec-openjph/wasmjs', decoder: 'HTJ2KDecoder' },
} as const;

/** Which decoders convert YCbCr to RGB themselves (JPEG's colour transform, JPEG 2000's MCT). */
const RETURNS_RGB: Record<keyof typeof CODECS, boolean> = {
  'jpeg-dct': true,
  'jpeg-ls': false,
  'jpeg-2000': true,
  htj2k: true,
};

let losslessModule: Promise<typeof import('jpeg-lossless-decoder-js')> | undefined;

/** Loads every codec now (a service calls this at start-up so the first image is not slow). */
export async function warmUpCodecs(): Promise<void> {
  await Promise.all([...Object.values(CODECS).map((c) => loadWasm(c.module)), loadLossless()]);
}

function loadLossless() {
  losslessModule ??= import('jpeg-lossless-decoder-js');
  return losslessModule;
}

function fail(header: DicomImageHeader, thrown: unknown): never {
  if (thrown instanceof DicomImageError) throw thrown;
  const said = codecMessages.filter((line) => !line.startsWith('[INFO]')).slice(-3);
  codecMessages.length = 0;
  throw new DicomImageError(
    'corrupt-pixel-data',
    `${header.transferSyntax.name} decoder failed: ${describeThrown(thrown)}${said.length ? ` (${said.join('; ')})` : ''}`,
  );
}

/** Interprets little-endian frame bytes as stored values of the header's format. */
export function viewStored(
  bytes: Uint8Array,
  header: Pick<DicomImageHeader, 'bitsAllocated' | 'pixelRepresentation' | 'rows' | 'columns'>,
  signed = header.pixelRepresentation === 1,
): StoredPixels {
  const count = header.rows * header.columns;
  if (header.bitsAllocated === 8) {
    return signed ? new Int8Array(bytes.buffer, bytes.byteOffset, count) : bytes.subarray(0, count);
  }
  // 16-bit typed arrays need 2-byte alignment; copy when the frame sits at an odd offset.
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice(0, count * 2);
  return signed
    ? new Int16Array(aligned.buffer, aligned.byteOffset, count)
    : new Uint16Array(aligned.buffer, aligned.byteOffset, count);
}

async function decodeWasm(
  header: DicomImageHeader,
  frame: Uint8Array,
  kind: keyof typeof CODECS,
): Promise<StoredPixels> {
  const codec = CODECS[kind];
  const module = await loadWasm(codec.module);
  const decoder = new module[codec.decoder]!();
  try {
    decoder.getEncodedBuffer(frame.length).set(frame);
    decoder.decode();
    const info = decoder.getFrameInfo();
    checkGeometry(header, info.width, info.height, info.componentCount);
    if (header.samplesPerPixel === 3) {
      const bytesPerSample = info.bitsPerSample <= 8 ? 1 : 2;
      const decoded = decoder.getDecodedBuffer();
      const count = header.rows * header.columns;
      const samples =
        bytesPerSample === 1
          ? decoded.slice(0, count * 3)
          : new Uint16Array(decoded.slice(0, count * 6).buffer);
      return colourToGrey(samples, header, 'interleaved', RETURNS_RGB[kind]);
    }
    const bytesPerSample = info.bitsPerSample <= 8 ? 1 : 2;
    if (bytesPerSample * 8 > header.bitsAllocated) {
      throw new DicomImageError(
        'corrupt-pixel-data',
        `${header.transferSyntax.name} stream has ${info.bitsPerSample}-bit samples but BitsAllocated is ${header.bitsAllocated}`,
      );
    }
    const decoded = decoder.getDecodedBuffer();
    const expected = header.rows * header.columns * bytesPerSample;
    if (decoded.length < expected) {
      throw new DicomImageError(
        'corrupt-pixel-data',
        `decoded ${decoded.length} bytes, expected ${expected}`,
      );
    }
    // Copy out of WASM memory: the decoder's buffer dies with it.
    const copy = decoded.slice(0, expected);
    return viewStored(copy, { ...header, bitsAllocated: bytesPerSample * 8 }, info.isSigned === true);
  } catch (thrown) {
    fail(header, thrown);
  } finally {
    decoder.delete();
  }
}

function checkGeometry(header: DicomImageHeader, width: number, height: number, components: number): void {
  if (width !== header.columns || height !== header.rows || components !== header.samplesPerPixel) {
    throw new DicomImageError(
      'corrupt-pixel-data',
      `compressed stream is ${width}x${height}x${components}, the header says ${header.columns}x${header.rows}x${header.samplesPerPixel}`,
    );
  }
}

/**
 * Grey values of a colour frame: the Y component of YCbCr as stored, or the BT.601 luminance of
 * RGB (what a decoder that applies the colour transform returns). Same sample width as the input.
 * `layout`: interleaved (RGBRGB...), planar (RRR...GGG...BBB...) or ybr422 (Y Y Cb Cr per pixel pair).
 */
export function colourToGrey(
  samples: Uint8Array | Uint16Array,
  header: Pick<DicomImageHeader, 'rows' | 'columns' | 'photometricInterpretation'>,
  layout: 'interleaved' | 'planar' | 'ybr422',
  decodedToRgb: boolean,
): Uint8Array | Uint16Array {
  const count = header.rows * header.columns;
  const out = samples instanceof Uint8Array ? new Uint8Array(count) : new Uint16Array(count);
  const yOnly =
    findPhotometric(header.photometricInterpretation)?.greyFrom === 'y-component' && !decodedToRgb;
  if (layout === 'ybr422') {
    // two pixels share Cb and Cr: Y0 Y1 Cb Cr
    for (let p = 0; p < count; p++) out[p] = samples[(p >> 1) * 4 + (p & 1)]!;
    return out;
  }
  const [r, g, b] = layout === 'planar' ? [0, count, 2 * count] : [0, 1, 2];
  const step = layout === 'planar' ? 1 : 3;
  for (let p = 0, i = 0; p < count; p++, i += step) {
    out[p] = yOnly ? samples[i + r]! : luma(samples[i + r]!, samples[i + g]!, samples[i + b]!);
  }
  return out;
}

/** A native (or RLE-decoded, then interleaved) colour frame to grey. */
function nativeColourToGrey(bytes: Uint8Array, header: DicomImageHeader, planar: boolean): StoredPixels {
  const samples =
    header.bitsAllocated === 8
      ? bytes
      : new Uint16Array(
          bytes.byteOffset % 2 === 0
            ? bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)
            : bytes.slice().buffer,
        );
  const layout =
    header.photometricInterpretation === 'YBR_FULL_422' ? 'ybr422' : planar ? 'planar' : 'interleaved';
  return colourToGrey(samples, header, layout, false);
}

async function decodeJpegLossless(header: DicomImageHeader, frame: Uint8Array): Promise<StoredPixels> {
  const { Decoder } = await loadLossless();
  try {
    const buffer = frame.slice().buffer;
    const out = new Decoder().decompress(buffer, 0, frame.length);
    const bytes = new Uint8Array(out);
    const count = header.rows * header.columns * header.samplesPerPixel;
    const bytesPerSample = bytes.length / count;
    if (bytesPerSample !== 1 && bytesPerSample !== 2) {
      throw new DicomImageError(
        'corrupt-pixel-data',
        `JPEG Lossless stream decoded to ${bytes.length} bytes for ${count} pixels`,
      );
    }
    if (header.samplesPerPixel === 3) {
      const samples = bytesPerSample === 1 ? bytes : new Uint16Array(bytes.buffer);
      return colourToGrey(samples, header, 'interleaved', false);
    }
    return viewStored(bytes, { ...header, bitsAllocated: bytesPerSample * 8 }, false);
  } catch (thrown) {
    fail(header, thrown);
  }
}

/** 12-bit (or any non-libjpeg-turbo) sequential DCT JPEG with the project's own decoder. */
function decodeJpegDctFrame(header: DicomImageHeader, frame: Uint8Array): StoredPixels {
  try {
    const decoded = decodeJpegDct(frame);
    checkGeometry(header, decoded.width, decoded.height, decoded.planes.length);
    const planes = decoded.planes;
    if (planes.length === 1) {
      return decoded.precision <= 8 ? Uint8Array.from(planes[0]!) : planes[0]!;
    }
    // a 3-component JPEG is YCbCr unless the header says RGB (Adobe transform 0)
    if (header.photometricInterpretation !== 'RGB') {
      return decoded.precision <= 8 ? Uint8Array.from(planes[0]!) : planes[0]!;
    }
    const count = header.rows * header.columns;
    const all = new Uint16Array(count * 3);
    planes.forEach((plane, i) => all.set(plane, i * count));
    const grey = colourToGrey(all, header, 'planar', false);
    return decoded.precision <= 8 ? Uint8Array.from(grey) : grey;
  } catch (thrown) {
    fail(header, thrown);
  }
}

/**
 * Decodes the first frame to grey stored values (colour frames are converted: photometric.ts). For
 * lossless JPEG variants the values come back unsigned; signed data (PixelRepresentation 1) is
 * sign-extended from BitsStored by the caller.
 */
export async function decodeFrame(header: DicomImageHeader, frame: Uint8Array): Promise<StoredPixels> {
  const colour = header.samplesPerPixel === 3;
  switch (header.transferSyntax.encoding) {
    case 'native':
    case 'native-big-endian':
    case 'encapsulated-native':
      return colour
        ? nativeColourToGrey(frame, header, header.planarConfiguration === 1)
        : viewStored(frame, header);
    case 'rle': {
      const bytes = decodeRleFrame(
        frame,
        header.rows,
        header.columns,
        header.bitsAllocated,
        header.samplesPerPixel,
      );
      return colour ? nativeColourToGrey(bytes, header, false) : viewStored(bytes, header);
    }
    case 'jpeg-lossless':
      return decodeJpegLossless(header, frame);
    case 'jpeg-dct':
      // libjpeg-turbo (8-bit) is the fast path; 12-bit precision goes to our own decoder
      return jpegPrecision(frame) > 8
        ? decodeJpegDctFrame(header, frame)
        : decodeWasm(header, frame, 'jpeg-dct');
    case 'jpeg-ls':
      return decodeWasm(header, frame, 'jpeg-ls');
    case 'jpeg-2000':
      return decodeWasm(header, frame, 'jpeg-2000');
    case 'htj2k':
      return decodeWasm(header, frame, 'htj2k');
  }
}

/** Sample precision from the first SOFn marker of a JPEG stream (0 when none is found). */
export function jpegPrecision(stream: Uint8Array): number {
  for (let i = 2; i + 4 < stream.length;) {
    if (stream[i] !== 0xff) return 0;
    const marker = stream[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return stream[i + 4]!;
    i += 2 + ((stream[i + 2]! << 8) | stream[i + 3]!);
  }
  return 0;
}
