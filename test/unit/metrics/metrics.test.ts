import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { auroc, findDetections, froc, FROC_RATES, type Box } from '../../../services/shared/metrics/index.ts';

// The hand-computed cases shared with the distiller's tests; each case says why in "why".
interface MapJson {
  height: number;
  width: number;
  values: number[];
}
const cases = JSON.parse(
  readFileSync(new URL('../../fixtures/metrics-cases.json', import.meta.url), 'utf8'),
) as {
  auroc: { name: string; scores: number[]; labels: number[]; expected: number | null }[];
  detections: {
    name: string;
    map: MapJson;
    suppressionRadius: number;
    expected: { x: number; y: number; score: number }[];
  }[];
  froc: {
    name: string;
    suppressionRadius: number;
    rates: number[];
    images: { map: MapJson; boxes: Box[] }[];
    expected: {
      totalBoxes: number;
      images: number;
      curve: {
        threshold: number;
        truePositives: number;
        falsePositives: number;
        fpPerImage: number;
        sensitivity: number | null;
      }[];
      sensitivities: (number | null)[];
      score: number | null;
    };
  }[];
};

/** null in the fixture stands for NaN. */
function assertNumber(actual: number, expected: number | null, what: string) {
  if (expected === null) assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
  else assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: expected ${expected}, got ${actual}`);
}

describe('auroc: hand-computed cases (test/fixtures/metrics-cases.json)', () => {
  for (const c of cases.auroc) {
    it(c.name, () => assertNumber(auroc(c.scores, c.labels), c.expected, c.name));
  }

  it('does not depend on input order', () => {
    const scores = [0.3, 0.9, 0.7, 0.7, 0.1, 0.5];
    const labels = [0, 1, 1, 0, 0, 1];
    const perm = [5, 2, 0, 4, 1, 3];
    assert.equal(
      auroc(
        perm.map((i) => scores[i]!),
        perm.map((i) => labels[i]!),
      ),
      auroc(scores, labels),
    );
  });

  it('rejects mismatched lengths, non-binary labels and NaN scores', () => {
    assert.throws(() => auroc([0.1, 0.2], [1]), /2 scores but 1 labels/);
    assert.throws(() => auroc([0.1, 0.2], [1, 2]), /labels must be 0\/1/);
    assert.throws(() => auroc([0.1, NaN], [1, 0]), /score 1 is NaN/);
  });
});

describe('findDetections: local maxima with greedy neighbour suppression', () => {
  for (const c of cases.detections) {
    it(c.name, () => assert.deepEqual(findDetections(c.map, c.suppressionRadius), c.expected));
  }

  it('rejects a map whose values do not match its size', () => {
    assert.throws(() => findDetections({ height: 2, width: 2, values: [0, 1, 0] }), /needs 4 values, got 3/);
  });
});

describe('froc: hand-computed cases', () => {
  for (const c of cases.froc) {
    it(c.name, () => {
      const result = froc(c.images, { suppressionRadius: c.suppressionRadius, rates: c.rates });
      assert.equal(result.totalBoxes, c.expected.totalBoxes);
      assert.equal(result.images, c.expected.images);
      assert.equal(result.curve.length, c.expected.curve.length, 'number of sweep points');
      c.expected.curve.forEach((point, i) => {
        const got = result.curve[i]!;
        assertNumber(got.threshold, point.threshold, `curve[${i}].threshold`);
        assert.equal(got.truePositives, point.truePositives, `curve[${i}].truePositives`);
        assert.equal(got.falsePositives, point.falsePositives, `curve[${i}].falsePositives`);
        assertNumber(got.fpPerImage, point.fpPerImage, `curve[${i}].fpPerImage`);
        assertNumber(got.sensitivity, point.sensitivity, `curve[${i}].sensitivity`);
      });
      c.expected.sensitivities.forEach((s, i) =>
        assertNumber(result.sensitivities[i]!, s, `rate ${c.rates[i]}`),
      );
      assertNumber(result.score, c.expected.score, 'score');
    });
  }

  it('uses the paper rates 0.125 to 8 FP/image by default', () => {
    assert.deepEqual(FROC_RATES, [0.125, 0.25, 0.5, 1, 2, 4, 8]);
    const c = cases.froc[0]!;
    assert.deepEqual(froc(c.images, { suppressionRadius: c.suppressionRadius }).rates, c.rates);
  });

  it('gives the same result for float32 maps (as the model outputs)', () => {
    const c = cases.froc[0]!;
    const images = c.images.map((im) => ({
      ...im,
      map: { ...im.map, values: Float32Array.from(im.map.values) },
    }));
    assert.equal(froc(images, { suppressionRadius: c.suppressionRadius }).score, c.expected.score);
  });

  it('rejects an empty image list and inverted boxes', () => {
    assert.throws(() => froc([]), /no images/);
    const map = { height: 2, width: 2, values: [0, 0, 0, 0] };
    assert.throws(() => froc([{ map, boxes: [[2, 0, 1, 1]] }]), /bad box \[2, 0, 1, 1\]/);
  });
});
