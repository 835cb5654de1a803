/** The DicomArrived event of a synthetic cohort's image, from its manifest line and its header. */
import type { DicomArrivedEvent } from '../../services/shared/events/dicom-arrived.ts';
import {
  pixelEncodingFields,
  type DicomArrivalHeader,
} from '../../services/shared/imaging/dicom-arrival-header.ts';
import type { ManifestLine } from './study-output.ts';

/** The event for one image: identity from the manifest, pixel geometry from the header. */
export function dicomArrivedRecord(
  m: ManifestLine,
  header: DicomArrivalHeader,
  file: { uri: string; sizeBytes: number | null; sha256: string | null },
  arrivedAt: number,
  patientPseudonym: string | null,
): DicomArrivedEvent {
  return {
    studyInstanceUid: m.studyInstanceUid,
    seriesInstanceUid: m.seriesInstanceUid,
    sopInstanceUid: m.sopInstanceUid,
    sopClassUid: header.sopClassUid,
    accession: m.accession,
    patientPseudonym,
    modality: m.modality,
    viewPosition: m.viewPosition ?? null,
    bodyPartExamined: header.bodyPartExamined,
    rows: m.rows,
    columns: m.columns,
    ...pixelEncodingFields(header),
    photometricInterpretation: m.photometricInterpretation,
    transferSyntaxUid: m.transferSyntaxUid,
    uri: file.uri,
    sizeBytes: file.sizeBytes,
    sha256: file.sha256,
    arrivedAt,
  };
}
