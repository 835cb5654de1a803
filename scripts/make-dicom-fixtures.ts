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

interface J2KEncoder {
  getDecodedBuffer(info: object): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
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
    const require = createRequire(import.meta.url);
    const openjpeg = await (
      require('@cornerstonejs/codec-openjpeg/wasmjs') as (
        o: object,
      ) => Promise<Record<string, new () => J2KEncoder>>
    )({ print: () => {}, printErr: console.error });
    const encoder = new openjpeg.J2KEncoder!();
    const raw = bytes16(p12);
    encoder
      .getDecodedBuffer({
        width: COLUMNS,
        height: ROWS,
        bitsPerSample: 16,
        componentCount: 1,
        isSigned: false,
        isUsingColorTransform: false,
      })
      .set(raw);
    encoder.encode();
    const j2k = encoder.getEncodedBuffer().slice();
    encoder.delete();
    writeFileSync(
      join(OUT, 'jpeg-2000-lossless.dcm'),
      writeDicom({
        ...base16,
        pixelBytes: undefined,
        transferSyntaxUid: '1.2.840.10008.1.2.4.90',
        fragments: [j2k],
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
