/**
 * The stored form of a target map: 8-bit quantisation (value / 255, the distiller's dequantise in
 * services/distiller/distiller/pseudo_labels.py) and the summary statistics of PseudoLabelCreated.
 */

/** [0, 1] floats to bytes, round(v * 255); values outside [0, 1] are clamped. */
export function quantiseTarget(map: Float32Array): Uint8Array {
  const out = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    out[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return out;
}

/** Bytes back to [0, 1] floats (value / 255): within 1/510 of the map that was quantised. */
export function dequantiseTarget(bytes: Uint8Array, height: number, width: number): Float32Array {
  if (bytes.length !== height * width) {
    throw new Error(`target holds ${bytes.length} bytes, expected ${height} x ${width}`);
  }
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! / 255;
  return out;
}

export interface TargetStats {
  max: number;
  mean: number;
  /** Share of pixels above 0.5. */
  positiveFraction: number;
}

export function targetStats(map: Float32Array): TargetStats {
  let max = 0;
  let sum = 0;
  let above = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    if (v > max) max = v;
    sum += v;
    if (v > 0.5) above++;
  }
  const n = map.length || 1;
  return { max, mean: sum / n, positiveFraction: above / n };
}

/** The teacher's image-level score of a class: the maximum of its map (PAPER.md). */
export function mapMax(map: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < map.length; i++) if (map[i]! > max) max = map[i]!;
  return map.length === 0 ? 0 : max;
}
