import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  COLUMNS,
  pattern12,
  patternFrames,
  patternRgb,
  ROWS,
  ybrFull,
} from '../../../scripts/make-dicom-fixtures.ts';
import { decodeFrame, dicomToModelInput, parseDicomImage } from '../../../services/shared/imaging/index.ts';
import { bytes16, writeDicom } from '../../support/dicom-writer.ts';
import { luma } from '../../../services/shared/imaging/photometric.ts';

// Encodings older archives and other vendors hold, each written by an independent encoder
// (DCMTK's dcmconv/dcmcjpeg/dcmcrle, OpenJPH) by scripts/make-dicom-fixtures.ts.
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/dicom/${name}`, import.meta.url)));

async function stored(name: string): Promise<number[]> {
  const { header, frame } = parseDicomImage(fixture(name));
  return Array.from(await decodeFrame(header, frame));
}

const N = ROWS * COLUMNS;

describe('encodings beyond little endian greyscale', () => {
  it('Explicit VR Big Endian (retired) decodes to exactly the stored pattern', async () => {
    assert.deepEqual(await stored('explicit-be.dcm'), Array.from(pattern12()));
    assert.equal(
      parseDicomImage(fixture('explicit-be.dcm')).header.transferSyntax.name,
      'Explicit VR Big Endian',
    );
  });

  it('Encapsulated Uncompressed Explicit VR Little Endian: the frame from its fragment', async () => {
    const file = writeDicom({
      rows: ROWS,
      columns: COLUMNS,
      bitsAllocated: 16,
      bitsStored: 12,
      transferSyntaxUid: '1.2.840.10008.1.2.1.98',
      fragments: [bytes16(pattern12())],
    });
    const { header, frame } = parseDicomImage(file);
    assert.deepEqual(Array.from(await decodeFrame(header, frame)), Array.from(pattern12()));
  });

  for (let sv = 1; sv <= 7; sv++) {
    it(`JPEG Lossless (process 14), predictor ${sv}: exactly the stored pattern`, async () => {
      assert.deepEqual(await stored(`jpeg-lossless-sv${sv}-p14.dcm`), Array.from(pattern12()));
    });
  }

  it('12-bit JPEG Extended (process 4): within 1 of what DCMTK decodes, and close to the original', async () => {
    const ours = await stored('jpeg-extended-12bit.dcm');
    const dcmtk = await stored('jpeg-extended-12bit.dcmdjpeg.dcm');
    const original = pattern12();
    ours.forEach((v, i) => assert.ok(Math.abs(v - dcmtk[i]!) <= 1, `pixel ${i}: ${v} vs DCMTK ${dcmtk[i]}`));
    const meanError = ours.reduce((sum, v, i) => sum + Math.abs(v - original[i]!), 0) / N;
    assert.ok(meanError < 4, `mean error ${meanError} of 4095`);
    const input = await dicomToModelInput(fixture('jpeg-extended-12bit.dcm'));
    assert.equal(input.meta.transferSyntaxName, 'JPEG Extended (Process 2 & 4)');
  });

  it('8-bit JPEG Extended (process 2): close to the 8-bit original', async () => {
    const ours = await stored('jpeg-extended-8bit.dcm');
    const original = Array.from(pattern12(), (v) => v >> 4);
    const meanError = ours.reduce((sum, v, i) => sum + Math.abs(v - original[i]!), 0) / N;
    assert.ok(meanError < 2, `mean error ${meanError} of 255`);
  });

  it('High-Throughput JPEG 2000 (lossless, OpenJPH): exactly the stored pattern', async () => {
    assert.deepEqual(await stored('htj2k-lossless.dcm'), Array.from(pattern12()));
    const input = await dicomToModelInput(fixture('htj2k-lossless.dcm'));
    const reference = await dicomToModelInput(fixture('explicit-le.dcm'));
    assert.deepEqual(input.pixels, reference.pixels);
  });

  it('files without preamble, without "DICM", or without any file meta are read', async () => {
    const whole = fixture('explicit-le.dcm');
    const reference = await dicomToModelInput(whole);
    for (const [name, bytes] of [
      ['no-preamble', whole.subarray(128)],
      ['meta-only', whole.subarray(132)],
      ['bare dataset (dcmconv -F)', fixture('bare-dataset-implicit.dcm')],
    ] as const) {
      const input = await dicomToModelInput(bytes);
      assert.deepEqual(input.pixels, reference.pixels, name);
    }
    assert.equal(parseDicomImage(fixture('bare-dataset-implicit.dcm')).header.layout, 'bare-dataset');
    // a bare Explicit VR Big Endian dataset: the big-endian file without its preamble and meta
    const be = fixture('explicit-be.dcm');
    const metaLength = Buffer.from(be.buffer, be.byteOffset).readUInt32LE(140);
    const bareBigEndian = await dicomToModelInput(be.subarray(144 + metaLength));
    assert.deepEqual(bareBigEndian.pixels, reference.pixels, 'bare big endian dataset');
  });

  it('multi-frame greyscale: the first frame, native and JPEG Lossless, and the frame count is reported', async () => {
    const first = Array.from(patternFrames().subarray(0, N));
    assert.deepEqual(await stored('multiframe.dcm'), first);
    assert.deepEqual(await stored('multiframe-jpeg-lossless.dcm'), first);
    const input = await dicomToModelInput(fixture('multiframe-jpeg-lossless.dcm'));
    assert.equal(input.meta.numberOfFrames, 3);
  });

  describe('colour radiographs are converted to grey', () => {
    const rgb = patternRgb();
    const lumaOf = Array.from({ length: N }, (_, i) => luma(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!));
    const yOf = Array.from(
      { length: N },
      (_, i) => ybrFull(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!)[0],
    );

    it('RGB, interleaved and planar, and RGB in RLE: BT.601 luminance', async () => {
      assert.deepEqual(await stored('rgb.dcm'), lumaOf);
      assert.deepEqual(await stored('rgb-planar.dcm'), lumaOf);
      assert.deepEqual(await stored('rgb-rle.dcm'), lumaOf);
    });

    it('YBR_FULL and YBR_FULL_422 (native): the Y component', async () => {
      assert.deepEqual(await stored('ybr-full.dcm'), yOf);
      assert.deepEqual(await stored('ybr-full-422.dcm'), yOf);
    });

    it('JPEG Baseline in YBR_FULL_422 (DCMTK from the RGB file): close to the luminance', async () => {
      const ours = await stored('rgb-jpeg-baseline.dcm');
      const meanError = ours.reduce((sum, v, i) => sum + Math.abs(v - lumaOf[i]!), 0) / N;
      assert.ok(meanError < 2, `mean error ${meanError} of 255`);
      const input = await dicomToModelInput(fixture('rgb-jpeg-baseline.dcm'));
      assert.equal(input.meta.photometricInterpretation, 'YBR_FULL_422');
      assert.equal(input.meta.inverted, false);
    });
  });
});

describe('docs/imaging-encodings.md', () => {
  it('is the table the catalogues generate (run npx tsx scripts/imaging-encodings-doc.ts)', async () => {
    const { DOC_PATH, renderEncodingsDoc } = await import('../../../scripts/imaging-encodings-doc.ts');
    assert.equal(readFileSync(DOC_PATH, 'utf8'), renderEncodingsDoc());
  });
});
