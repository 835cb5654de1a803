/**
 * The DicomArrived Avro record (schemas/DicomArrived.avsc) as JavaScript values: what a PACS
 * router publishes for a stored image (the feed and backfill write it, the pseudo-labeler reads it).
 */
export interface DicomArrivedEvent {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string | null;
  accession: string;
  patientPseudonym: string | null;
  modality: string;
  viewPosition: string | null;
  bodyPartExamined: string | null;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  samplesPerPixel: number;
  numberOfFrames: number;
  pixelSpacing: number[] | null;
  photometricInterpretation: string;
  transferSyntaxUid: string;
  uri: string;
  sizeBytes: number | null;
  sha256: string | null;
  /** Epoch ms. */
  arrivedAt: number;
}

/** The DicomArrived fields a reader takes from the image's pixel module (Image Pixel, 0028 group). */
export type DicomPixelEncoding = Pick<
  DicomArrivedEvent,
  | 'bitsAllocated'
  | 'bitsStored'
  | 'pixelRepresentation'
  | 'samplesPerPixel'
  | 'numberOfFrames'
  | 'pixelSpacing'
>;
