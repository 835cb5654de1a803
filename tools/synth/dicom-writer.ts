/**
 * Writes DICOM Part 10 files for synthetic chest radiographs (CR or DX for presentation),
 * Explicit VR Little Endian or RLE Lossless, byte by byte: the writer is small and the output
 * is fully determined by its input.
 */
import { encodeRle16 } from './rle-encoder.ts';

export const SOP_CLASS = {
  CR: '1.2.840.10008.5.1.4.1.1.1',
  DX: '1.2.840.10008.5.1.4.1.1.1.1',
} as const;
export const TRANSFER_SYNTAX = {
  explicitLittle: '1.2.840.10008.1.2.1',
  rleLossless: '1.2.840.10008.1.2.5',
} as const;
/** Our implementation class UID (2.25 form, fixed) and version name. */
export const IMPLEMENTATION_CLASS_UID = '2.25.184225805932271735489112309856348621377';
export const IMPLEMENTATION_VERSION = 'FH_SYNTH_1';

export interface DicomImageAttributes {
  modality: 'CR' | 'DX';
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  accessionNumber: string;
  patientId: string;
  /** DICOM PN: Family^Given */
  patientName: string;
  patientBirthDate: string;
  patientSex: 'M' | 'F';
  studyDate: string;
  studyTime: string;
  studyId: string;
  studyDescription: string;
  seriesNumber: number;
  instanceNumber: number;
  viewPosition: 'PA' | 'AP';
  institutionName: string;
  referringPhysician: string;
  rows: number;
  columns: number;
  pixelSpacingMm: number;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
  photometricInterpretation: 'MONOCHROME1' | 'MONOCHROME2';
  rescaleSlope: number;
  rescaleIntercept: number;
  windowCenter: number;
  windowWidth: number;
}

type Value = string | number[] | Uint8Array;
interface Element {
  tag: number;
  vr: string;
  value: Value;
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'SQ', 'UT', 'UN', 'UC', 'UR', 'SV', 'UV']);

/** DS values: at most 16 characters, no exponent for the ranges we write. */
export function formatDs(v: number): string {
  const s = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(10)));
  if (s.length > 16) throw new Error(`DS value ${v} does not fit 16 characters`);
  return s;
}

function valueBytes(vr: string, value: Value): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') {
    const raw = Buffer.from(value, 'latin1');
    if (raw.length % 2 === 0) return raw;
    const padded = Buffer.alloc(raw.length + 1, vr === 'UI' ? 0 : 0x20);
    raw.copy(padded);
    return padded;
  }
  const width = vr === 'US' || vr === 'SS' ? 2 : 4;
  const out = Buffer.alloc(value.length * width);
  value.forEach((v, i) => {
    if (vr === 'US') out.writeUInt16LE(v, i * 2);
    else if (vr === 'SS') out.writeInt16LE(v, i * 2);
    else if (vr === 'UL') out.writeUInt32LE(v, i * 4);
    else throw new Error(`numeric VR ${vr} is not supported by this writer`);
  });
  return out;
}

function encodeElement(el: Element, undefinedLength = false): Buffer {
  const bytes = valueBytes(el.vr, el.value);
  const long = LONG_VRS.has(el.vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(el.tag >>> 16, 0);
  head.writeUInt16LE(el.tag & 0xffff, 2);
  head.write(el.vr, 4, 'latin1');
  if (long) head.writeUInt32LE(undefinedLength ? 0xffffffff : bytes.length, 8);
  else {
    if (bytes.length > 0xffff) throw new Error(`element ${el.tag.toString(16)} too long for VR ${el.vr}`);
    head.writeUInt16LE(bytes.length, 6);
  }
  return Buffer.concat([head, bytes]);
}

function item(tag: number, bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0xfffe, 0);
  head.writeUInt16LE(tag, 2);
  head.writeUInt32LE(bytes.length, 4);
  return Buffer.concat([head, bytes]);
}

function datasetElements(a: DicomImageAttributes): Element[] {
  const dx = a.modality === 'DX';
  const els: Element[] = [
    { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 100' },
    { tag: 0x00080008, vr: 'CS', value: 'ORIGINAL\\PRIMARY' },
    { tag: 0x00080016, vr: 'UI', value: SOP_CLASS[a.modality] },
    { tag: 0x00080018, vr: 'UI', value: a.sopInstanceUid },
    { tag: 0x00080020, vr: 'DA', value: a.studyDate },
    { tag: 0x00080021, vr: 'DA', value: a.studyDate },
    { tag: 0x00080023, vr: 'DA', value: a.studyDate },
    { tag: 0x00080030, vr: 'TM', value: a.studyTime },
    { tag: 0x00080031, vr: 'TM', value: a.studyTime },
    { tag: 0x00080033, vr: 'TM', value: a.studyTime },
    { tag: 0x00080050, vr: 'SH', value: a.accessionNumber },
    { tag: 0x00080060, vr: 'CS', value: a.modality },
    { tag: 0x00080070, vr: 'LO', value: 'fracture-harvester synthetic' },
    { tag: 0x00080080, vr: 'LO', value: a.institutionName },
    { tag: 0x00080090, vr: 'PN', value: a.referringPhysician },
    { tag: 0x00081030, vr: 'LO', value: a.studyDescription },
    { tag: 0x0008103e, vr: 'LO', value: `CHEST ${a.viewPosition}` },
    { tag: 0x00100010, vr: 'PN', value: a.patientName },
    { tag: 0x00100020, vr: 'LO', value: a.patientId },
    { tag: 0x00100030, vr: 'DA', value: a.patientBirthDate },
    { tag: 0x00100040, vr: 'CS', value: a.patientSex },
    { tag: 0x00180015, vr: 'CS', value: 'CHEST' },
    { tag: 0x00181164, vr: 'DS', value: `${formatDs(a.pixelSpacingMm)}\\${formatDs(a.pixelSpacingMm)}` },
    { tag: 0x00185101, vr: 'CS', value: a.viewPosition },
    { tag: 0x0020000d, vr: 'UI', value: a.studyInstanceUid },
    { tag: 0x0020000e, vr: 'UI', value: a.seriesInstanceUid },
    { tag: 0x00200010, vr: 'SH', value: a.studyId },
    { tag: 0x00200011, vr: 'IS', value: String(a.seriesNumber) },
    { tag: 0x00200013, vr: 'IS', value: String(a.instanceNumber) },
    { tag: 0x00200020, vr: 'CS', value: 'L\\F' },
    { tag: 0x00280002, vr: 'US', value: [1] },
    { tag: 0x00280004, vr: 'CS', value: a.photometricInterpretation },
    { tag: 0x00280010, vr: 'US', value: [a.rows] },
    { tag: 0x00280011, vr: 'US', value: [a.columns] },
    { tag: 0x00280030, vr: 'DS', value: `${formatDs(a.pixelSpacingMm)}\\${formatDs(a.pixelSpacingMm)}` },
    { tag: 0x00280100, vr: 'US', value: [16] },
    { tag: 0x00280101, vr: 'US', value: [a.bitsStored] },
    { tag: 0x00280102, vr: 'US', value: [a.bitsStored - 1] },
    { tag: 0x00280103, vr: 'US', value: [a.pixelRepresentation] },
    { tag: 0x00281050, vr: 'DS', value: formatDs(a.windowCenter) },
    { tag: 0x00281051, vr: 'DS', value: formatDs(a.windowWidth) },
    { tag: 0x00281052, vr: 'DS', value: formatDs(a.rescaleIntercept) },
    { tag: 0x00281053, vr: 'DS', value: formatDs(a.rescaleSlope) },
    { tag: 0x00281054, vr: 'LO', value: 'US' },
    { tag: 0x00282110, vr: 'CS', value: '00' },
  ];
  if (dx) {
    els.push(
      { tag: 0x00080068, vr: 'CS', value: 'FOR PRESENTATION' },
      { tag: 0x00281040, vr: 'CS', value: 'LOG' },
      // +1: lower values mean less beam intensity (more attenuation), as MONOCHROME1 stores it.
      { tag: 0x00281041, vr: 'SS', value: [a.photometricInterpretation === 'MONOCHROME1' ? 1 : -1] },
    );
  }
  return els.sort((x, y) => x.tag - y.tag);
}

/** A complete Part 10 file: preamble, DICM, file meta (group 2), dataset, pixel data. */
export function writeDicomFile(a: DicomImageAttributes, words: Uint16Array, compressed: boolean): Buffer {
  if (words.length !== a.rows * a.columns) throw new Error('pixel count does not match rows x columns');
  const transferSyntax = compressed ? TRANSFER_SYNTAX.rleLossless : TRANSFER_SYNTAX.explicitLittle;
  const meta = Buffer.concat(
    [
      { tag: 0x00020001, vr: 'OB', value: new Uint8Array([0, 1]) },
      { tag: 0x00020002, vr: 'UI', value: SOP_CLASS[a.modality] },
      { tag: 0x00020003, vr: 'UI', value: a.sopInstanceUid },
      { tag: 0x00020010, vr: 'UI', value: transferSyntax },
      { tag: 0x00020012, vr: 'UI', value: IMPLEMENTATION_CLASS_UID },
      { tag: 0x00020013, vr: 'SH', value: IMPLEMENTATION_VERSION },
    ].map((e) => encodeElement(e)),
  );
  const groupLength = encodeElement({ tag: 0x00020000, vr: 'UL', value: [meta.length] });
  const body = datasetElements(a).map((e) => encodeElement(e));
  let pixelData: Buffer;
  if (compressed) {
    const fragment = encodeRle16(words, a.rows, a.columns);
    const delimiter = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    pixelData = Buffer.concat([
      encodeElement({ tag: 0x7fe00010, vr: 'OB', value: new Uint8Array(0) }, true),
      item(0xe000, new Uint8Array(0)), // empty basic offset table: one frame
      item(0xe000, fragment),
      delimiter,
    ]);
  } else {
    const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
    // Typed arrays are little-endian on every platform Node supports; say so rather than assume.
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
      throw new Error('big-endian hosts are not supported');
    pixelData = encodeElement({ tag: 0x7fe00010, vr: 'OW', value: bytes });
  }
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    groupLength,
    meta,
    ...body,
    pixelData,
  ]);
}
