/**
 * Detections on a probability map, for FROC (PAPER.md: local maxima above a threshold after
 * suppression of neighbours). Definitions are shared with the distiller through
 * test/fixtures/metrics-cases.json:
 * - a candidate is a pixel with value > 0 and >= each of its (up to 8) neighbours, so a plateau
 *   gives several candidates;
 * - candidates are taken in descending value, ties by ascending row-major index, and one is kept
 *   unless a kept detection lies within Chebyshev distance <= suppressionRadius (0 keeps all).
 * Thresholding before or after this greedy suppression selects the same detections (a
 * candidate's fate depends only on candidates at least as high), so this runs once per map and
 * FROC sweeps thresholds over the result.
 */

export interface ProbabilityMap {
  height: number;
  width: number;
  /** Row-major, index y * width + x. */
  values: ArrayLike<number>;
}

export interface Detection {
  x: number;
  y: number;
  score: number;
}

export const DEFAULT_SUPPRESSION_RADIUS = 2;

export function checkMap(map: ProbabilityMap): void {
  const { height, width, values } = map;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(`map size must be positive integers, got ${width}x${height}`);
  }
  if (values.length !== height * width) {
    throw new RangeError(`map ${width}x${height} needs ${height * width} values, got ${values.length}`);
  }
}

export function findDetections(
  map: ProbabilityMap,
  suppressionRadius = DEFAULT_SUPPRESSION_RADIUS,
): Detection[] {
  checkMap(map);
  if (!(Number.isInteger(suppressionRadius) && suppressionRadius >= 0)) {
    throw new RangeError(`suppressionRadius must be an integer >= 0, got ${suppressionRadius}`);
  }
  const { height, width, values } = map;
  const candidates: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = values[y * width + x]!;
      if (!(v > 0)) continue;
      let isMax = true;
      for (let dy = -1; dy <= 1 && isMax; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width || (dx === 0 && dy === 0)) continue;
          if (values[yy * width + xx]! > v) {
            isMax = false;
            break;
          }
        }
      }
      if (isMax) candidates.push(y * width + x);
    }
  }
  candidates.sort((p, q) => values[q]! - values[p]! || p - q);
  const kept: Detection[] = [];
  for (const index of candidates) {
    const x = index % width;
    const y = (index - x) / width;
    if (
      suppressionRadius > 0 &&
      kept.some((d) => Math.abs(d.x - x) <= suppressionRadius && Math.abs(d.y - y) <= suppressionRadius)
    ) {
      continue;
    }
    kept.push({ x, y, score: values[index]! });
  }
  return kept;
}
