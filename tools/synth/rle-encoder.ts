/**
 * DICOM RLE Lossless encoder (PS3.5 annex G): one PackBits segment per byte plane, most
 * significant byte first, each row encoded separately, after a 64-byte header of segment offsets.
 */

/** PackBits-encodes src[start, end) into out at o; returns the new write offset. */
function packBits(src: Uint8Array, start: number, end: number, out: Uint8Array, o: number): number {
  let i = start;
  while (i < end) {
    // A replicate run of 3+ equal bytes is worth a run packet; shorter repeats stay literal.
    let run = 1;
    while (i + run < end && run < 128 && src[i + run] === src[i]) run++;
    if (run >= 3) {
      out[o++] = 257 - run; // -(run - 1) as a signed byte
      out[o++] = src[i] as number;
      i += run;
      continue;
    }
    const litStart = i;
    let lit = 0;
    while (i < end && lit < 128) {
      if (i + 2 < end && src[i] === src[i + 1] && src[i] === src[i + 2]) break;
      i++;
      lit++;
    }
    out[o++] = lit - 1;
    out.set(src.subarray(litStart, litStart + lit), o);
    o += lit;
  }
  return o;
}

/**
 * Encodes one frame of 16-bit words (raw stored values, as written little-endian in native
 * pixel data) to an RLE fragment.
 */
export function encodeRle16(words: Uint16Array, rows: number, columns: number): Uint8Array {
  const n = rows * columns;
  if (words.length !== n) throw new Error(`encodeRle16: ${words.length} words for ${rows}x${columns}`);
  const high = new Uint8Array(n);
  const low = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const w = words[i] as number;
    high[i] = w >>> 8;
    low[i] = w & 0xff;
  }
  // Worst case PackBits grows by 1 byte per 128, plus a header per row.
  const worst = n + Math.ceil(n / 128) + rows * 2 + 2;
  const out = new Uint8Array(64 + 2 * worst);
  const view = new DataView(out.buffer);
  view.setUint32(0, 2, true);
  let o = 64;
  [high, low].forEach((plane, s) => {
    view.setUint32(4 + 4 * s, o, true);
    for (let r = 0; r < rows; r++) o = packBits(plane, r * columns, (r + 1) * columns, out, o);
    if (o % 2 === 1) out[o++] = 0; // segments have even length
  });
  return out.slice(0, o);
}
