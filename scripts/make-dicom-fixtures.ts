/**
 * Regenerates test/fixtures/dicom/: one small CXR-like test pattern stored in every transfer
 * syntax the imaging code reads. Native files come from test/support/dicom-writer.ts; the
 * compressed ones from independent encoders: DCMTK (apt-get install dcmtk: dcmcrle, dcmcjpeg,
 * dcmcjpls, dcmconv) and the OpenJPEG WASM encoder for JPEG 2000.
 *
 *   npx tsx scripts/make-dicom-fixtures.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytes16, writeDicom } from '../test/support/dicom-writer.ts';

const OUT = new URL('../test/fixtures/dicom/', import.meta.url).pathname;
export const ROWS = 48;
export const COLUMNS = 64;

/** 12-bit pattern: a vertical gradient, a bright "rib" band and a dark corner; deterministic. */
export function pattern12(): Uint16Array {
  const v = new Uint16Array(ROWS * COLUMNS);
  for (let y = 0; y < ROWS; y++) {
    for (let x = 0; x < COLUMNS; x++) {
      let value = 600 + y * 40 + ((x * 7 + y * 3) % 50);
      if (y >= 20 && y < 26 && x >= 10) value += 1500;
      if (x < 8 && y < 8) value = 0;
      v[y * COLUMNS + x] = Math.min(4095, value);
    }
  }
  return v;
}

/** 8-bit RGB version of the pattern with a tint (so that luminance differs from any one channel), interleaved. */
export function patternRgb(): Uint8Array {
  const p = pattern12();
  const out = new Uint8Array(p.length * 3);
  p.forEach((v, i) => {
    const g = v >> 4;
    out[i * 3] = Math.min(255, g + 20);
    out[i * 3 + 1] = g;
    out[i * 3 + 2] = Math.max(0, g - 20);
  });
  return out;
}

/** BT.601 full-range YCbCr of an RGB triple (what YBR_FULL stores). */
export function ybrFull(r: number, g: number, b: number): [number, number, number] {
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  return [
    clamp(0.299 * r + 0.587 * g + 0.114 * b),
    clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b),
    clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b),
  ];
}

/** Three frames: the pattern, then two others (a multi-frame file whose first frame is the radiograph). */
export function patternFrames(): Uint16Array {
  const p = pattern12();
  const out = new Uint16Array(p.length * 3);
  out.set(p, 0);
  out.set(
    p.map((v) => 4095 - v),
    p.length,
  );
  out.set(
    p.map((v) => v >> 1),
    2 * p.length,
  );
  return out;
}

interface J2KEncoder {
  getDecodedBuffer(info: object): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
}

/** A lossless 16-bit single-component stream from one of the cornerstone WASM encoders. */
async function encodeLosslessWasm(
  specifier: string,
  encoderName: string,
  raw: Uint8Array,
): Promise<Uint8Array> {
  const require = createRequire(import.meta.url);
  const factory = require(specifier) as (o: object) => Promise<Record<string, new () => J2KEncoder>>;
  const codec = await factory({ print: () => {}, printErr: console.error });
  const encoder = new codec[encoderName]!();
  const frameInfo = {
    width: COLUMNS,
    height: ROWS,
    bitsPerSample: 16,
    componentCount: 1,
    isSigned: false,
    isUsingColorTransform: false,
  };
  encoder.getDecodedBuffer(frameInfo).set(raw);
  encoder.encode();
  const stream = encoder.getEncodedBuffer().slice();
  encoder.delete();
  return stream;
}

function run(tool: string, args: string[]): void {
  execFileSync(tool, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dicom-fixtures-'));
  try {
    const p12 = pattern12();
    const base16 = {
      rows: ROWS,
      columns: COLUMNS,
      bitsAllocated: 16 as const,
      bitsStored: 12,
      windowCenter: 2000,
      windowWidth: 3000,
      pixelBytes: bytes16(p12),
    };
    const explicit = writeDicom({ ...base16, sopInstanceUid: '1.2.826.0.1.3680043.10.1.1' });
    writeFileSync(join(OUT, 'explicit-le.dcm'), explicit);
    writeFileSync(join(OUT, 'implicit-le.dcm'), writeDicom({ ...base16, implicitVr: true }));
    const p8 = Uint8Array.from(p12, (v) => v >> 4);
    const explicit8 = writeDicom({
      rows: ROWS,
      columns: COLUMNS,
      bitsAllocated: 8,
      pixelBytes: p8,
      windowCenter: 128,
      windowWidth: 256,
    });
    writeFileSync(join(OUT, 'explicit-le-8bit.dcm'), explicit8);

    const src16 = join(work, 'src16.dcm');
    const src8 = join(work, 'src8.dcm');
    writeFileSync(src16, explicit);
    writeFileSync(src8, explicit8);
    run('dcmconv', ['+td', src16, join(OUT, 'deflated.dcm')]);
    run('dcmcrle', [src16, join(OUT, 'rle.dcm')]);
    run('dcmcjpeg', ['+e1', src16, join(OUT, 'jpeg-lossless-sv1.dcm')]);
    run('dcmcjpeg', ['+el', '+sv', '6', src16, join(OUT, 'jpeg-lossless-p14.dcm')]);
    run('dcmcjpeg', ['+eb', '+q', '95', src8, join(OUT, 'jpeg-baseline.dcm')]);
    run('dcmcjpeg', ['+ee', '+q', '95', src16, join(OUT, 'jpeg-extended-12bit.dcm')]);
    run('dcmcjpls', ['+el', src16, join(OUT, 'jpeg-ls-lossless.dcm')]);
    run('dcmcjpls', ['+en', '+md', '2', src16, join(OUT, 'jpeg-ls-near-lossless.dcm')]);

    // JPEG 2000 (lossless, reversible 5/3) with the OpenJPEG encoder in WASM.
    const raw = bytes16(p12);
    const j2k = await encodeLosslessWasm('@cornerstonejs/codec-openjpeg/wasmjs', 'J2KEncoder', raw);
    writeFileSync(
      join(OUT, 'jpeg-2000-lossless.dcm'),
      writeDicom({
        ...base16,
        pixelBytes: undefined,
        transferSyntaxUid: '1.2.840.10008.1.2.4.90',
        fragments: [j2k],
      }),
    );
    // Explicit VR Big Endian (retired, still in old archives), 8-bit JPEG Extended (process 2), every
    // JPEG Lossless predictor (selection values 1-7), and DCMTK's own decoding of the 12-bit JPEG
    // Extended file as the reference for ours.
    run('dcmconv', ['+tb', src16, join(OUT, 'explicit-be.dcm')]);
    run('dcmcjpeg', ['+ee', '+q', '95', src8, join(OUT, 'jpeg-extended-8bit.dcm')]);
    for (let sv = 1; sv <= 7; sv++)
      run('dcmcjpeg', ['+el', '+sv', String(sv), src16, join(OUT, `jpeg-lossless-sv${sv}-p14.dcm`)]);
    run('dcmdjpeg', [join(OUT, 'jpeg-extended-12bit.dcm'), join(OUT, 'jpeg-extended-12bit.dcmdjpeg.dcm')]);
    // a bare dataset (no preamble, no file meta) as some modalities and old archives store them
    run('dcmconv', ['-F', '+ti', src16, join(OUT, 'bare-dataset-implicit.dcm')]);

    // multi-frame: the radiograph in frame 1, native and JPEG Lossless
    const frames = writeDicom({ ...base16, numberOfFrames: 3, pixelBytes: bytes16(patternFrames()) });
    writeFileSync(join(OUT, 'multiframe.dcm'), frames);
    const srcFrames = join(work, 'frames.dcm');
    writeFileSync(srcFrames, frames);
    run('dcmcjpeg', ['+e1', srcFrames, join(OUT, 'multiframe-jpeg-lossless.dcm')]);

    // colour: RGB interleaved and planar, YBR_FULL, YBR_FULL_422 (native); DCMTK's JPEG baseline
    // (which stores YBR_FULL_422) and RLE of the RGB file
    const rgb = patternRgb();
    const colour = { rows: ROWS, columns: COLUMNS, bitsAllocated: 8 as const, samplesPerPixel: 3 };
    const rgbFile = writeDicom({ ...colour, photometricInterpretation: 'RGB', pixelBytes: rgb });
    writeFileSync(join(OUT, 'rgb.dcm'), rgbFile);
    const planar = new Uint8Array(rgb.length);
    const n = ROWS * COLUMNS;
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) planar[c * n + i] = rgb[i * 3 + c]!;
    writeFileSync(
      join(OUT, 'rgb-planar.dcm'),
      writeDicom({ ...colour, photometricInterpretation: 'RGB', planarConfiguration: 1, pixelBytes: planar }),
    );
    const ybr = new Uint8Array(rgb.length);
    const ybr422 = new Uint8Array(n * 2);
    for (let i = 0; i < n; i++) ybr.set(ybrFull(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!), i * 3);
    for (let i = 0; i < n; i += 2) {
      const [y0, cb, cr] = ybrFull(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!);
      const [y1] = ybrFull(rgb[i * 3 + 3]!, rgb[i * 3 + 4]!, rgb[i * 3 + 5]!);
      ybr422.set([y0, y1, cb, cr], i * 2);
    }
    writeFileSync(
      join(OUT, 'ybr-full.dcm'),
      writeDicom({ ...colour, photometricInterpretation: 'YBR_FULL', pixelBytes: ybr }),
    );
    writeFileSync(
      join(OUT, 'ybr-full-422.dcm'),
      writeDicom({ ...colour, photometricInterpretation: 'YBR_FULL_422', pixelBytes: ybr422 }),
    );
    const srcRgb = join(work, 'rgb.dcm');
    writeFileSync(srcRgb, rgbFile);
    run('dcmcjpeg', ['+eb', '+q', '95', srcRgb, join(OUT, 'rgb-jpeg-baseline.dcm')]);
    run('dcmcrle', [srcRgb, join(OUT, 'rgb-rle.dcm')]);

    // High-Throughput JPEG 2000 (lossless) with the OpenJPH encoder in WASM
    const ht = await encodeLosslessWasm('@cornerstonejs/codec-openjph/wasmjs', 'HTJ2KEncoder', raw);
    writeFileSync(
      join(OUT, 'htj2k-lossless.dcm'),
      writeDicom({
        ...base16,
        pixelBytes: undefined,
        transferSyntaxUid: '1.2.840.10008.1.2.4.201',
        fragments: [ht],
      }),
    );

    for (const f of ['deflated', 'rle', 'jpeg-lossless-sv1', 'jpeg-baseline'])
      readFileSync(join(OUT, `${f}.dcm`));
    console.log(`fixtures written to ${OUT}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
