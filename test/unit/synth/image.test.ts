import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  drawAnatomy,
  renderChestImage,
  SUBTLE_SEVERITY,
  type FractureKind,
  type FractureSpec,
} from '../../../tools/synth/chest-image.ts';
import { Rng } from '../../../tools/synth/prng.ts';

const S = 512;
const H = S / 2;

/** 2x2 area average: what the detector sees at 256x256. */
function half(a: Float32Array): Float32Array {
  const o = new Float32Array(H * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < H; x++) {
      const i = 2 * y * S + 2 * x;
      o[y * H + x] =
        ((a[i] as number) + (a[i + 1] as number) + (a[i + S] as number) + (a[i + S + 1] as number)) / 4;
    }
  }
  return o;
}

function render(seed: number, fractures: FractureSpec[]) {
  const rng = new Rng(seed);
  const anatomy = drawAnatomy(rng, {
    cardiomegaly: seed % 5 === 0,
    effusion: seed % 7 === 0 ? 'left' : null,
    degenerativeSpine: seed % 3 === 0,
  });
  return renderChestImage(rng, anatomy, fractures, { size: S, view: seed % 4 === 0 ? 'AP' : 'PA' });
}

const KINDS: FractureKind[] = ['gap', 'step', 'line', 'callus'];

test('every fracture, subtle ones included, changes the 256x256 image inside its box and nowhere else', () => {
  const contrasts: number[] = [];
  for (let i = 0; i < 24; i++) {
    const kind = KINDS[i % 4] as FractureKind;
    const spec: FractureSpec = {
      class: i % 6 === 5 ? 'clavicle' : 'rib',
      side: i % 2 === 0 ? 'left' : 'right',
      rib: 3 + (i % 8),
      acuity: kind === 'callus' ? (i % 8 < 4 ? 'healing' : 'old') : 'acute',
      kind,
      along: (i * 0.37) % 1,
      severity: (i % 3) * 0.45,
    };
    const withF = render(100 + i, [spec]);
    const without = render(100 + i, []);
    assert.equal(withF.fractures.length, 1);
    const f = withF.fractures[0]!;
    assert.equal(f.subtle, spec.severity < SUBTLE_SEVERITY);
    const [x0, y0, x1, y1] = f.box;
    assert.ok(x0 >= 0 && y0 >= 0 && x1 <= S && y1 <= S && x1 > x0 && y1 > y0, `box ${f.box}`);
    // Boxes stay lesion-sized: a few detector cells at stride 4 on 256 px.
    assert.ok(x1 - x0 <= 0.16 * S && y1 - y0 <= 0.2 * S, `box ${f.box} is too large`);
    const a = half(withF.intensity);
    const b = half(without.intensity);
    let inside = 0;
    let outside = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < H; x++) {
        const d = Math.abs((a[y * H + x] as number) - (b[y * H + x] as number));
        if (2 * x + 1 >= x0 && 2 * x < x1 && 2 * y + 1 >= y0 && 2 * y < y1) inside = Math.max(inside, d);
        else outside = Math.max(outside, d);
      }
    }
    contrasts.push(inside);
    // Quantum noise at 256 px is about 0.005: 0.025 is several sigma.
    assert.ok(
      inside >= 0.025,
      `fracture ${i} (${kind}, severity ${spec.severity}) changes the image by only ${inside.toFixed(4)}`,
    );
    assert.ok(outside <= 1e-6, `fracture ${i} (${kind}) changes the image outside its box by ${outside}`);
  }
  // A spread of conspicuity, not one easy contrast.
  contrasts.sort((p, q) => p - q);
  assert.ok(
    (contrasts[contrasts.length - 1] as number) > 2 * (contrasts[0] as number),
    `contrasts ${contrasts.map((c) => c.toFixed(3))}`,
  );
});

test('side and rib number in the truth match the image: patient right is the image left', () => {
  for (const side of ['left', 'right'] as const) {
    const r = render(7, [
      { class: 'rib', side, rib: 6, acuity: 'acute', kind: 'gap', along: 0.5, severity: 0.8 },
    ]);
    const f = r.fractures[0]!;
    const cx = (f.box[0] + f.box[2]) / 2;
    assert.equal(f.rib, 6);
    assert.ok(side === 'right' ? cx < S / 2 : cx > S / 2, `${side} fracture centred at x=${cx}`);
  }
  const r4 = render(7, [
    { class: 'rib', side: 'left', rib: 4, acuity: 'acute', kind: 'gap', along: 0.5, severity: 0.8 },
  ]).fractures[0]!;
  const r8 = render(7, [
    { class: 'rib', side: 'left', rib: 8, acuity: 'acute', kind: 'gap', along: 0.5, severity: 0.8 },
  ]).fractures[0]!;
  assert.ok(r8.box[1] > r4.box[1], 'lower ribs are lower in the image');
});

test('intensities stay in [0, 1] and the image has chest-like structure (dark lungs, bright mediastinum)', () => {
  const img = render(3, []).intensity;
  let min = Infinity;
  let max = -Infinity;
  for (const v of img) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  assert.ok(min >= 0 && max <= 1);
  const mean = (x0: number, y0: number, w: number): number => {
    let s = 0;
    for (let y = y0; y < y0 + w; y++) for (let x = x0; x < x0 + w; x++) s += img[y * S + x] as number;
    return s / (w * w);
  };
  const lung = mean(Math.round(S * 0.25), Math.round(S * 0.4), 20);
  const mediastinum = mean(Math.round(S * 0.5) - 10, Math.round(S * 0.35), 20);
  assert.ok(mediastinum > lung + 0.15, `mediastinum ${mediastinum} vs lung ${lung}`);
});
