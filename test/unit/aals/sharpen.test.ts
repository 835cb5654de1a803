import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  SharpenOptionError,
  makeTarget,
  sharpenAALS,
  sharpenAsymmetric,
  sharpenSymmetric,
} from '../../../services/shared/aals/index.ts';
import { sharpenAALS as fromMainEntry } from '../../../services/shared/index.ts';

// A direct, deliberately naive transcription of PAPER.md, in float64, to compare against.
const logit = (p: number) => Math.log(p) - Math.log(1 - p);
const expit = (x: number) => 1 / (1 + Math.exp(-x));
const clamp = (y: number, eps: number) => Math.min(Math.max(y, eps), 1 - eps);
function paperTarget(y: number, yMax: number, t: number, a0: number, eps: number): number {
  const a = a0 - (a0 - 1) * clamp(yMax, eps);
  const s = expit(a * logit(clamp(y, eps)) + (1 - a) * logit(t));
  return Math.max(s, y);
}
function fixedTarget(y: number, a: number, t: number, eps: number): number {
  return Math.max(expit(a * logit(clamp(y, eps)) + (1 - a) * logit(t)), y);
}
const f32 = (xs: number[]) => Float32Array.from(xs);
const max = (xs: Float32Array) => xs.reduce((m, v) => (v > m ? v : m), -Infinity);

function assertClose(actual: Float32Array, expected: number[], tol = 1e-6) {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => {
    assert.ok(Math.abs(actual[i]! - e) <= tol, `index ${i}: got ${actual[i]}, expected ${e}`);
  });
}

describe('sharpenAALS (PAPER.md: S(y) = expit(a logit(y) + (1-a) logit(t)), a = a0 - (a0-1) y_max, max(S(y), y))', () => {
  const points = [0, 1e-9, 1e-6, 0.01, 0.1, 0.2, 0.35, 0.4, 0.45, 0.5, 0.6, 0.8, 0.99, 1 - 1e-7, 1];

  it('is exported from the package main entry', () => {
    assert.equal(fromMainEntry, sharpenAALS);
  });

  it('equals the formula at many points, with the defaults t = 0.4, a0 = 4, eps = 1e-6', () => {
    for (const yMax of [0.05, 0.3, 0.62]) {
      const ys = points.filter((y) => y <= yMax).concat([yMax]);
      const out = sharpenAALS(f32(ys));
      const yMax32 = Math.fround(yMax);
      assertClose(
        out,
        ys.map((y) => paperTarget(Math.fround(y), yMax32, 0.4, 4, 1e-6)),
      );
    }
  });

  it('equals the formula with other parameters', () => {
    const ys = [0.02, 0.15, 0.3, 0.41, 0.55, 0.7];
    const out = sharpenAALS(f32(ys), { t: 0.3, a0: 6, eps: 1e-3 });
    assertClose(
      out,
      ys.map((y) => paperTarget(Math.fround(y), Math.fround(0.7), 0.3, 6, 1e-3)),
    );
  });

  it('has full strength a0 when the map is all zero (y_max = 0, clamped to eps) and still returns zeros', () => {
    const out = sharpenAALS(new Float32Array(16));
    // S(0) with a = 4 - 3 eps is ~1e-22: max(S(0), 0) rounds to 0 in float32... but never below 0.
    for (const v of out) assert.ok(v >= 0 && v < 1e-20);
  });

  it('is the identity when y_max = 1 (a = 1 + 3 eps, essentially no sharpening)', () => {
    const ys = [0.01, 0.2, 0.4, 0.7, 1];
    const out = sharpenAALS(f32(ys));
    assertClose(
      out,
      ys.map((y) => paperTarget(Math.fround(y), 1, 0.4, 4, 1e-6)),
    );
    assertClose(out, ys, 1e-5);
  });

  it('never lowers a probability: target >= y everywhere (the max(S(y), y) property)', () => {
    const ys = Array.from({ length: 101 }, (_, i) => i / 100);
    for (const yMax of [0.1, 0.5, 1]) {
      const map = f32(ys.map((y) => y * yMax));
      const out = sharpenAALS(map);
      map.forEach((y, i) => assert.ok(out[i]! >= y, `y=${y} -> ${out[i]}`));
    }
  });

  it('pushes values above t up and leaves values below t unchanged (S < y there, so the max keeps y)', () => {
    const out = sharpenAALS(f32([0.2, 0.39, 0.41, 0.5]));
    assert.equal(out[0], Math.fround(0.2));
    assert.equal(out[1], Math.fround(0.39));
    assert.ok(out[2]! > Math.fround(0.41));
    // At y = y_max = 0.5: a = 4 - 3 * 0.5 = 2.5, S = expit(0 - 1.5 * logit(0.4)) = expit(1.5 ln 1.5) = 0.6475.
    assert.ok(Math.abs(out[3]! - 0.647529) < 1e-6, `${out[3]}`);
  });

  it('is stronger for a less confident teacher (smaller y_max gives larger a)', () => {
    const weak = sharpenAALS(f32([0.45, 0.5]))[0]!;
    const strong = sharpenAALS(f32([0.45, 0.95]))[0]!;
    assert.ok(weak > strong, `${weak} > ${strong}`);
  });

  it('does not modify its input', () => {
    const map = f32([0.1, 0.5, 0.6]);
    sharpenAALS(map);
    assert.deepEqual(Array.from(map), Array.from(f32([0.1, 0.5, 0.6])));
  });

  it('rejects bad options and maps with a clear error', () => {
    const map = f32([0.5]);
    assert.throws(() => sharpenAALS(map, { t: 0 }), /t must be in \(0, 1\), got 0/);
    assert.throws(() => sharpenAALS(map, { t: 1 }), /t must be in \(0, 1\)/);
    assert.throws(() => sharpenAALS(map, { a0: 0.5 }), /a0 must be a finite number >= 1, got 0.5/);
    assert.throws(() => sharpenAALS(map, { a0: Infinity }), /a0 must be/);
    assert.throws(() => sharpenAALS(map, { eps: 0 }), /eps must be in \(0, 0.5\)/);
    assert.throws(() => sharpenAALS(map, { eps: 0.5 }), /eps must be in \(0, 0.5\)/);
    assert.throws(() => sharpenAALS(new Float32Array(0)), /empty/);
    assert.throws(() => sharpenAALS(f32([0.1, NaN])), /NaN at index 1/);
    assert.throws(() => sharpenAALS(map, { t: NaN }), SharpenOptionError);
  });
});

describe('fixed-strength ablations', () => {
  const ys = [0, 0.1, 0.3, 0.45, 0.5, 0.55, 0.8, 1];

  it('sharpenSymmetric is the formula with t = 0.5 and the given a (default 4)', () => {
    assertClose(
      sharpenSymmetric(f32(ys)),
      ys.map((y) => fixedTarget(Math.fround(y), 4, 0.5, 1e-6)),
    );
    assertClose(
      sharpenSymmetric(f32(ys), { a: 2 }),
      ys.map((y) => fixedTarget(Math.fround(y), 2, 0.5, 1e-6)),
    );
  });

  it('symmetric leaves 0.45 unchanged but asymmetric (t = 0.4) raises it', () => {
    assert.equal(sharpenSymmetric(f32([0.45]))[0], Math.fround(0.45));
    assert.ok(sharpenAsymmetric(f32([0.45]))[0]! > 0.6);
  });

  it('sharpenAsymmetric is the formula with t = 0.4 and a fixed a, whatever the map maximum', () => {
    for (const top of [0.5, 0.99]) {
      const map = f32([...ys.filter((y) => y < top), top]);
      assertClose(
        sharpenAsymmetric(map, { a: 3 }),
        Array.from(map, (y) => fixedTarget(y, 3, 0.4, 1e-6)),
      );
    }
  });

  it('a = 1 leaves the map unchanged', () => {
    assertClose(sharpenSymmetric(f32(ys), { a: 1 }), ys, 1e-6);
  });

  it('rejects a < 1', () => {
    assert.throws(() => sharpenSymmetric(f32(ys), { a: 0.9 }), /a must be a finite number >= 1/);
  });
});

describe('makeTarget', () => {
  const map = f32([0.05, 0.3, 0.55]);

  it('negative records get all zeros whatever the method', () => {
    for (const method of ['none', 'symmetric', 'asymmetric', 'aals'] as const) {
      assert.deepEqual(Array.from(makeTarget(method, map, 'negative')!), [0, 0, 0]);
    }
  });

  it('uncertain records get no target', () => {
    assert.equal(makeTarget('aals', map, 'uncertain'), null);
  });

  it("positive records: 'none' copies the map, the others call their sharpening", () => {
    const none = makeTarget('none', map, 'positive')!;
    assert.deepEqual(Array.from(none), Array.from(map));
    assert.notEqual(none, map);
    assert.deepEqual(makeTarget('aals', map, 'positive', { a0: 3 }), sharpenAALS(map, { a0: 3 }));
    assert.deepEqual(makeTarget('symmetric', map, 'positive', { a: 2 }), sharpenSymmetric(map, { a: 2 }));
    assert.deepEqual(makeTarget('asymmetric', map, 'positive'), sharpenAsymmetric(map));
    assert.ok(max(makeTarget('aals', map, 'positive')!) > 0.55);
  });

  it('rejects unknown methods and statuses', () => {
    assert.throws(
      () => makeTarget('sharpest' as 'aals', map, 'positive'),
      /unknown target method "sharpest"/,
    );
    assert.throws(() => makeTarget('aals', map, 'maybe' as 'positive'), /unknown record status "maybe"/);
  });
});
