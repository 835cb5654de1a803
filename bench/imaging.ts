/**
 * Imaging throughput: decode + preprocess (rescale, window, resize to 256x256) of one CXR-sized
 * 12-bit image in each transfer syntax, and AALS sharpening of 64x64 and 256x256 maps.
 *
 *   npm run bench:imaging            (BENCH_IMAGE_SIZE=2048 for full-size radiographs)
 *
 * Compressed streams are made here with the codecs' own WASM encoders (JPEG-LS, JPEG 2000,
 * JPEG baseline, HTJ2K), the synthetic hospital's RLE encoder, and DCMTK's dcmcjpeg for JPEG
 * Lossless and 12-bit JPEG Extended when it is installed (skipped otherwise). Prints one table; numbers are single-threaded.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { sharpenAALS } from '../services/shared/aals/index.ts';
import { dicomToModelInput, warmUpCodecs } from '../services/shared/imaging/index.ts';
import { encodeRle16 } from '../tools/synth/rle-encoder.ts';
import { bytes16, writeDicom } from '../test/support/dicom-writer.ts';

const SIZE = Number(process.env.BENCH_IMAGE_SIZE ?? 1024);
const MIN_SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

interface Encoder {
  getDecodedBuffer(info: object): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
  setQuality?(progressive: boolean, quality: number): void;
}
const require = createRequire(import.meta.url);
async function encoder(module: string, name: string): Promise<Encoder> {
  const factory = require(module) as (o: object) => Promise<Record<string, new () => Encoder>>;
  return new (await factory({ print: () => {}, printErr: () => {} }))[name]!();
}

/** A smooth chest-like 12-bit image with mild noise (compresses like a radiograph, roughly). */
function testImage(n: number): Uint16Array {
  const v = new Uint16Array(n * n);
  let seed = 12345;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const lung =
        Math.exp(-(((x / n - 0.3) ** 2 + (y / n - 0.5) ** 2) * 12)) +
        Math.exp(-(((x / n - 0.7) ** 2 + (y / n - 0.5) ** 2) * 12));
      const ribs = 0.15 * Math.max(0, Math.sin((y / n) * 60));
      v[y * n + x] = Math.min(4095, Math.round(3000 - 1800 * lung + 900 * ribs + (seed % 40)));
    }
  }
  return v;
}

async function rate(
  fn: () => Promise<unknown> | unknown,
): Promise<{ perSecond: number; ms: number; n: number }> {
  await fn();
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < MIN_SECONDS) {
    await fn();
    n++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return { perSecond: n / elapsed, ms: (elapsed / n) * 1000, n };
}

async function main(): Promise<void> {
  await warmUpCodecs();
  const pixels = testImage(SIZE);
  const raw = bytes16(pixels);
  const base = {
    rows: SIZE,
    columns: SIZE,
    bitsAllocated: 16 as const,
    bitsStored: 12,
    windowCenter: 2048,
    windowWidth: 4096,
  };
  const files: [string, Uint8Array][] = [];
  files.push(['Explicit VR LE (uncompressed)', writeDicom({ ...base, pixelBytes: raw })]);
  files.push([
    'RLE Lossless',
    writeDicom({
      ...base,
      transferSyntaxUid: '1.2.840.10008.1.2.5',
      fragments: [encodeRle16(pixels, SIZE, SIZE)],
    }),
  ]);

  const info = {
    width: SIZE,
    height: SIZE,
    bitsPerSample: 16,
    componentCount: 1,
    isSigned: false,
    isUsingColorTransform: false,
  };
  const jls = await encoder('@cornerstonejs/codec-charls/wasmjs', 'JpegLSEncoder');
  jls.getDecodedBuffer({ ...info, bitsPerSample: 12 }).set(raw);
  jls.encode();
  files.push([
    'JPEG-LS Lossless',
    writeDicom({
      ...base,
      transferSyntaxUid: '1.2.840.10008.1.2.4.80',
      fragments: [jls.getEncodedBuffer().slice()],
    }),
  ]);
  const j2k = await encoder('@cornerstonejs/codec-openjpeg/wasmjs', 'J2KEncoder');
  j2k.getDecodedBuffer(info).set(raw);
  j2k.encode();
  files.push([
    'JPEG 2000 Lossless',
    writeDicom({
      ...base,
      transferSyntaxUid: '1.2.840.10008.1.2.4.90',
      fragments: [j2k.getEncodedBuffer().slice()],
    }),
  ]);
  const ht = await encoder('@cornerstonejs/codec-openjph/wasmjs', 'HTJ2KEncoder');
  ht.getDecodedBuffer(info).set(raw);
  ht.encode();
  files.push([
    'HTJ2K Lossless (OpenJPH)',
    writeDicom({
      ...base,
      transferSyntaxUid: '1.2.840.10008.1.2.4.201',
      fragments: [ht.getEncodedBuffer().slice()],
    }),
  ]);
  const jpeg = await encoder('@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs', 'JPEGEncoder');
  const p8 = Uint8Array.from(pixels, (v) => v >> 4);
  jpeg.getDecodedBuffer({ ...info, bitsPerSample: 8 }).set(p8);
  jpeg.setQuality?.(false, 90);
  jpeg.encode();
  files.push([
    'JPEG Baseline (8-bit)',
    writeDicom({
      ...base,
      bitsAllocated: 8,
      bitsStored: 8,
      windowCenter: 128,
      windowWidth: 256,
      transferSyntaxUid: '1.2.840.10008.1.2.4.50',
      fragments: [jpeg.getEncodedBuffer().slice()],
    }),
  ]);
  const work = mkdtempSync(join(tmpdir(), 'bench-imaging-'));
  try {
    writeFileSync(join(work, 'in.dcm'), files[0]![1]);
    execFileSync('dcmcjpeg', ['+e1', join(work, 'in.dcm'), join(work, 'out.dcm')], { stdio: 'ignore' });
    files.push(['JPEG Lossless SV1 (dcmcjpeg)', new Uint8Array(readFileSync(join(work, 'out.dcm')))]);
    execFileSync('dcmcjpeg', ['+ee', '+q', '90', join(work, 'in.dcm'), join(work, 'ext.dcm')], {
      stdio: 'ignore',
    });
    files.push([
      'JPEG Extended 12-bit (dcmcjpeg, q 90)',
      new Uint8Array(readFileSync(join(work, 'ext.dcm'))),
    ]);
  } catch {
    console.error('dcmcjpeg not found: JPEG Lossless skipped (apt-get install dcmtk)');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  console.log(
    `# imaging bench: ${SIZE}x${SIZE} 12-bit image -> 256x256, ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
  );
  console.log('| what | file KB | images/s | ms/image |');
  console.log('|---|---:|---:|---:|');
  for (const [name, bytes] of files) {
    const r = await rate(() => dicomToModelInput(bytes));
    console.log(
      `| decode+preprocess ${name} | ${(bytes.length / 1024).toFixed(0)} | ${r.perSecond.toFixed(1)} | ${r.ms.toFixed(2)} |`,
    );
  }
  for (const n of [64, 256]) {
    const map = Float32Array.from({ length: n * n }, (_, i) => 0.45 * Math.abs(Math.sin(i * 0.013)));
    const r = await rate(() => sharpenAALS(map));
    console.log(`| AALS ${n}x${n} map | - | ${r.perSecond.toFixed(0)} maps/s | ${r.ms.toFixed(4)} |`);
  }
}

await main();
