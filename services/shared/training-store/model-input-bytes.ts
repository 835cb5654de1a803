/**
 * The stored form of a model input (docs/data-contracts.md, "Training store"): one byte per pixel,
 * row-major, value / 255 = the normalised intensity. The pseudo-labeler feeds the teacher exactly
 * the dequantised bytes it stores, so the distiller trains and the gate evaluates on the input the
 * teacher saw, bit for bit.
 */

/**
 * Bump when preprocessing changes the bytes an image gives (window, inversion, resize,
 * quantisation): inputs stored under an older revision are then not reused.
 */
export const PREPROCESSING_REVISION = 1;

/** The key stored inputs are indexed by, e.g. `fh1-256x256-u8` (distiller/store.py says the same). */
export function preprocessingVersion(width: number, height: number): string {
  return `fh${PREPROCESSING_REVISION}-${width}x${height}-u8`;
}

/** [0, 1] floats to bytes, round(v * 255), clamped. */
export function quantiseInput(
  pixels: Float32Array,
  out: Uint8Array = new Uint8Array(pixels.length),
): Uint8Array {
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i]!;
    out[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return out;
}

/** Bytes to the teacher's float input (value / 255, as float32: numpy's u8 / 255.0 gives the same). */
export function dequantiseInput(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! / 255;
  return out;
}
