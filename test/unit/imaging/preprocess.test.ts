import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dicomToModelInput, type ModelInputOptions } from '../../../services/shared/imaging/index.ts';
import { bytes16, writeDicom, type DicomWriteSpec } from '../../support/dicom-writer.ts';

/** A one-row 16-bit image with the given stored values, decoded at its own size (no resizing). */
async function row16(values: number[], spec: Partial<DicomWriteSpec> = {}, options: ModelInputOptions = {}) {
  const file = writeDicom({
    rows: 1,
    columns: values.length,
    bitsAllocated: 16,
    pixelBytes: bytes16(values),
    ...spec,
  });
  return dicomToModelInput(file, { size: { width: values.length, height: 1 }, ...options });
}

function assertPixels(actual: Float32Array, expected: number[], tol = 1e-6) {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) =>
    assert.ok(Math.abs(actual[i]! - e) <= tol, `pixel ${i}: got ${actual[i]}, expected ${e}`),
  );
}

describe('VOI window (DICOM linear: c - 0.5 -/+ (w - 1)/2 map to 0 and 1)', () => {
  it('applies WindowCenter/WindowWidth to the stored values', async () => {
    // c = 2000, w = 2001: lower 999.5, upper 2999.5, so v -> (v - 999.5) / 2000, clamped.
    const r = await row16([0, 1000, 2000, 4095], { windowCenter: 2000, windowWidth: 2001 });
    assertPixels(r.pixels, [0, 0.00025, 0.50025, 1]);
    assert.deepEqual(r.meta.window, {
      lower: 999.5,
      upper: 2999.5,
      source: 'dicom',
      center: 2000,
      width: 2001,
    });
  });

  it('uses the first of several window values', async () => {
    const r = await row16([0, 1000, 2000, 4095], { windowCenter: '2000\\40', windowWidth: '2001\\400' });
    assertPixels(r.pixels, [0, 0.00025, 0.50025, 1]);
  });

  it('falls back to min/max when asked and the file has no window', async () => {
    const r = await row16([10, 20, 30, 50], {}, { windowFallback: 'minmax' });
    assertPixels(r.pixels, [0, 0.25, 0.5, 1]);
    assert.equal(r.meta.window.source, 'minmax');
  });

  it('falls back to the 0.5/99.5 percentiles by default (robust to a few extreme pixels)', async () => {
    // 1000 values 0..999 plus two outliers would stretch min/max; percentiles ignore them.
    const values = Array.from({ length: 1000 }, (_, i) => i);
    const file = writeDicom({ rows: 20, columns: 50, bitsAllocated: 16, pixelBytes: bytes16(values) });
    const r = await dicomToModelInput(file, { size: 8, percentiles: [1, 99] });
    // ranks floor(0.01 * 999) = 9 and ceil(0.99 * 999) = 990 of the sorted values.
    assert.deepEqual(r.meta.window, { lower: 9, upper: 990, source: 'percentiles' });
    const d = await dicomToModelInput(file, { size: 8 });
    assert.deepEqual([d.meta.window.lower, d.meta.window.upper], [4, 995]);
  });

  it('ignores a window width below 1 and falls back', async () => {
    const r = await row16(
      [10, 20, 30, 50],
      { windowCenter: 20, windowWidth: 0 },
      { windowFallback: 'minmax' },
    );
    assert.equal(r.meta.window.source, 'minmax');
  });

  it('maps a constant image to 0 instead of dividing by zero', async () => {
    const r = await row16([7, 7, 7], {}, { windowFallback: 'minmax' });
    assertPixels(r.pixels, [0, 0, 0]);
  });
});

describe('modality rescale, signed pixels, MONOCHROME1', () => {
  it('applies RescaleSlope and RescaleIntercept before the window', async () => {
    // modality = 2 * stored - 100 = [-100, 100, 300, 500]; c 200.5 w 601 -> lower -100, upper 500.
    const r = await row16([0, 100, 200, 300], {
      rescaleSlope: 2,
      rescaleIntercept: -100,
      windowCenter: 200.5,
      windowWidth: 601,
    });
    assertPixels(r.pixels, [0, 1 / 3, 2 / 3, 1]);
  });

  it('reads two-s complement pixels when PixelRepresentation is 1', async () => {
    // lower = 0.5 - 0.5 - 1000 = -1000, upper = 1000.
    const r = await row16([-1000, 0, 1000, 500], {
      pixelRepresentation: 1,
      windowCenter: 0.5,
      windowWidth: 2001,
    });
    assertPixels(r.pixels, [0, 0.5, 1, 0.75]);
  });

  it('sign-extends from BitsStored and ignores bits above it', async () => {
    // 12-bit signed: 0x0FFB = -5, 0x07FF = 2047, 0x0800 = -2048; 0xF000 bits above are junk.
    const r = await row16(
      [0x0ffb, 0x07ff, 0x0800, 0xf000 | 0x0ffb],
      { pixelRepresentation: 1, bitsStored: 12 },
      { windowFallback: 'minmax' },
    );
    assertPixels(r.pixels, [2043 / 4095, 1, 0, 2043 / 4095]);
  });

  it('masks unsigned values to BitsStored', async () => {
    const r = await row16([0xf000, 0x0fff, 0x0800], { bitsStored: 12 }, { windowFallback: 'minmax' });
    assertPixels(r.pixels, [0, 1, 2048 / 4095]);
  });

  it('inverts MONOCHROME1 after windowing, so that bone is bright', async () => {
    const spec = { windowCenter: 2000, windowWidth: 2001 };
    const r = await row16([0, 1000, 2000, 4095], { ...spec, photometricInterpretation: 'MONOCHROME1' });
    assertPixels(r.pixels, [1, 0.99975, 0.49975, 0]);
    assert.equal(r.meta.inverted, true);
  });

  it('reads 8-bit images', async () => {
    const file = writeDicom({
      rows: 1,
      columns: 3,
      bitsAllocated: 8,
      pixelBytes: Uint8Array.from([0, 51, 255]),
    });
    const r = await dicomToModelInput(file, { size: { width: 3, height: 1 }, windowFallback: 'minmax' });
    assertPixels(r.pixels, [0, 0.2, 1]);
  });
});

describe('resizing to the model input by area averaging', () => {
  const minmax = { windowFallback: 'minmax' } as const;

  it('averages 2x2 blocks when halving', async () => {
    // 4x4 values 0..15, minmax window -> v / 15; each output = mean of its 2x2 block.
    const values = Array.from({ length: 16 }, (_, i) => i);
    const file = writeDicom({ rows: 4, columns: 4, bitsAllocated: 16, pixelBytes: bytes16(values) });
    const r = await dicomToModelInput(file, { size: 2, ...minmax });
    assertPixels(r.pixels, [2.5 / 15, 4.5 / 15, 10.5 / 15, 12.5 / 15]);
  });

  it('weights pixels by the fraction of them each output covers (3 -> 2)', async () => {
    // normalised [0, 0.5, 1]; output 0 covers input [0, 1.5): (1 * 0 + 0.5 * 0.5) / 1.5 = 1/6,
    // output 1 covers [1.5, 3): (0.5 * 0.5 + 1 * 1) / 1.5 = 5/6.
    const r = await row16([0, 50, 100], {}, { size: { width: 2, height: 1 }, ...minmax });
    assertPixels(r.pixels, [1 / 6, 5 / 6]);
  });

  it('repeats pixels when upscaling', async () => {
    const r = await row16([0, 100], {}, { size: { width: 4, height: 2 }, ...minmax });
    assertPixels(r.pixels, [0, 0, 1, 1, 0, 0, 1, 1]);
  });

  it('defaults to 256x256 and keeps the mean intensity', async () => {
    const values = Array.from({ length: 30 * 40 }, (_, i) => (i * 37) % 1000);
    const file = writeDicom({ rows: 30, columns: 40, bitsAllocated: 16, pixelBytes: bytes16(values) });
    const small = await dicomToModelInput(file, { size: { width: 40, height: 30 }, ...minmax });
    const big = await dicomToModelInput(file, minmax);
    assert.equal(big.width, 256);
    assert.equal(big.height, 256);
    assert.equal(big.pixels.length, 256 * 256);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(mean(big.pixels) - mean(small.pixels)) < 1e-4);
  });

  it('rejects a bad size with a clear error', async () => {
    await assert.rejects(
      row16([1, 2], {}, { size: 0 }),
      /model input width must be an integer in 1..8192, got 0/,
    );
  });
});
