/**
 * A minimal DICOM Part 10 writer for tests and fixtures: a DX image header and pixel data, native
 * (explicit or implicit VR little endian) or encapsulated (fragments of a compressed stream).
 * Independent of the reader under test (it does not use dicom-parser).
 */

export interface DicomWriteSpec {
  transferSyntaxUid?: string;
  implicitVr?: boolean;
  sopInstanceUid?: string;
  /** Default: Digital X-Ray Image Storage - For Presentation. */
  sopClassUid?: string;
  rows: number;
  columns: number;
  bitsAllocated: 8 | 16;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  photometricInterpretation?: string;
  samplesPerPixel?: number;
  /** Written when samplesPerPixel > 1 (default 0: interleaved). */
  planarConfiguration?: 0 | 1;
  rescaleSlope?: number;
  rescaleIntercept?: number;
  /** Backslash-separated values allowed, as in DICOM ("40\\400"). */
  windowCenter?: string | number;
  windowWidth?: string | number;
  numberOfFrames?: number;
  /** Native pixel bytes (little endian) ... */
  pixelBytes?: Uint8Array;
  /** ... or the fragments of an encapsulated stream. */
  fragments?: Uint8Array[];
}

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const DX_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.1.1';
const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

type Value = { vr: string; bytes: Uint8Array };

function text(vr: string, value: string): Value {
  let s = value;
  if (s.length % 2 === 1) s += vr === 'UI' ? '\0' : ' ';
  return { vr, bytes: new TextEncoder().encode(s) };
}
function us(value: number): Value {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, value, true);
  return { vr: 'US', bytes: b };
}
function ul(value: number): Value {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value, true);
  return { vr: 'UL', bytes: b };
}

function element(
  group: number,
  elem: number,
  value: Value,
  explicit: boolean,
  undefinedLength = false,
): Uint8Array {
  const length = undefinedLength ? 0xffffffff : value.bytes.length;
  const headerLength = explicit ? (LONG_VRS.has(value.vr) ? 12 : 8) : 8;
  const out = new Uint8Array(headerLength + (undefinedLength ? 0 : value.bytes.length));
  const view = new DataView(out.buffer);
  view.setUint16(0, group, true);
  view.setUint16(2, elem, true);
  if (explicit) {
    out[4] = value.vr.charCodeAt(0);
    out[5] = value.vr.charCodeAt(1);
    if (LONG_VRS.has(value.vr)) view.setUint32(8, length, true);
    else view.setUint16(6, length, true);
  } else {
    view.setUint32(4, length, true);
  }
  if (!undefinedLength) out.set(value.bytes, headerLength);
  return out;
}

function item(tagElem: number, data: Uint8Array): Uint8Array {
  const padded = data.length % 2 === 1 ? concat([data, new Uint8Array(1)]) : data;
  const out = new Uint8Array(8 + padded.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xfffe, true);
  view.setUint16(2, tagElem, true);
  view.setUint32(4, padded.length, true);
  out.set(padded, 8);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function writeDicom(spec: DicomWriteSpec): Uint8Array {
  const ts = spec.transferSyntaxUid ?? (spec.implicitVr ? IMPLICIT_LE : EXPLICIT_LE);
  const explicit = ts !== IMPLICIT_LE;
  const sop = spec.sopInstanceUid ?? '1.2.826.0.1.3680043.10.1.1';
  const metaElements = [
    element(0x0002, 0x0001, { vr: 'OB', bytes: new Uint8Array([0, 1]) }, true),
    element(0x0002, 0x0002, text('UI', spec.sopClassUid ?? DX_SOP_CLASS), true),
    element(0x0002, 0x0003, text('UI', sop), true),
    element(0x0002, 0x0010, text('UI', ts), true),
    element(0x0002, 0x0012, text('UI', '1.2.826.0.1.3680043.10.1.99'), true),
  ];
  const metaBody = concat(metaElements);
  const meta = concat([element(0x0002, 0x0000, ul(metaBody.length), true), metaBody]);

  const bitsStored = spec.bitsStored ?? spec.bitsAllocated;
  const ds: Uint8Array[] = [
    element(0x0008, 0x0016, text('UI', spec.sopClassUid ?? DX_SOP_CLASS), explicit),
    element(0x0008, 0x0018, text('UI', sop), explicit),
    element(0x0008, 0x0060, text('CS', 'DX'), explicit),
    element(0x0018, 0x5101, text('CS', 'PA'), explicit),
    element(0x0028, 0x0002, us(spec.samplesPerPixel ?? 1), explicit),
    element(0x0028, 0x0004, text('CS', spec.photometricInterpretation ?? 'MONOCHROME2'), explicit),
  ];
  if ((spec.samplesPerPixel ?? 1) > 1)
    ds.push(element(0x0028, 0x0006, us(spec.planarConfiguration ?? 0), explicit));
  if (spec.numberOfFrames !== undefined)
    ds.push(element(0x0028, 0x0008, text('IS', String(spec.numberOfFrames)), explicit));
  ds.push(
    element(0x0028, 0x0010, us(spec.rows), explicit),
    element(0x0028, 0x0011, us(spec.columns), explicit),
    element(0x0028, 0x0100, us(spec.bitsAllocated), explicit),
    element(0x0028, 0x0101, us(bitsStored), explicit),
    element(0x0028, 0x0102, us(bitsStored - 1), explicit),
    element(0x0028, 0x0103, us(spec.pixelRepresentation ?? 0), explicit),
  );
  if (spec.windowCenter !== undefined)
    ds.push(element(0x0028, 0x1050, text('DS', String(spec.windowCenter)), explicit));
  if (spec.windowWidth !== undefined)
    ds.push(element(0x0028, 0x1051, text('DS', String(spec.windowWidth)), explicit));
  if (spec.rescaleIntercept !== undefined)
    ds.push(element(0x0028, 0x1052, text('DS', String(spec.rescaleIntercept)), explicit));
  if (spec.rescaleSlope !== undefined)
    ds.push(element(0x0028, 0x1053, text('DS', String(spec.rescaleSlope)), explicit));

  if (spec.fragments) {
    ds.push(element(0x7fe0, 0x0010, { vr: 'OB', bytes: new Uint8Array(0) }, explicit, true));
    ds.push(item(0xe000, new Uint8Array(0))); // empty basic offset table
    for (const f of spec.fragments) ds.push(item(0xe000, f));
    const end = new Uint8Array(8);
    new DataView(end.buffer).setUint16(0, 0xfffe, true);
    new DataView(end.buffer).setUint16(2, 0xe0dd, true);
    ds.push(end);
  } else {
    const pixels = spec.pixelBytes ?? new Uint8Array(0);
    const padded = pixels.length % 2 === 1 ? concat([pixels, new Uint8Array(1)]) : pixels;
    ds.push(element(0x7fe0, 0x0010, { vr: spec.bitsAllocated === 8 ? 'OB' : 'OW', bytes: padded }, explicit));
  }
  return concat([new Uint8Array(128), new TextEncoder().encode('DICM'), meta, ...ds]);
}

/** Little-endian bytes of 16-bit values (signed or unsigned as given). */
export function bytes16(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, values[i]! & 0xffff, true);
  return out;
}
