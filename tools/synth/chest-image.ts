/**
 * Renders a frontal chest radiograph-like image as a float intensity map in [0, 1]
 * (MONOCHROME2 sense: bone and mediastinum bright, lungs and air dark), with fractures drawn on
 * chosen ribs and clavicles and a ground-truth box for each.
 *
 * The model is additive attenuation (soft tissue minus lung air, plus bone, heart, abdomen),
 * then a log-exposure tone curve, detector blur and quantum noise. Everything is vectorised over
 * typed arrays with per-row/per-column precomputation: no per-pixel closures.
 *
 * Image convention: patient's right is on the image left (standard display of PA and AP).
 */
import { Rng } from './prng.ts';

export type FractureClass = 'rib' | 'clavicle';
export type Side = 'left' | 'right';
export type Acuity = 'acute' | 'healing' | 'old';
/** How the fracture looks: a cortical gap, a displaced step-off, a thin lucent line, or callus. */
export type FractureKind = 'gap' | 'step' | 'line' | 'callus';
export type ViewPosition = 'PA' | 'AP';

export interface FractureSpec {
  class: FractureClass;
  side: Side;
  /** Rib number 1-12 for rib fractures. */
  rib?: number;
  acuity: Acuity;
  kind: FractureKind;
  /** Where along the visible posterolateral rib (or clavicle shaft), 0..1. */
  along: number;
  /** Conspicuity 0..1: low values give narrow, shallow, hard-to-see breaks. */
  severity: number;
}

export interface TruthFracture {
  class: FractureClass;
  box: [number, number, number, number];
  acuity: Acuity;
  side: Side;
  rib?: number;
  subtle: boolean;
}

/** What stays the same for one patient across the images of a study. */
export interface ChestAnatomy {
  thoraxHalfWidth: number;
  lungTop: number;
  domeRight: number;
  domeLeftOffset: number;
  cardiothoracicRatio: number;
  ribSpacing: number;
  ribFirst: number;
  ribHalfThickness: number;
  clavicleLevel: number;
  female: boolean;
  effusion: Side | null;
  degenerativeSpine: boolean;
}

export interface ImageRenderOptions {
  size: number;
  view: ViewPosition;
}

export interface RenderedImage {
  /** size*size intensities in [0, 1], row-major. */
  intensity: Float32Array;
  fractures: TruthFracture[];
}

/** Threshold below which a fracture counts as subtle in the ground truth. */
export const SUBTLE_SEVERITY = 0.4;

export function drawAnatomy(
  rng: Rng,
  findings: { cardiomegaly: boolean; effusion: Side | null; degenerativeSpine: boolean },
): ChestAnatomy {
  return {
    thoraxHalfWidth: rng.range(0.385, 0.43),
    lungTop: rng.range(0.085, 0.12),
    domeRight: rng.range(0.67, 0.74),
    domeLeftOffset: rng.range(0.01, 0.035),
    cardiothoracicRatio: findings.cardiomegaly ? rng.range(0.56, 0.64) : rng.range(0.38, 0.48),
    ribSpacing: rng.range(0.056, 0.064),
    ribFirst: rng.range(0.095, 0.115),
    ribHalfThickness: rng.range(0.0115, 0.0135),
    clavicleLevel: rng.range(0.19, 0.23),
    female: rng.bool(0.5),
    effusion: findings.effusion,
    degenerativeSpine: findings.degenerativeSpine,
  };
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
const smooth01 = (v: number): number => {
  const t = clamp01(v);
  return t * t * (3 - 2 * t);
};

/** One bone drawn as a band along a curve y = f(x) (column-parametrised). */
interface Band {
  x0: number;
  x1: number;
  /** centre row at column x */
  yc: Float32Array;
  /** half thickness (vertical, already corrected for slope) at column x */
  half: Float32Array;
  /** peak density at column x */
  density: Float32Array;
  /** inner (marrow) radius as a fraction of the outer one: the cortex is what is left */
  innerRatio: number;
}

function newBand(x0: number, x1: number, innerRatio: number): Band {
  const n = Math.max(1, x1 - x0 + 1);
  return {
    x0,
    x1,
    yc: new Float32Array(n),
    half: new Float32Array(n),
    density: new Float32Array(n),
    innerRatio,
  };
}

/**
 * A fracture applied while a band is drawn: the break line at column xf (tilted), a lucent
 * multiplier inside the gap, an offset of the far fragment, extra thickness and density for callus.
 */
interface BandFracture {
  xf: number;
  /** +1 if the fragment displaced by `step` is at x > xf */
  farDir: number;
  gapHalf: number;
  gapDepth: number;
  tilt: number;
  /** portion of the thickness the break crosses: d from -1 to dMax (1 = complete) */
  dMax: number;
  step: number;
  /** distance along the bone over which the displacement holds before fading */
  stepReach: number;
  callusHalfLen: number;
  callusGrow: number;
  callusDensity: number;
}

function applyBandGeometry(band: Band, fr: BandFracture | null): void {
  if (!fr) return;
  for (let x = band.x0; x <= band.x1; x++) {
    const i = x - band.x0;
    const dx = x - fr.xf;
    if (fr.step !== 0 && dx * fr.farDir > 0) {
      // The far fragment is displaced; blend in over a couple of pixels so the step looks like
      // bone, and fade out along the rib so the evidence stays near the break (inside its box).
      const fade = clamp01(2 - Math.abs(dx) / fr.stepReach);
      band.yc[i] = (band.yc[i] as number) + fr.step * smooth01(Math.abs(dx) / 2) * fade;
    }
    if (fr.callusHalfLen > 0) {
      const q = 1 - (dx * dx) / (fr.callusHalfLen * fr.callusHalfLen);
      const w = q > 0 ? q * q : 0; // compact: nothing beyond the box
      band.half[i] = (band.half[i] as number) * (1 + fr.callusGrow * w);
      band.density[i] = (band.density[i] as number) * (1 + fr.callusDensity * w);
    }
  }
}

function drawBand(mu: Float32Array, size: number, band: Band, fr: BandFracture | null): void {
  const inner = band.innerRatio;
  const inner2 = inner * inner;
  for (let x = Math.max(0, band.x0); x <= Math.min(size - 1, band.x1); x++) {
    const i = x - band.x0;
    const yc = band.yc[i] as number;
    const h = band.half[i] as number;
    const dens = band.density[i] as number;
    if (h <= 0.3 || dens <= 0) continue;
    const y0 = Math.max(0, Math.floor(yc - h - 1));
    const y1 = Math.min(size - 1, Math.ceil(yc + h + 1));
    const invH = 1 / h;
    // Tube chord length: outer cylinder minus most of the marrow gives bright cortical edges.
    const norm = 1 / (1 - 0.55 * inner);
    for (let y = y0; y <= y1; y++) {
      const d = (y - yc) * invH;
      const d2 = d * d;
      if (d2 >= 1) {
        // One-pixel antialiasing at the bone edge.
        const out = (Math.abs(d) - 1) * h;
        if (out < 1) mu[y * size + x] = (mu[y * size + x] as number) + dens * 0.25 * (1 - out);
        continue;
      }
      let chord = Math.sqrt(1 - d2);
      if (d2 < inner2) chord -= 0.55 * Math.sqrt(inner2 - d2);
      let v = dens * chord * norm;
      if (fr && fr.gapDepth > 0 && d <= fr.dMax) {
        const dist = Math.abs(x - (fr.xf + fr.tilt * d * h));
        if (dist < fr.gapHalf + 1) {
          const inside = dist <= fr.gapHalf ? 1 : fr.gapHalf + 1 - dist;
          v *= 1 - fr.gapDepth * inside;
        }
      }
      mu[y * size + x] = (mu[y * size + x] as number) + v;
    }
  }
}

/** Bilinear upsampling of a coarse random grid: cheap low-frequency texture. */
function addLowFrequency(rng: Rng, out: Float32Array, size: number, cells: number, amplitude: number): void {
  const g = cells + 2;
  const grid = new Float32Array(g * g);
  for (let i = 0; i < grid.length; i++) grid[i] = (rng.float() * 2 - 1) * amplitude;
  const scale = cells / size;
  const gx0 = new Int32Array(size);
  const fx = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    const p = x * scale;
    gx0[x] = Math.floor(p);
    fx[x] = p - Math.floor(p);
  }
  for (let y = 0; y < size; y++) {
    const py = y * scale;
    const gy = Math.floor(py);
    const fy = py - gy;
    const r0 = gy * g;
    const r1 = r0 + g;
    const row = y * size;
    for (let x = 0; x < size; x++) {
      const c = gx0[x] as number;
      const f = fx[x] as number;
      const top = (grid[r0 + c] as number) * (1 - f) + (grid[r0 + c + 1] as number) * f;
      const bot = (grid[r1 + c] as number) * (1 - f) + (grid[r1 + c + 1] as number) * f;
      out[row + x] = (out[row + x] as number) + top * (1 - fy) + bot * fy;
    }
  }
}

/** Stamps a vessel tree from a hilum into `vessels` (max-blended discs). */
function drawVesselTree(
  rng: Rng,
  vessels: Float32Array,
  size: number,
  hx: number,
  hy: number,
  dirSign: number,
): void {
  const stack: { x: number; y: number; a: number; r: number; len: number }[] = [];
  const trunks = rng.int(5, 7);
  for (let t = 0; t < trunks; t++) {
    // Angles measured from straight lateral; the fan covers upward to downward.
    const a = -1.25 + (2.4 * (t + rng.float() * 0.6)) / trunks;
    stack.push({ x: hx, y: hy, a, r: size * rng.range(0.0055, 0.0075), len: size * rng.range(0.06, 0.1) });
  }
  let budget = 90;
  while (stack.length > 0 && budget-- > 0) {
    const seg = stack.pop() as { x: number; y: number; a: number; r: number; len: number };
    let { x, y, a } = seg;
    const steps = Math.max(1, Math.round(seg.len / Math.max(1, seg.r * 0.8)));
    const stepLen = seg.len / steps;
    for (let s = 0; s < steps; s++) {
      a += rng.range(-0.12, 0.12);
      x += Math.cos(a) * stepLen * dirSign;
      y += Math.sin(a) * stepLen;
      const r = seg.r;
      const ri = Math.ceil(r);
      const cxp = Math.round(x);
      const cyp = Math.round(y);
      for (let yy = Math.max(0, cyp - ri); yy <= Math.min(size - 1, cyp + ri); yy++) {
        for (let xx = Math.max(0, cxp - ri); xx <= Math.min(size - 1, cxp + ri); xx++) {
          const dd = ((xx - x) * (xx - x) + (yy - y) * (yy - y)) / (r * r);
          if (dd < 1) {
            const v = r * Math.sqrt(1 - dd);
            const k = yy * size + xx;
            if (v > (vessels[k] as number)) vessels[k] = v;
          }
        }
      }
    }
    const r2 = seg.r * rng.range(0.62, 0.78);
    if (r2 > size * 0.0012) {
      const n = rng.bool(0.7) ? 2 : 1;
      for (let b = 0; b < n; b++) {
        stack.push({
          x,
          y,
          a: a + (b === 0 ? -1 : 1) * rng.range(0.2, 0.55),
          r: r2,
          len: seg.len * rng.range(0.7, 0.95),
        });
      }
    }
  }
}

/** Separable [1 2 1]/4 blur in place (detector MTF). */
function blur3(img: Float32Array, size: number, tmp: Float32Array): void {
  for (let y = 0; y < size; y++) {
    const r = y * size;
    tmp[r] = img[r] as number;
    tmp[r + size - 1] = img[r + size - 1] as number;
    for (let x = 1; x < size - 1; x++)
      tmp[r + x] =
        0.25 * ((img[r + x - 1] as number) + 2 * (img[r + x] as number) + (img[r + x + 1] as number));
  }
  for (let x = 0; x < size; x++) {
    img[x] = tmp[x] as number;
    img[(size - 1) * size + x] = tmp[(size - 1) * size + x] as number;
  }
  for (let y = 1; y < size - 1; y++) {
    const r = y * size;
    for (let x = 0; x < size; x++)
      img[r + x] =
        0.25 * ((tmp[r - size + x] as number) + 2 * (tmp[r + x] as number) + (tmp[r + size + x] as number));
  }
}

/** Standard normal variates, one table per image, indexed by a fast xorshift (no per-pixel log/sqrt). */
function normalTable(rng: Rng, n: number): Float32Array {
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = rng.normal();
  return t;
}

function bandFractureFor(
  spec: FractureSpec,
  size: number,
  xf: number,
  half: number,
  farDir: number,
  rng: Rng,
): BandFracture {
  const sev = clamp01(spec.severity);
  // Sizes are fractions of the image so a break stays >= ~2 px after downsampling to 256.
  const minGap = size * 0.0042; // half-width: gap >= ~4.3 px at 512
  const fr: BandFracture = {
    xf,
    farDir,
    gapHalf: 0,
    gapDepth: 0,
    tilt: rng.range(-0.45, 0.45),
    dMax: 1,
    step: 0,
    stepReach: Math.max(2, half * 0.9),
    callusHalfLen: 0,
    callusGrow: 0,
    callusDensity: 0,
  };
  switch (spec.kind) {
    case 'gap':
      fr.gapHalf = minGap + sev * size * 0.004;
      fr.gapDepth = 0.55 + 0.42 * sev;
      fr.step = (rng.bool(0.5) ? 1 : -1) * sev * half * 0.35;
      break;
    case 'step':
      fr.gapHalf = minGap * 0.9 + sev * size * 0.002;
      fr.gapDepth = 0.5 + 0.35 * sev;
      fr.step = (rng.bool(0.5) ? 1 : -1) * (0.35 + 0.5 * sev) * half;
      break;
    case 'line':
      fr.gapHalf = minGap * 0.95;
      fr.gapDepth = 0.42 + 0.4 * sev;
      fr.dMax = rng.bool(0.5) ? 1 : rng.range(0.1, 0.6);
      fr.tilt = rng.range(-0.8, 0.8);
      break;
    case 'callus':
      fr.callusHalfLen = half * rng.range(1.3, 2.2);
      fr.callusGrow = 0.35 + 0.45 * sev;
      fr.callusDensity = 0.25 + 0.35 * sev;
      if (spec.acuity === 'healing') {
        fr.gapHalf = minGap * 0.8;
        fr.gapDepth = 0.3 + 0.25 * sev;
      }
      fr.step = (rng.bool(0.5) ? 1 : -1) * rng.range(0, 0.25) * half;
      break;
  }
  return fr;
}

/**
 * The ground-truth box: every column the fracture changes (gap, displaced run, callus), from the
 * top to the bottom of the bone there before and after displacement, padded, at least `minHalf`.
 */
function fractureBox(
  band: Band,
  ycBefore: Float32Array,
  fr: BandFracture,
  size: number,
  minHalf: number,
): [number, number, number, number] {
  const reach = Math.max(
    fr.gapHalf + Math.abs(fr.tilt) * 1.2 * (band.half[fr.xf - band.x0] as number) + 1,
    fr.step !== 0 ? 2 * fr.stepReach : 0,
    fr.callusHalfLen,
  );
  let y0 = Infinity;
  let y1 = -Infinity;
  for (
    let x = Math.max(band.x0, Math.floor(fr.xf - reach));
    x <= Math.min(band.x1, Math.ceil(fr.xf + reach));
    x++
  ) {
    const i = x - band.x0;
    const h = (band.half[i] as number) + 1.5;
    y0 = Math.min(y0, (band.yc[i] as number) - h, (ycBefore[i] as number) - h);
    y1 = Math.max(y1, (band.yc[i] as number) + h, (ycBefore[i] as number) + h);
  }
  const cy = (y0 + y1) / 2;
  return boxAround(fr.xf, cy, Math.max(minHalf, reach + 2), Math.max(minHalf, (y1 - y0) / 2 + 1), size);
}

function boxAround(
  x: number,
  y: number,
  hw: number,
  hh: number,
  size: number,
): [number, number, number, number] {
  const x0 = Math.max(0, Math.floor(x - hw));
  const y0 = Math.max(0, Math.floor(y - hh));
  const x1 = Math.min(size, Math.ceil(x + hw) + 1);
  const y1 = Math.min(size, Math.ceil(y + hh) + 1);
  return [x0, y0, x1, y1];
}

/** Breaks a band (starting at x = `xa`) at x = `xf`; the fracture and its box, `pad` around the break. */
function breakBand(
  band: Band,
  xa: number,
  spec: FractureSpec,
  S: number,
  xf: number,
  sgn: number,
  frRng: Rng,
  pad: number,
): { fracture: BandFracture; box: TruthFracture['box'] } {
  const fracture = bandFractureFor(spec, S, xf, band.half[xf - xa] as number, sgn, frRng);
  const before = band.yc.slice();
  applyBandGeometry(band, fracture);
  return { fracture, box: fractureBox(band, before, fracture, S, pad) };
}

/** The fractures to draw, their own random stream, and where their ground truth goes. */
interface Breaks {
  specs: readonly FractureSpec[];
  rng: Rng;
  truth: TruthFracture[];
}

/** Right (image left) first: the order the ribs and clavicles are drawn in. */
const SIDES: readonly Side[] = ['right', 'left'];

/** The geometry of one rendered chest, in pixels (per-row and per-column edges as arrays). */
interface ChestGeometry {
  S: number;
  ap: boolean;
  cx: number;
  hw: number;
  lungTop: number;
  domeR: number;
  domeL: number;
  hrx: number;
  hcx: number;
  hcy: number;
  hry: number;
  ribSpacing: number;
  ribFirst: number;
  ribHalf: number;
  clavY: number;
  bodyHalf: Float32Array;
  lat: Float32Array;
  medR: Float32Array;
  medL: Float32Array;
  apex: Float32Array;
  dome: Float32Array;
  diaphragm: Float32Array;
}

/** Where this image's thorax, lungs, heart and diaphragm lie (view and positioning vary per image). */
function chestGeometry(rng: Rng, anatomy: ChestAnatomy, S: number, ap: boolean): ChestGeometry {
  const cx = S * (0.5 + rng.range(-0.018, 0.018));
  const hw = S * anatomy.thoraxHalfWidth * (ap ? 1.03 : 1);
  const lungTop = S * (anatomy.lungTop + (ap ? 0.015 : 0) + rng.range(-0.008, 0.008));
  const domeR = S * (anatomy.domeRight + (ap ? -0.045 : 0) + rng.range(-0.012, 0.012));
  const domeL = domeR + S * anatomy.domeLeftOffset;
  const ctr = anatomy.cardiothoracicRatio * (ap ? 1.12 : 1);
  const heartW = ctr * 2 * hw;
  const hrx = heartW / 2;
  const hcx = cx + heartW * rng.range(0.12, 0.2); // the heart sits mostly to the patient's left
  const hcy = (domeR + domeL) / 2 - S * 0.015;
  const hry = S * rng.range(0.2, 0.24);
  const ribSpacing = S * anatomy.ribSpacing * (ap ? 0.95 : 1);
  const ribFirst = S * (anatomy.ribFirst + (ap ? 0.01 : 0));
  const ribHalf = S * anatomy.ribHalfThickness;
  const clavY = S * (anatomy.clavicleLevel + (ap ? -0.05 : 0));

  // Body outline half-width per row: neck at the top widening over the shoulders.
  const bodyHalf = new Float32Array(S);
  for (let y = 0; y < S; y++) {
    const v = y / S;
    bodyHalf[y] = S * 0.13 + (hw + S * 0.07 - S * 0.13) * smooth01((v + 0.02) / 0.17);
  }

  // Lungs: lateral and medial edges per row, apex and dome per column.
  const lat = new Float32Array(S); // distance from cx to the inner chest wall
  const medR = new Float32Array(S); // right lung (image left) medial edge x
  const medL = new Float32Array(S); // left lung (image right) medial edge x
  for (let y = 0; y < S; y++) {
    const v = y / S;
    lat[y] = hw * (0.86 + 0.14 * smooth01((y - lungTop) / (S * 0.2)));
    const aorticKnob = S * 0.028 * Math.exp(-(((v - 0.27) / 0.035) ** 2));
    let mR = cx - S * 0.055 - S * 0.01 * smooth01((v - 0.3) / 0.2);
    let mL = cx + S * 0.05 + aorticKnob;
    const t = (y - hcy) / hry;
    if (t > -1 && t < 1) {
      const ext = Math.sqrt(1 - t * t);
      mR = Math.min(mR, hcx - hrx * ext);
      mL = Math.max(mL, hcx + hrx * ext);
    }
    if (y > hcy) {
      // Below the heart's widest point the borders meet the diaphragm rather than closing in.
      mR = Math.min(mR, hcx - hrx * 0.8);
      mL = Math.max(mL, hcx + hrx * 0.85);
    }
    medR[y] = mR;
    medL[y] = mL;
  }
  const apex = new Float32Array(S);
  const dome = new Float32Array(S); // where the lung air ends (diaphragm or effusion)
  const diaphragm = new Float32Array(S);
  for (let x = 0; x < S; x++) {
    const right = x < cx;
    const sideC = right ? cx - hw * 0.52 : cx + hw * 0.52;
    const du = (x - sideC) / (hw * 0.5);
    apex[x] = lungTop + S * 0.09 * du * du * (du * (right ? -1 : 1) > 0 ? 1.2 : 0.6);
    const domeTop = right ? domeR : domeL;
    const dd = (x - (right ? cx - hw * 0.45 : cx + hw * 0.5)) / (hw * 0.55);
    diaphragm[x] = domeTop + S * 0.05 * dd * dd;
    let airEnd = diaphragm[x] as number;
    const eff = anatomy.effusion;
    if (eff && ((eff === 'right' && right) || (eff === 'left' && !right))) {
      // Meniscus: fluid rises laterally and blunts the costophrenic angle.
      const lateral = Math.abs(x - cx) / hw;
      airEnd = Math.min(airEnd, domeTop - S * 0.04 - S * 0.1 * lateral * lateral);
    }
    dome[x] = airEnd;
  }
  return {
    S,
    ap,
    cx,
    hw,
    lungTop,
    domeR,
    domeL,
    hrx,
    hcx,
    hcy,
    hry,
    ribSpacing,
    ribFirst,
    ribHalf,
    clavY,
    bodyHalf,
    lat,
    medR,
    medL,
    apex,
    dome,
    diaphragm,
  };
}

/** Soft tissue, lungs (with their vessels), heart and abdomen. */
function drawSoftTissue(
  mu: Float32Array,
  vessels: Float32Array,
  g: ChestGeometry,
  anatomy: ChestAnatomy,
): void {
  const { S, cx, hrx, hcx, hcy, hry, bodyHalf, lat, medR, medL, apex, dome, diaphragm } = g;
  const edge = 1 / (S * 0.006);
  const softK = 1.0;
  const airK = 0.62;
  const vesselK = 12 / S;
  const heartK = 0.09;
  const abdK = 0.24;
  const breastK = anatomy.female ? 0.1 : 0.03;
  for (let y = 0; y < S; y++) {
    const row = y * S;
    const bh = bodyHalf[y] as number;
    const invBh = 1 / bh;
    const latY = lat[y] as number;
    const lx0 = cx - latY;
    const lx1 = cx + latY;
    const mRy = medR[y] as number;
    const mLy = medL[y] as number;
    const vy = y / S;
    const airDepth = airK * (0.8 + 0.3 * vy);
    const th = (y - hcy) / hry;
    const breastRow = Math.exp(-(((vy - 0.66) / 0.1) ** 2));
    for (let x = 0; x < S; x++) {
      const dx = (x - cx) * invBh;
      const t = 1 - dx * dx;
      if (t <= 0) continue;
      let m = softK * Math.sqrt(t);
      // Lungs: product of soft edges, deeper air in the middle of each lung.
      let lung = 0;
      let p = 0;
      if (x < cx) {
        if (x > lx0 && x < mRy) {
          lung = smooth01((x - lx0) * edge) * smooth01((mRy - x) * edge);
          p = (x - lx0) / (mRy - lx0);
        }
      } else if (x > mLy && x < lx1) {
        lung = smooth01((x - mLy) * edge) * smooth01((lx1 - x) * edge);
        p = (lx1 - x) / (lx1 - mLy);
      }
      if (lung > 0) {
        lung *= smooth01((y - (apex[x] as number)) * edge) * smooth01(((dome[x] as number) - y) * edge);
        if (lung > 0) {
          const hump = Math.sqrt(clamp01(2.2 * p * (1.3 - p)));
          m -= lung * (airDepth * hump - vesselK * (vessels[row + x] as number));
          // Breast and pectoral shadows over the lower lateral lungs.
          m += lung * breastK * breastRow * (1 - p);
        }
      }
      if (th > -1 && th < 1) {
        const hx = (x - hcx) / hrx;
        const hv = hx * hx + th * th;
        if (hv < 1) m += heartK * Math.sqrt(1 - hv);
      }
      const below = y - (diaphragm[x] as number);
      if (below > -2) m += abdK * smooth01((below + 2) * edge * 0.5);
      mu[row + x] = m;
    }
  }
}

/** Trachea: an air column down the midline to the carina. */
function drawTrachea(rng: Rng, mu: Float32Array, g: ChestGeometry): void {
  const { S, cx } = g;
  const carina = S * rng.range(0.3, 0.34);
  const trHalf = S * 0.022;
  for (let y = 0; y < carina; y++) {
    const row = y * S;
    const xc = cx + S * 0.004 * Math.sin((y / S) * 6);
    for (let x = Math.floor(xc - trHalf); x <= Math.ceil(xc + trHalf); x++) {
      const d = (x - xc) / trHalf;
      if (d > -1 && d < 1)
        mu[row + x] =
          (mu[row + x] as number) - 0.16 * Math.sqrt(1 - d * d) * smooth01((carina - y) / (S * 0.03));
    }
  }
}

/** Gastric bubble under the left hemidiaphragm. */
function drawGastricBubble(rng: Rng, mu: Float32Array, g: ChestGeometry): void {
  const { S, cx, hw, domeL, diaphragm } = g;
  const gx = cx + hw * rng.range(0.35, 0.55);
  const gy = domeL + S * rng.range(0.035, 0.055);
  const gr = S * rng.range(0.03, 0.05);
  for (let y = Math.max(0, Math.floor(gy - gr)); y <= Math.min(S - 1, Math.ceil(gy + gr * 0.6)); y++) {
    for (
      let x = Math.max(0, Math.floor(gx - gr * 1.4));
      x <= Math.min(S - 1, Math.ceil(gx + gr * 1.4));
      x++
    ) {
      const d = ((x - gx) / (gr * 1.4)) ** 2 + ((y - gy) / gr) ** 2;
      if (d < 1 && y > (diaphragm[x] as number) + 2)
        mu[y * S + x] = (mu[y * S + x] as number) - 0.22 * Math.sqrt(1 - d);
    }
  }
}

/** Spine: vertebral bodies, discs, pedicles and, when degenerative, osteophytes. */
function drawSpine(rng: Rng, mu: Float32Array, g: ChestGeometry, degenerative: boolean): void {
  const { S, cx } = g;
  const vertH = S * 0.052;
  const spineHalf = S * 0.034;
  const v0 = S * rng.range(0.0, 0.03);
  for (let y = 0; y < S; y++) {
    const row = y * S;
    const k = (y - v0) / vertH;
    const f = k - Math.floor(k);
    // Vertebral body with darker disc spaces and brighter endplates.
    const body = f < 0.14 ? 0.45 : f < 0.2 || f > 0.94 ? 1.15 : 1;
    const widen = 1 + 0.25 * (y / S);
    const half = spineHalf * widen;
    for (let x = Math.floor(cx - half - 1); x <= Math.ceil(cx + half + 1); x++) {
      const d = (x - cx) / half;
      if (d <= -1 || d >= 1) continue;
      const ped = Math.abs(Math.abs(d) - 0.72) < 0.12 && f > 0.3 && f < 0.7 ? 0.08 : 0;
      mu[row + x] = (mu[row + x] as number) + (0.12 * Math.sqrt(1 - d * d) + ped) * body;
    }
  }
  if (degenerative) {
    // Osteophytes: small bright spurs at the lateral corners of several endplates.
    const levels = rng.int(3, 6);
    for (let l = 0; l < levels; l++) {
      const k = rng.int(3, 12);
      const yEnd = v0 + k * vertH + (rng.bool(0.5) ? 0.18 : 0.95) * vertH;
      for (const sgn of [-1, 1]) {
        const len = S * rng.range(0.008, 0.016);
        for (let j = 0; j < len; j++) {
          const xx = Math.round(cx + sgn * (spineHalf * 1.1 + j));
          const hh = Math.max(1, (1 - j / len) * S * 0.006);
          for (let yy = Math.floor(yEnd - hh); yy <= Math.ceil(yEnd + hh); yy++) {
            if (yy >= 0 && yy < S && xx >= 0 && xx < S) mu[yy * S + xx] = (mu[yy * S + xx] as number) + 0.12;
          }
        }
      }
    }
  }
}

/** Ribs, posterior and anterior, with the breaks of `breaks.specs` on them. */
function drawRibs(mu: Float32Array, g: ChestGeometry, breaks: Breaks): void {
  const { specs: fractures, rng: frRng, truth } = breaks;
  const { S, ap, cx, ribSpacing, ribFirst, ribHalf, lat, apex, dome } = g;
  const ribFrs = fractures.filter((f) => f.class === 'rib');
  for (const side of SIDES) {
    const sgn = side === 'right' ? -1 : 1;
    for (let k = 1; k <= 12; k++) {
      const oy = ribFirst + (k - 1) * ribSpacing;
      const ox = cx + sgn * S * 0.03;
      // Lateral reach: to the chest wall at about the level the rib turns down.
      const wallY = Math.min(S - 1, Math.max(0, Math.round(oy + ribSpacing * 1.2)));
      let reach = (lat[wallY] as number) + S * 0.012 - S * 0.03;
      if (k === 1) reach *= 0.5;
      else if (k === 2) reach *= 0.82;
      else if (k === 11) reach *= 0.55;
      else if (k === 12) reach *= 0.35;
      // Arc height (in rib spacings) and how far the lateral end falls below the origin.
      const rise = (ap ? 0.45 : 0.7) * (k === 1 ? 1.6 : k <= 6 ? 1 : 0.7);
      const drop = (k === 1 ? 1.2 : 1.5 + 0.07 * k) * (ap ? 0.8 : 1);
      const xa = Math.round(Math.min(ox, ox + sgn * reach));
      const xb = Math.round(Math.max(ox, ox + sgn * reach));
      const band = newBand(xa, xb, 0.72);
      for (let x = xa; x <= xb; x++) {
        const s = Math.abs(x - ox) / reach; // 0 at the spine, 1 at the chest wall
        const i = x - xa;
        // Up and out from the spine, then curving down at the lateral wall.
        const yRel = ribSpacing * (-rise * 4 * s * (1 - s) + drop * (0.6 * s * s + 0.4 * s ** 4));
        const slope = (ribSpacing * (-rise * 4 * (1 - 2 * s) + drop * (1.2 * s + 1.6 * s ** 3))) / reach;
        band.yc[i] = oy + yRel;
        const thick = ribHalf * (k === 1 ? 1.1 : k >= 11 ? 0.85 : 1) * (1.05 - 0.15 * s);
        band.half[i] = thick * Math.min(2.4, Math.sqrt(1 + slope * slope));
        band.density[i] = (k >= 11 ? 0.11 : 0.14) * (s < 0.08 ? 0.75 + 3 * s : 1);
      }
      const spec = ribFrs.find((f) => f.side === side && f.rib === k);
      let bf: BandFracture | null = null;
      if (spec) {
        // Place the break where the rib crosses aerated lung (visible), at `along` of that run.
        const lo = Math.round(ox + sgn * reach * 0.22);
        const hi = Math.round(ox + sgn * reach * 0.9);
        const cands: number[] = [];
        for (let x = Math.min(lo, hi); x <= Math.max(lo, hi); x++) {
          const yc = band.yc[x - xa] as number;
          if (yc < (dome[x] as number) - ribHalf * 2 && yc > (apex[x] as number) + ribHalf) cands.push(x);
        }
        if (sgn < 0) cands.reverse(); // index 0 is always the medial end
        const xf =
          cands.length > 0
            ? (cands[Math.min(cands.length - 1, Math.floor(spec.along * cands.length))] as number)
            : Math.round((lo + hi) / 2);
        const broken = breakBand(band, xa, spec, S, xf, sgn, frRng, S * 0.028);
        bf = broken.fracture;
        truth.push({
          class: 'rib',
          box: broken.box,
          acuity: spec.acuity,
          side,
          rib: k,
          subtle: spec.severity < SUBTLE_SEVERITY,
        });
      }
      drawBand(mu, S, band, bf);

      // Anterior rib: from the lateral end, down and medially, fainter (costal cartilage unseen).
      if (k <= 10) {
        const exX = ox + sgn * reach;
        const exY = oy + drop * ribSpacing;
        const endX = cx + sgn * S * (0.12 + 0.012 * k);
        const fall = ribSpacing * (1.6 + 0.1 * k);
        const ya = Math.round(Math.min(exX, endX));
        const yb = Math.round(Math.max(exX, endX));
        const ant = newBand(ya, yb, 0.55);
        const span = Math.abs(exX - endX);
        for (let x = ya; x <= yb; x++) {
          const s = Math.abs(x - exX) / span; // 0 laterally, 1 at the costochondral junction
          const i = x - ya;
          ant.yc[i] =
            exY + fall * (0.75 * s + 0.25 * s * s) - ribSpacing * 0.35 * Math.sin(Math.PI * s) * (1 - s);
          const slope = (fall * (0.75 + 0.5 * s)) / span;
          ant.half[i] = ribHalf * 0.9 * Math.sqrt(1 + slope * slope);
          ant.density[i] = 0.08 * (1 - 0.6 * s) * smooth01(s * 8);
        }
        drawBand(mu, S, ant, null);
      }
    }
  }
}

/** Clavicles, with the breaks of `breaks.specs` on them. */
function drawClavicles(rng: Rng, mu: Float32Array, g: ChestGeometry, breaks: Breaks): void {
  const { specs: fractures, rng: frRng, truth } = breaks;
  const { S, ap, cx, hw, clavY } = g;
  const clavFrs = fractures.filter((f) => f.class === 'clavicle');
  for (const side of SIDES) {
    const sgn = side === 'right' ? -1 : 1;
    const mx = cx + sgn * S * 0.045;
    const len = hw * rng.range(0.72, 0.8);
    const lx = mx + sgn * len;
    const xa = Math.round(Math.min(mx, lx));
    const xb = Math.round(Math.max(mx, lx));
    const band = newBand(xa, xb, 0.6);
    const lift = S * (ap ? 0.03 : rng.range(0.07, 0.1));
    const sAmp = S * rng.range(0.008, 0.014);
    const half = S * 0.0145;
    for (let x = xa; x <= xb; x++) {
      const s = Math.abs(x - mx) / len;
      const i = x - xa;
      band.yc[i] = clavY - lift * s + sAmp * Math.sin(2 * Math.PI * s) + S * 0.01 * Math.exp(-s * 12);
      const slope = (-lift + sAmp * 2 * Math.PI * Math.cos(2 * Math.PI * s)) / len;
      const bulb = 1 + 0.45 * Math.exp(-s * 9) + 0.25 * Math.exp(-(1 - s) * 10);
      band.half[i] = half * bulb * Math.sqrt(1 + slope * slope);
      band.density[i] = 0.24 * smooth01((1 - s) * 12);
    }
    const spec = clavFrs.find((f) => f.side === side);
    let bf: BandFracture | null = null;
    if (spec) {
      const s = 0.3 + 0.4 * clamp01(spec.along);
      const xf = Math.round(mx + sgn * s * len);
      const broken = breakBand(band, xa, spec, S, xf, sgn, frRng, S * 0.03);
      bf = broken.fracture;
      truth.push({
        class: 'clavicle',
        box: broken.box,
        acuity: spec.acuity,
        side,
        subtle: spec.severity < SUBTLE_SEVERITY,
      });
    }
    drawBand(mu, S, band, bf);
  }
}

/** Humeral heads and, on AP views, the scapulae over the upper lateral lungs. */
function drawShoulders(rng: Rng, mu: Float32Array, g: ChestGeometry): void {
  const { S, ap, cx, hw } = g;
  for (const sgn of [-1, 1]) {
    const hx = cx + sgn * (hw + S * 0.075);
    const hy = S * rng.range(0.12, 0.16);
    const r = S * 0.06;
    for (let y = Math.max(0, Math.floor(hy - r)); y <= Math.min(S - 1, Math.ceil(hy + r)); y++) {
      for (let x = Math.max(0, Math.floor(hx - r)); x <= Math.min(S - 1, Math.ceil(hx + r)); x++) {
        const d = ((x - hx) ** 2 + (y - hy) ** 2) / (r * r);
        if (d < 1) mu[y * S + x] = (mu[y * S + x] as number) + 0.25 * Math.sqrt(1 - d);
      }
    }
    if (ap) {
      // Medial scapular border: a faint oblique edge within the lung.
      const top = S * 0.14;
      const bottom = S * 0.5;
      for (let y = Math.floor(top); y < bottom; y++) {
        const f = (y - top) / (bottom - top);
        const bx = cx + sgn * (hw * (0.62 + 0.1 * f));
        for (
          let x = Math.round(Math.min(bx, cx + sgn * hw * 1.05));
          x <= Math.round(Math.max(bx, cx + sgn * hw * 1.05));
          x++
        ) {
          if (x >= 0 && x < S) mu[y * S + x] = (mu[y * S + x] as number) + 0.06 * (1 - f * 0.7);
        }
      }
    }
  }
}

/** The detector: tone curve, blur, noise (in place). */
function applyDetector(rng: Rng, mu: Float32Array, vessels: Float32Array, S: number, ap: boolean): void {
  blur3(mu, S, vessels);
  const lo = rng.range(-0.08, 0.04);
  const hi = rng.range(1.3, 1.55);
  const gamma = rng.range(0.85, 1.2);
  const noiseSigma = rng.range(0.006, 0.02) * (ap ? 1.3 : 1);
  const table = normalTable(rng, 1 << 14);
  let state = (rng.nextUint32() | 1) >>> 0;
  const inv = 1 / (hi - lo);
  for (let i = 0; i < mu.length; i++) {
    let v = ((mu[i] as number) - lo) * inv;
    v = v <= 0 ? 0 : v >= 1 ? 1 : v ** gamma;
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    v += noiseSigma * (0.5 + v) * (table[state & 16383] as number);
    mu[i] = v <= 0 ? 0 : v >= 1 ? 1 : v;
  }
}

export function renderChestImage(
  rng: Rng,
  anatomy: ChestAnatomy,
  fractures: readonly FractureSpec[],
  opts: ImageRenderOptions,
): RenderedImage {
  const S = opts.size;
  const ap = opts.view === 'AP';
  const mu = new Float32Array(S * S);
  const vessels = new Float32Array(S * S);
  const truth: TruthFracture[] = [];
  // Fracture details draw from their own stream, so an image rendered without its fractures is
  // identical outside them (the tests rely on that to measure conspicuity).
  const frRng = new Rng(rng.nextUint32(), 0x46524143);
  // The steps draw from `rng` in this order; keep it, or every synthetic image changes.
  const g = chestGeometry(rng, anatomy, S, ap);
  drawVesselTree(rng, vessels, S, g.cx - S * 0.085, S * 0.41, -1);
  drawVesselTree(rng, vessels, S, g.cx + S * 0.09, S * 0.43, 1);
  drawSoftTissue(mu, vessels, g, anatomy);
  drawTrachea(rng, mu, g);
  drawGastricBubble(rng, mu, g);
  addLowFrequency(rng, mu, S, 10, 0.035);
  addLowFrequency(rng, mu, S, 40, 0.012);
  drawSpine(rng, mu, g, anatomy.degenerativeSpine);
  const breaks: Breaks = { specs: fractures, rng: frRng, truth };
  drawRibs(mu, g, breaks);
  drawClavicles(rng, mu, g, breaks);
  drawShoulders(rng, mu, g);
  applyDetector(rng, mu, vessels, S, ap);
  return { intensity: mu, fractures: truth };
}
