import {
  DicomHeaderError,
  readDicomArrivalHeader,
  type DicomArrivalHeader,
} from '../shared/imaging/dicom-arrival-header.ts';
import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import { FailureError } from '../shared/errors.ts';

/** What the gateway reads of a received instance (everything before its pixel data). */
export interface InstanceHeader {
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  accession: string | null;
  /** (0010,0020): only ever pseudonymised, never logged or published. */
  patientId: string | null;
  modality: string | null;
  viewPosition: string | null;
  bodyPartExamined: string | null;
  rows: number | null;
  columns: number | null;
  photometricInterpretation: string | null;
  transferSyntaxUid: string | null;
  hasPixelData: boolean;
  /** The pixel module (null for objects without one: SR, KO, PDF...). */
  pixel: DicomArrivalHeader | null;
}

export class HeaderReadError extends FailureError {}

function text(ds: dicomParser.DataSet, tag: string): string | null {
  const v = ds.string(tag)?.replace(/\0/g, '').trim();
  return v ? v : null;
}

function inflater(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(bytes.subarray(position));
  const full = new Uint8Array(position + inflated.length);
  full.set(bytes.subarray(0, position));
  full.set(inflated, position);
  return full;
}

/**
 * Reads the header of a Part 10 file from its first bytes (parsing stops at the pixel data).
 * Throws HeaderReadError when the bytes end before the header does (the caller then reads the
 * whole file) or are not DICOM.
 */
export function readInstanceHeader(bytes: Uint8Array): InstanceHeader {
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010', inflater });
  } catch (err) {
    const why = err instanceof Error ? err.message : typeof err === 'string' ? err : 'unparseable';
    throw new HeaderReadError(`not a readable DICOM header: ${why}`);
  }
  let pixel: DicomArrivalHeader | null = null;
  try {
    pixel = readDicomArrivalHeader(bytes);
  } catch (err) {
    if (!(err instanceof DicomHeaderError)) throw err;
  }
  const rows = ds.elements.x00280010 ? (ds.uint16('x00280010') ?? null) : null;
  const columns = ds.elements.x00280011 ? (ds.uint16('x00280011') ?? null) : null;
  return {
    sopClassUid: text(ds, 'x00080016') ?? text(ds, 'x00020002'),
    sopInstanceUid: text(ds, 'x00080018') ?? text(ds, 'x00020003'),
    studyInstanceUid: text(ds, 'x0020000d'),
    seriesInstanceUid: text(ds, 'x0020000e'),
    accession: text(ds, 'x00080050'),
    patientId: text(ds, 'x00100020'),
    modality: text(ds, 'x00080060'),
    viewPosition: text(ds, 'x00185101'),
    bodyPartExamined: text(ds, 'x00180015'),
    rows,
    columns,
    photometricInterpretation: text(ds, 'x00280004'),
    transferSyntaxUid: text(ds, 'x00020010'),
    hasPixelData: Boolean(ds.elements.x7fe00010 ?? ds.elements.x7fe00008 ?? ds.elements.x7fe00009),
    pixel,
  };
}
