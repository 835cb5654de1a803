import { DicomImageError } from './errors.ts';

/**
 * A decoder for sequential DCT JPEG with Huffman coding, 8 and 12-bit (ISO 10918-1 processes 1, 2
 * and 4: DICOM's JPEG Baseline and JPEG Extended, 1.2.840.10008.1.2.4.50/.51). libjpeg-turbo, which
 * decodes the 8-bit case faster, has no 12-bit build for Node, and 12-bit JPEG Extended is what
 * many older CR archives hold. Progressive, hierarchical and arithmetic-coded streams are refused.
 * Returns each component's samples at full resolution (subsampled components are replicated).
 */
export interface DecodedJpegPlanes {
  width: number;
  height: number;
  precision: number;
  /** One plane per component, in frame order (for YCbCr: Y first). */
  planes: Uint16Array[];
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  /** Allocated blocks per line (whole MCUs). */
  stride: number;
  coefficients: Int32Array;
  pred: number;
  dcTable?: Huffman;
  acTable?: Huffman;
}

interface Huffman {
  maxCode: Int32Array;
  valPtr: Int32Array;
  minCode: Int32Array;
  values: Uint8Array;
}

const ZIGZAG = new Int32Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
]);

/** cos((2x + 1) u pi / 16) * C(u) / 2, for the separable inverse DCT. */
const IDCT = (() => {
  const t = new Float64Array(64);
  for (let x = 0; x < 8; x++)
    for (let u = 0; u < 8; u++)
      t[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  return t;
})();

function corrupt(message: string): DicomImageError {
  return new DicomImageError('corrupt-pixel-data', `JPEG stream: ${message}`);
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxCode = new Int32Array(18).fill(-1);
  const valPtr = new Int32Array(17);
  const minCode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    valPtr[l] = k;
    minCode[l] = code;
    code += counts[l - 1]!;
    k += counts[l - 1]!;
    maxCode[l] = counts[l - 1]! > 0 ? code - 1 : -1;
    code <<= 1;
  }
  maxCode[17] = 0x7fffffff;
  return { maxCode, valPtr, minCode, values };
}

class BitReader {
  private bits = 0;
  private count = 0;
  /** Set when a marker was met inside the entropy-coded data. */
  marker = 0;

  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  bit(): number {
    if (this.count === 0) {
      if (this.marker !== 0 || this.pos >= this.data.length) {
        // past the end of a segment: decoders feed zeros (libjpeg does the same)
        this.bits = 0;
      } else {
        const b = this.data[this.pos++]!;
        if (b === 0xff) {
          const next = this.data[this.pos]!;
          if (next === 0) this.pos++;
          else {
            this.marker = next;
            this.pos--;
            this.bits = 0;
            this.count = 8;
            return this.bit();
          }
        }
        this.bits = b;
      }
      this.count = 8;
    }
    this.count--;
    return (this.bits >> this.count) & 1;
  }

  receive(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit();
    return v;
  }

  decode(table: Huffman): number {
    let code = this.bit();
    let l = 1;
    while (code > table.maxCode[l]!) {
      code = (code << 1) | this.bit();
      if (++l > 16) throw corrupt('bad Huffman code');
    }
    return table.values[table.valPtr[l]! + code - table.minCode[l]!]!;
  }

  /** Skips to the next RSTn marker after a restart interval. */
  restart(): void {
    this.count = 0;
    if (this.marker === 0) {
      while (
        this.pos + 1 < this.data.length &&
        !(
          this.data[this.pos] === 0xff &&
          this.data[this.pos + 1]! >= 0xd0 &&
          this.data[this.pos + 1]! <= 0xd7
        )
      )
        this.pos++;
    }
    if (this.data[this.pos] === 0xff && this.data[this.pos + 1]! >= 0xd0 && this.data[this.pos + 1]! <= 0xd7)
      this.pos += 2;
    this.marker = 0;
  }
}

function extend(v: number, n: number): number {
  return n === 0 ? 0 : v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
}

function decodeBlock(reader: BitReader, c: Component, offset: number): void {
  const t = reader.decode(c.dcTable!);
  const diff = t === 0 ? 0 : extend(reader.receive(t), t);
  c.pred += diff;
  c.coefficients[offset] = c.pred;
  for (let k = 1; k < 64;) {
    const rs = reader.decode(c.acTable!);
    const s = rs & 15;
    const r = rs >> 4;
    if (s === 0) {
      if (r < 15) break; // EOB
      k += 16;
      continue;
    }
    k += r;
    if (k > 63) throw corrupt('AC coefficient index past 63');
    c.coefficients[offset + ZIGZAG[k]!] = extend(reader.receive(s), s);
    k++;
  }
}

/** The frame header (SOF0/SOF1) with its components' block geometry. */
interface Frame {
  width: number;
  height: number;
  precision: number;
  components: Component[];
  hMax: number;
  vMax: number;
  mcusPerLine: number;
  mcusPerColumn: number;
}

/** Tables defined so far in the stream (DQT, DHT, DRI). */
interface Tables {
  quant: Int32Array[];
  dc: Huffman[];
  ac: Huffman[];
  restartInterval: number;
}

function u16(data: Uint8Array, at: number): number {
  return (data[at]! << 8) | data[at + 1]!;
}

/** DQT: one or more quantisation tables, 8 or 16-bit entries, stored in natural order. */
function readQuantisationTables(data: Uint8Array, seg: number, end: number, quant: Int32Array[]): void {
  for (let p = seg; p < end;) {
    const pq = data[p]! >> 4;
    const tq = data[p]! & 15;
    p++;
    const table = new Int32Array(64);
    for (let i = 0; i < 64; i++) {
      table[ZIGZAG[i]!] = pq ? u16(data, p + 2 * i) : data[p + i]!;
    }
    p += pq ? 128 : 64;
    quant[tq] = table;
  }
}

/** DHT: one or more Huffman tables, DC (class 0) or AC (class 1). */
function readHuffmanTables(data: Uint8Array, seg: number, end: number, tables: Tables): void {
  for (let p = seg; p < end;) {
    const tc = data[p]! >> 4;
    const th = data[p]! & 15;
    const counts = data.subarray(p + 1, p + 17);
    const total = counts.reduce((a, b) => a + b, 0);
    const values = data.slice(p + 17, p + 17 + total);
    (tc === 0 ? tables.dc : tables.ac)[th] = buildHuffman(counts, values);
    p += 17 + total;
  }
}

/** SOF0/SOF1: size, precision and components, with each component's coefficient buffer. */
function readFrameHeader(data: Uint8Array, seg: number): Frame {
  const precision = data[seg]!;
  const height = u16(data, seg + 1);
  const width = u16(data, seg + 3);
  const n = data[seg + 5]!;
  if (precision !== 8 && precision !== 12) throw corrupt(`sample precision ${precision} (8 or 12 expected)`);
  if (height === 0) throw corrupt('height 0 (DNL) is not supported');
  const components: Component[] = [];
  for (let i = 0; i < n; i++) {
    const at = seg + 6 + i * 3;
    components.push({
      id: data[at]!,
      h: data[at + 1]! >> 4,
      v: data[at + 1]! & 15,
      tq: data[at + 2]!,
      blocksPerLine: 0,
      blocksPerColumn: 0,
      stride: 0,
      coefficients: new Int32Array(0),
      pred: 0,
    });
  }
  const hMax = Math.max(...components.map((c) => c.h));
  const vMax = Math.max(...components.map((c) => c.v));
  const mcusPerLine = Math.ceil(width / (8 * hMax));
  const mcusPerColumn = Math.ceil(height / (8 * vMax));
  for (const c of components) {
    c.blocksPerLine = Math.ceil(Math.ceil((width * c.h) / hMax) / 8);
    c.blocksPerColumn = Math.ceil(Math.ceil((height * c.v) / vMax) / 8);
    c.stride = mcusPerLine * c.h;
    c.coefficients = new Int32Array(c.stride * mcusPerColumn * c.v * 64);
  }
  return { width, height, precision, components, hMax, vMax, mcusPerLine, mcusPerColumn };
}

/**
 * SOS: decodes one scan's entropy-coded data into its components' coefficients; returns the
 * position of the next marker after the data.
 */
function decodeScan(data: Uint8Array, seg: number, end: number, frame: Frame, tables: Tables): number {
  const ns = data[seg]!;
  const scan: Component[] = [];
  for (let i = 0; i < ns; i++) {
    const id = data[seg + 1 + i * 2]!;
    const selectors = data[seg + 2 + i * 2]!;
    const c = frame.components.find((x) => x.id === id);
    if (!c) throw corrupt(`scan names unknown component ${id}`);
    c.dcTable = tables.dc[selectors >> 4];
    c.acTable = tables.ac[selectors & 15];
    if (!c.dcTable || !c.acTable) throw corrupt('scan uses an undefined Huffman table');
    c.pred = 0;
    scan.push(c);
  }
  const reader = new BitReader(data, end);
  const single = scan.length === 1;
  const units = single
    ? scan[0]!.blocksPerLine * scan[0]!.blocksPerColumn
    : frame.mcusPerLine * frame.mcusPerColumn;
  for (let unit = 0; unit < units; unit++) {
    if (tables.restartInterval > 0 && unit > 0 && unit % tables.restartInterval === 0) {
      reader.restart();
      for (const c of scan) c.pred = 0;
    }
    if (single) {
      const c = scan[0]!;
      const row = Math.floor(unit / c.blocksPerLine);
      const col = unit % c.blocksPerLine;
      decodeBlock(reader, c, (row * c.stride + col) * 64);
    } else {
      const mcuRow = Math.floor(unit / frame.mcusPerLine);
      const mcuCol = unit % frame.mcusPerLine;
      for (const c of scan)
        for (let y = 0; y < c.v; y++)
          for (let x = 0; x < c.h; x++)
            decodeBlock(reader, c, ((mcuRow * c.v + y) * c.stride + mcuCol * c.h + x) * 64);
    }
  }
  // continue after the entropy-coded data, at the next marker
  let pos = reader.pos;
  while (
    pos + 1 < data.length &&
    !(data[pos] === 0xff && data[pos + 1] !== 0 && !(data[pos + 1]! >= 0xd0 && data[pos + 1]! <= 0xd7))
  )
    pos++;
  return pos;
}

/** Dequantises and inverse-transforms a component's blocks into samples (whole MCUs, clamped). */
function componentSamples(
  c: Component,
  q: Int32Array,
  frame: Frame,
): { samples: Uint16Array; lineWidth: number } {
  const max = (1 << frame.precision) - 1;
  const shift = 1 << (frame.precision - 1);
  const lineWidth = c.stride * 8;
  const rows = frame.mcusPerColumn * c.v * 8;
  const samples = new Uint16Array(lineWidth * rows);
  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  const blocks = c.coefficients.length / 64;
  for (let b = 0; b < blocks; b++) {
    const o = b * 64;
    const by = Math.floor(b / c.stride) * 8;
    const bx = (b % c.stride) * 8;
    for (let i = 0; i < 64; i++) block[i] = c.coefficients[o + i]! * q[i]!;
    // rows: tmp[y][x] = sum_u F[y][u] * IDCT[x][u]; a row with only its DC term is flat (the
    // common case in smooth radiographs), which saves most of the work
    for (let y = 0; y < 8; y++) {
      const r = y * 8;
      let ac = false;
      for (let u = 1; u < 8; u++) if (block[r + u] !== 0) ac = true;
      if (!ac) {
        const flat = block[r]! * IDCT[0]!;
        for (let x = 0; x < 8; x++) tmp[r + x] = flat;
        continue;
      }
      for (let x = 0; x < 8; x++) {
        let sum = 0;
        for (let u = 0; u < 8; u++) sum += block[r + u]! * IDCT[x * 8 + u]!;
        tmp[r + x] = sum;
      }
    }
    for (let x = 0; x < 8; x++)
      for (let y = 0; y < 8; y++) {
        let sum = 0;
        for (let v = 0; v < 8; v++) sum += tmp[v * 8 + x]! * IDCT[y * 8 + v]!;
        const value = Math.round(sum) + shift;
        samples[(by + y) * lineWidth + bx + x] = value < 0 ? 0 : value > max ? max : value;
      }
  }
  return { samples, lineWidth };
}

/** A component's plane at full resolution (replicating subsampled components), cropped to the image. */
function fullResolutionPlane(c: Component, q: Int32Array, frame: Frame): Uint16Array {
  const { samples, lineWidth } = componentSamples(c, q, frame);
  const { width, height } = frame;
  const out = new Uint16Array(width * height);
  const sx = c.h / frame.hMax;
  const sy = c.v / frame.vMax;
  for (let y = 0; y < height; y++) {
    const line = Math.floor(y * sy) * lineWidth;
    for (let x = 0; x < width; x++) out[y * width + x] = samples[line + Math.floor(x * sx)]!;
  }
  return out;
}

/** Decodes a sequential Huffman JPEG (baseline or extended, 8 or 12-bit) into component planes. */
export function decodeJpegDct(data: Uint8Array): DecodedJpegPlanes {
  if (data[0] !== 0xff || data[1] !== 0xd8) throw corrupt('no SOI marker');
  const tables: Tables = { quant: [], dc: [], ac: [], restartInterval: 0 };
  let frame: Frame | undefined;
  let pos = 2;
  while (pos + 4 <= data.length) {
    if (data[pos] !== 0xff) {
      pos++;
      continue;
    }
    const marker = data[pos + 1]!;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker === 0xd9) break;
    if (marker >= 0xd0 && marker <= 0xd7) {
      pos += 2;
      continue;
    }
    const seg = pos + 4;
    const end = pos + 2 + u16(data, pos + 2);
    if (end > data.length) throw corrupt(`marker FF${marker.toString(16)} runs past the end`);
    switch (marker) {
      case 0xdb:
        readQuantisationTables(data, seg, end, tables.quant);
        break;
      case 0xc4:
        readHuffmanTables(data, seg, end, tables);
        break;
      case 0xc0:
      case 0xc1:
        frame = readFrameHeader(data, seg);
        break;
      case 0xc2:
      case 0xc3:
      case 0xc5:
      case 0xc6:
      case 0xc7:
      case 0xc9:
      case 0xca:
      case 0xcb:
      case 0xcd:
      case 0xce:
      case 0xcf:
        throw new DicomImageError(
          'unsupported-transfer-syntax',
          `JPEG process SOF${(marker - 0xc0).toString()} (progressive, lossless, hierarchical or arithmetic) in a sequential DCT transfer syntax is not decoded`,
        );
      case 0xdd:
        tables.restartInterval = u16(data, seg);
        break;
      case 0xda:
        if (!frame || frame.components.length === 0) throw corrupt('SOS before SOF');
        pos = decodeScan(data, seg, end, frame, tables);
        continue;
      default:
        break; // APPn, COM, DNL...
    }
    pos = end;
  }
  if (!frame || frame.components.length === 0) throw corrupt('no SOF0/SOF1 frame header');
  const decoded = frame;
  const planes = decoded.components.map((c) => {
    const q = tables.quant[c.tq];
    if (!q) throw corrupt(`quantisation table ${c.tq} is not defined`);
    return fullResolutionPlane(c, q, decoded);
  });
  return { width: decoded.width, height: decoded.height, precision: decoded.precision, planes };
}
