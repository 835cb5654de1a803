/**
 * Composes a contact sheet (an RGBA grid) of grey images with their boxes drawn, for eyeballing
 * a synthetic cohort. Pure: the caller decodes images and writes the PNG.
 */

export interface SheetTile {
  /** Display intensities in [0, 1] (already windowed, MONOCHROME2 sense), row-major. */
  intensity: Float32Array;
  rows: number;
  columns: number;
  boxes: { class: 'rib' | 'clavicle'; box: [number, number, number, number] }[];
}

export interface ContactSheet {
  width: number;
  height: number;
  rgba: Uint8Array;
}

const BOX_COLOURS: Record<'rib' | 'clavicle', [number, number, number]> = {
  rib: [255, 40, 40],
  clavicle: [40, 220, 255],
};

/** Lays tiles out `columns` wide, each resampled (nearest neighbour) to `tileSize` square. */
export function composeContactSheet(
  tiles: readonly SheetTile[],
  columns: number,
  tileSize: number,
  gap = 4,
): ContactSheet {
  const cols = Math.max(1, Math.min(columns, tiles.length));
  const rowsOfTiles = Math.max(1, Math.ceil(tiles.length / cols));
  const width = cols * tileSize + (cols + 1) * gap;
  const height = rowsOfTiles * tileSize + (rowsOfTiles + 1) * gap;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  tiles.forEach((tile, t) => {
    const ox = gap + (t % cols) * (tileSize + gap);
    const oy = gap + Math.floor(t / cols) * (tileSize + gap);
    const sx = tile.columns / tileSize;
    const sy = tile.rows / tileSize;
    for (let y = 0; y < tileSize; y++) {
      const srcRow = Math.min(tile.rows - 1, Math.floor((y + 0.5) * sy)) * tile.columns;
      let o = ((oy + y) * width + ox) * 4;
      for (let x = 0; x < tileSize; x++) {
        const v = tile.intensity[srcRow + Math.min(tile.columns - 1, Math.floor((x + 0.5) * sx))] as number;
        const g = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
        rgba[o] = g;
        rgba[o + 1] = g;
        rgba[o + 2] = g;
        o += 4;
      }
    }
    for (const b of tile.boxes) {
      const [r, g, bl] = BOX_COLOURS[b.class];
      const x0 = ox + Math.floor(b.box[0] / sx);
      const y0 = oy + Math.floor(b.box[1] / sy);
      const x1 = ox + Math.min(tileSize - 1, Math.ceil(b.box[2] / sx));
      const y1 = oy + Math.min(tileSize - 1, Math.ceil(b.box[3] / sy));
      const put = (x: number, y: number): void => {
        const k = (y * width + x) * 4;
        rgba[k] = r;
        rgba[k + 1] = g;
        rgba[k + 2] = bl;
      };
      for (let x = x0; x <= x1; x++) {
        put(x, y0);
        put(x, y1);
      }
      for (let y = y0; y <= y1; y++) {
        put(x0, y);
        put(x1, y);
      }
    }
  });
  return { width, height, rgba };
}
