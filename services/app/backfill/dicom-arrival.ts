import {
  DicomHeaderError,
  pixelEncodingFields,
  readDicomArrivalHeader,
} from '../../shared/imaging/dicom-arrival-header.ts';
import dicomParser from 'dicom-parser';
import type { DicomArrivedEvent } from '../../shared/events/dicom-arrived.ts';
import { nonImageReason, nonImageSopClass, type NonImageKind } from '../../shared/imaging/sop-class.ts';
import { HarvesterError } from '../../shared/errors.ts';

type ArchiveImageReason = 'not-dicom' | 'missing-attribute' | `non-image:${NonImageKind}`;

/** A stored DICOM file that cannot be recorded as an image; `reason` is a short code for the summary. */
export class ArchiveImageError extends HarvesterError<ArchiveImageReason> {
  constructor(
    readonly reason: ArchiveImageReason,
    message: string,
  ) {
    super(reason, message, { expected: false });
  }

  /** Not a failure: an object that is not an image (SR, SEG, PR, KO...), skipped on purpose. */
  get skipped(): boolean {
    return this.reason.startsWith('non-image:');
  }
}

function text(ds: dicomParser.DataSet, tag: string): string | null {
  const v = ds.string(tag)?.trim();
  return v ? v : null;
}

function required(ds: dicomParser.DataSet, tag: string, name: string): string {
  const v = text(ds, tag);
  if (!v)
    throw new ArchiveImageError('missing-attribute', `missing ${name} (${tag.slice(1, 5)},${tag.slice(5)})`);
  return v;
}

/**
 * The DicomArrived record a PACS router would publish for a stored file, read from its header:
 * identity (study, series, SOP instance, accession), geometry and encoding. Pure: bytes in.
 * arrivedAt is the study's date and time when the header has them, else `fallbackArrivedAt`.
 */
export function dicomArrivalFromFile(
  bytes: Uint8Array,
  file: { uri: string; sizeBytes: number; sha256: string },
  fallbackArrivedAt: number,
): DicomArrivedEvent {
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
  } catch (err) {
    const why = err instanceof Error ? err.message : typeof err === 'string' ? err : 'unparseable';
    throw new ArchiveImageError('not-dicom', `not a readable DICOM file: ${why}`);
  }
  const kind = nonImageSopClass(text(ds, 'x00080016') ?? text(ds, 'x00020002'));
  if (kind)
    throw new ArchiveImageError(nonImageReason(kind), `SOP class ${text(ds, 'x00080016')} is not an image`);
  let header;
  try {
    header = readDicomArrivalHeader(bytes);
  } catch (err) {
    if (err instanceof DicomHeaderError) throw new ArchiveImageError('missing-attribute', err.message);
    throw err;
  }
  const rows = ds.uint16('x00280010');
  const columns = ds.uint16('x00280011');
  if (!(rows && rows > 0 && columns && columns > 0)) {
    throw new ArchiveImageError('missing-attribute', 'missing Rows/Columns (0028,0010/0011)');
  }
  return {
    studyInstanceUid: required(ds, 'x0020000d', 'StudyInstanceUID'),
    seriesInstanceUid: required(ds, 'x0020000e', 'SeriesInstanceUID'),
    sopInstanceUid: required(ds, 'x00080018', 'SOPInstanceUID'),
    sopClassUid: header.sopClassUid,
    accession: required(ds, 'x00080050', 'AccessionNumber'),
    // the archive path does not carry the patient: reports link studies to pseudonymised patients
    patientPseudonym: null,
    modality: text(ds, 'x00080060') ?? 'OT',
    viewPosition: text(ds, 'x00185101'),
    bodyPartExamined: header.bodyPartExamined,
    rows,
    columns,
    ...pixelEncodingFields(header),
    photometricInterpretation: required(ds, 'x00280004', 'PhotometricInterpretation'),
    transferSyntaxUid: required(ds, 'x00020010', 'TransferSyntaxUID'),
    uri: file.uri,
    sizeBytes: file.sizeBytes,
    sha256: file.sha256,
    arrivedAt: header.studyTime ?? fallbackArrivedAt,
  };
}
