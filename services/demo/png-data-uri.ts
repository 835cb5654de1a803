import { PNG } from 'pngjs';

/**
 * Images for the self-contained report: grey-scale pictures and probability maps as PNG data URIs
 * (pngjs), so the HTML file needs nothing beside it.
 */

/** A colour for p in [0, 1]: transparent-looking dark blue through yellow (a "hot" ramp). */
export function heatColour(p: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, p));
  // piecewise: black-blue -> red -> orange -> yellow-white
  const r = Math.round(255 * Math.min(1, v * 2));
  const g = Math.round(255 * Math.min(1, Math.max(0, v * 2 - 0.6)));
  const b = Math.round(255 * Math.max(0, 0.35 - v) * 1.6 + 255 * Math.max(0, v - 0.85) * 4);
  return [r, g, Math.min(255, b)];
}

/** values (row-major, height x width) drawn at `scale` pixels per value (nearest neighbour). */
export function pngDataUri(
  values: ArrayLike<number>,
  height: number,
  width: number,
  mode: 'grey' | 'heat',
  scale = 1,
): string {
  if (values.length !== height * width) {
    throw new RangeError(`${values.length} values do not make a ${width} x ${height} image`);
  }
  const png = new PNG({ width: width * scale, height: height * scale });
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < width * scale; x++) {
      const v = values[Math.floor(y / scale) * width + Math.floor(x / scale)]!;
      const o = (y * width * scale + x) << 2;
      if (mode === 'grey') {
        const g = Math.round(Math.min(1, Math.max(0, v)) * 255);
        png.data[o] = g;
        png.data[o + 1] = g;
        png.data[o + 2] = g;
      } else {
        const [r, g, b] = heatColour(v);
        png.data[o] = r;
        png.data[o + 1] = g;
        png.data[o + 2] = b;
      }
      png.data[o + 3] = 255;
    }
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}
