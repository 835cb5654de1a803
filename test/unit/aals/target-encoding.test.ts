import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  dequantiseTarget,
  mapMax,
  quantiseTarget,
  targetStats,
} from '../../../services/shared/aals/target-encoding.ts';

describe('target quantisation', () => {
  it('round-trips every map within half a step (1/510)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (values) => {
          const map = Float32Array.from(values);
          const back = dequantiseTarget(quantiseTarget(map), 1, map.length);
          for (let i = 0; i < map.length; i++) assert.ok(Math.abs(back[i]! - map[i]!) <= 1 / 510 + 1e-7);
        },
      ),
    );
  });

  it('keeps 0 and 1 exact and clamps values outside [0, 1]', () => {
    assert.deepEqual([...quantiseTarget(Float32Array.from([0, 1, -0.5, 1.5, 0.5]))], [0, 255, 0, 255, 128]);
  });

  it('refuses bytes that do not match the stated size', () => {
    assert.throws(() => dequantiseTarget(new Uint8Array(5), 2, 3), /5 bytes, expected 2 x 3/);
  });

  it('summarises a map: max, mean, share above 0.5; the image score is the max', () => {
    const map = Float32Array.from([0, 0.25, 0.75, 1]);
    assert.deepEqual(targetStats(map), { max: 1, mean: 0.5, positiveFraction: 0.5 });
    assert.equal(mapMax(Float32Array.from([0.1, 0.7, 0.3])), Math.fround(0.7));
    assert.deepEqual(targetStats(new Float32Array(4)), { max: 0, mean: 0, positiveFraction: 0 });
  });
});
