import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeFrame, dicomToModelInput, parseDicomImage } from '../../../services/shared/imaging/index.ts';
import { COLUMNS, pattern12, ROWS } from '../../../scripts/make-dicom-fixtures.ts';

// test/fixtures/dicom/ holds one 64x48 12-bit pattern in each transfer syntax, written by
// scripts/make-dicom-fixtures.ts with independent encoders (DCMTK, OpenJPEG).
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/dicom/${name}`, import.meta.url)));
const NATIVE_SIZE = { size: { width: COLUMNS, height: ROWS } };

const LOSSLESS = [
  ['implicit-le.dcm', 'Implicit VR Little Endian'],
  ['deflated.dcm', 'Deflated Explicit VR Little Endian'],
  ['rle.dcm', 'RLE Lossless'],
  ['jpeg-lossless-sv1.dcm', 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [SV1])'],
  ['jpeg-lossless-p14.dcm', 'JPEG Lossless, Non-Hierarchical (Process 14)'],
  ['jpeg-ls-lossless.dcm', 'JPEG-LS Lossless'],
  ['jpeg-2000-lossless.dcm', 'JPEG 2000 Image Compression (Lossless Only)'],
] as const;

describe('DICOM transfer syntaxes', () => {
  it('explicit VR little endian decodes to exactly the stored pattern', async () => {
    const { header, frame } = parseDicomImage(fixture('explicit-le.dcm'));
    assert.deepEqual(Array.from(await decodeFrame(header, frame)), Array.from(pattern12()));
    assert.equal(header.sopInstanceUid, '1.2.826.0.1.3680043.10.1.1');
  });

  for (const [file, name] of LOSSLESS) {
    it(`${name}: same stored values and same model input as the uncompressed file`, async () => {
      const { header, frame } = parseDicomImage(fixture(file));
      assert.equal(header.transferSyntax.name, name);
      assert.deepEqual(Array.from(await decodeFrame(header, frame)), Array.from(pattern12()));
      const reference = await dicomToModelInput(fixture('explicit-le.dcm'));
      const decoded = await dicomToModelInput(fixture(file));
      assert.equal(decoded.meta.transferSyntaxName, name);
      assert.deepEqual(decoded.pixels, reference.pixels);
    });
  }

  it('JPEG-LS near-lossless (NEAR = 2): every stored value within 2 of the original', async () => {
    const { header, frame } = parseDicomImage(fixture('jpeg-ls-near-lossless.dcm'));
    const decoded = await decodeFrame(header, frame);
    const original = pattern12();
    decoded.forEach((v, i) =>
      assert.ok(Math.abs(v - original[i]!) <= 2, `pixel ${i}: ${v} vs ${original[i]}`),
    );
  });

  it('JPEG baseline (8-bit, quality 95): close to the uncompressed 8-bit image', async () => {
    const reference = await dicomToModelInput(fixture('explicit-le-8bit.dcm'), NATIVE_SIZE);
    const decoded = await dicomToModelInput(fixture('jpeg-baseline.dcm'), NATIVE_SIZE);
    assert.equal(decoded.meta.transferSyntaxName, 'JPEG Baseline (Process 1)');
    let sum = 0;
    decoded.pixels.forEach((v, i) => (sum += Math.abs(v - reference.pixels[i]!)));
    const meanAbs = sum / decoded.pixels.length;
    assert.ok(meanAbs < 0.01, `mean absolute difference ${meanAbs}`);
  });

  it('reports what it read in the metadata', async () => {
    const r = await dicomToModelInput(fixture('rle.dcm'), { size: 32 });
    assert.equal(r.width, 32);
    assert.deepEqual(
      {
        rows: r.meta.rows,
        columns: r.meta.columns,
        bitsStored: r.meta.bitsStored,
        photometric: r.meta.photometricInterpretation,
        window: r.meta.window.source,
        ts: r.meta.transferSyntaxUid,
        view: r.meta.viewPosition,
      },
      {
        rows: 48,
        columns: 64,
        bitsStored: 12,
        photometric: 'MONOCHROME2',
        window: 'dicom',
        ts: '1.2.840.10008.1.2.5',
        view: 'PA',
      },
    );
  });
});
