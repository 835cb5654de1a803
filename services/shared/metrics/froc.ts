import { DEFAULT_SUPPRESSION_RADIUS, findDetections, type ProbabilityMap } from './detections.ts';

/**
 * Free-response ROC (PAPER.md). Per image, detections (see detections.ts) are taken in descending
 * score; one is a true positive when its pixel centre (x + 0.5, y + 0.5) lies inside a ground-truth
 * box not yet hit (the first such box in list order is marked), otherwise a false positive (also
 * when it lies only in boxes already hit). Thresholds sweep the distinct detection scores over all
 * images; sensitivity = TP / all boxes, fpPerImage = FP / all images (with or without boxes).
 *
 * Interpolation: the sensitivity at a rate r is the largest sensitivity among sweep points with
 * fpPerImage <= r (the point at the lowest such threshold), with no interpolation between points;
 * 0 when none qualifies. FROC score = mean over FROC_RATES. With no ground-truth box at all,
 * sensitivities and score are NaN. Shared cases: test/fixtures/metrics-cases.json.
 */

export const FROC_RATES: readonly number[] = Object.freeze([0.125, 0.25, 0.5, 1, 2, 4, 8]);

/** [x0, y0, x1, y1] in map pixels, x1/y1 exclusive; may be fractional. */
export type Box = readonly [number, number, number, number];

export interface FrocImage {
  map: ProbabilityMap;
  boxes: readonly Box[];
}

export interface FrocPoint {
  threshold: number;
  truePositives: number;
  falsePositives: number;
  fpPerImage: number;
  sensitivity: number;
}

export interface FrocResult {
  rates: number[];
  sensitivities: number[];
  score: number;
  curve: FrocPoint[];
  totalBoxes: number;
  images: number;
}

export interface FrocOptions {
  suppressionRadius?: number;
  rates?: readonly number[];
}

/** Scores of one image's detections, each marked TP or FP by the rule above. */
export function labelDetections(
  image: FrocImage,
  suppressionRadius: number,
): { score: number; hit: boolean }[] {
  const hit = new Array<boolean>(image.boxes.length).fill(false);
  return findDetections(image.map, suppressionRadius).map((d) => {
    const cx = d.x + 0.5;
    const cy = d.y + 0.5;
    const box = image.boxes.findIndex(
      (b, i) => !hit[i] && b[0] <= cx && cx < b[2] && b[1] <= cy && cy < b[3],
    );
    if (box >= 0) hit[box] = true;
    return { score: d.score, hit: box >= 0 };
  });
}

export function froc(images: readonly FrocImage[], options: FrocOptions = {}): FrocResult {
  const radius = options.suppressionRadius ?? DEFAULT_SUPPRESSION_RADIUS;
  const rates = [...(options.rates ?? FROC_RATES)];
  if (images.length === 0) throw new RangeError('froc: no images');
  let totalBoxes = 0;
  const all: { score: number; hit: boolean }[] = [];
  for (const image of images) {
    for (const b of image.boxes) {
      if (b.length !== 4 || !b.every(Number.isFinite) || !(b[0] < b[2] && b[1] < b[3])) {
        throw new RangeError(`froc: bad box [${b.join(', ')}]: need x0 < x1 and y0 < y1`);
      }
    }
    totalBoxes += image.boxes.length;
    for (const d of labelDetections(image, radius)) all.push(d);
  }
  all.sort((p, q) => q.score - p.score);
  const curve: FrocPoint[] = [];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < all.length;) {
    const threshold = all[i]!.score;
    for (; i < all.length && all[i]!.score === threshold; i++) {
      if (all[i]!.hit) tp++;
      else fp++;
    }
    curve.push({
      threshold,
      truePositives: tp,
      falsePositives: fp,
      fpPerImage: fp / images.length,
      sensitivity: totalBoxes > 0 ? tp / totalBoxes : NaN,
    });
  }
  const sensitivities = rates.map((rate) => {
    if (totalBoxes === 0) return NaN;
    let best = 0;
    for (const point of curve)
      if (point.fpPerImage <= rate && point.sensitivity > best) best = point.sensitivity;
    return best;
  });
  const score = sensitivities.reduce((s, v) => s + v, 0) / sensitivities.length;
  return { rates, sensitivities, score, curve, totalBoxes, images: images.length };
}
