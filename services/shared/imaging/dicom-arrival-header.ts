/**
 * What a PACS router knows about a stored DICOM file from its header: what the DicomArrived event
 * (schemas/DicomArrived.avsc) needs beyond identity. Pure: bytes in, values out.
 */
import dicomParser from 'dicom-parser';
import type { DicomPixelEncoding } from '../events/dicom-arrived.ts';
import { FailureError } from '../errors.ts';

/** The header attributes the event needs that the cohort manifest does not carry. */
export interface DicomArrivalHeader extends DicomPixelEncoding {
  sopInstanceUid: string | null;
  sopClassUid: string | null;
  bodyPartExamined: string | null;
  /** StudyDate + StudyTime read as UTC (how the synthetic hospital writes them), epoch ms; null if absent. */
  studyTime: number | null;
}

/** The DicomArrived fields that come from the header's pixel module as they are. */
export function pixelEncodingFields(header: DicomArrivalHeader): DicomPixelEncoding {
  return {
    bitsAllocated: header.bitsAllocated,
    bitsStored: header.bitsStored,
    pixelRepresentation: header.pixelRepresentation,
    samplesPerPixel: header.samplesPerPixel,
    numberOfFrames: header.numberOfFrames,
    pixelSpacing: header.pixelSpacing,
  };
}

export class DicomHeaderError extends FailureError {}

function text(ds: dicomParser.DataSet, tag: string): string | null {
  const v = ds.string(tag)?.trim();
  return v ? v : null;
}

function uint16(ds: dicomParser.DataSet, tag: string, fallback?: number): number {
  const el = ds.elements[tag];
  if (!el || el.length < 2) {
    if (fallback !== undefined) return fallback;
    throw new DicomHeaderError(`missing (${tag.slice(1, 5)},${tag.slice(5)})`);
  }
  return ds.uint16(tag)!;
}

function dicomDateTime(date: string | null, time: string | null): number | null {
  const d = date?.match(/^(\d{4})(\d{2})(\d{2})$/);
  if (!d) return null;
  const t = (time ?? '').match(/^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?/);
  const ms = Date.UTC(
    Number(d[1]),
    Number(d[2]) - 1,
    Number(d[3]),
    Number(t?.[1] ?? 0),
    Number(t?.[2] ?? 0),
    Number(t?.[3] ?? 0),
    Math.floor(Number(`0.${t?.[4] ?? '0'}`) * 1000),
  );
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Reads the arrival header from the start of a Part 10 file; parsing stops at the pixel data, so
 * the first few kilobytes are enough. Throws DicomHeaderError when the bytes are not DICOM or end
 * before the pixel data (callers then retry with the whole file).
 */
export function readDicomArrivalHeader(bytes: Uint8Array): DicomArrivalHeader {
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
  } catch (err) {
    const why = err instanceof Error ? err.message : typeof err === 'string' ? err : 'unparseable';
    throw new DicomHeaderError(`not a readable DICOM header: ${why}`);
  }
  const spacing = text(ds, 'x00280030') ?? text(ds, 'x00181164');
  const pixelSpacing = spacing ? spacing.split('\\').map(Number) : null;
  return {
    sopInstanceUid: text(ds, 'x00080018'),
    sopClassUid: text(ds, 'x00080016'),
    bodyPartExamined: text(ds, 'x00180015'),
    bitsAllocated: uint16(ds, 'x00280100'),
    bitsStored: uint16(ds, 'x00280101'),
    pixelRepresentation: uint16(ds, 'x00280103'),
    samplesPerPixel: uint16(ds, 'x00280002', 1),
    numberOfFrames: Number(text(ds, 'x00280008') ?? 1) || 1,
    pixelSpacing:
      pixelSpacing && pixelSpacing.length === 2 && pixelSpacing.every((v) => v > 0) ? pixelSpacing : null,
    studyTime: dicomDateTime(text(ds, 'x00080020'), text(ds, 'x00080030')),
  };
}
