/**
 * Which DICOM objects are images. A PACS holds, next to the radiographs, structured reports, key
 * object selections, presentation states, segmentations, RT plans, PDFs...: none of them has pixels
 * a detector can learn from, and recording them as "images waiting for a report" only adds noise.
 * The one decision, used by the DICOM gateway, backfill and the pseudo-labeler.
 */

/** Why an object is not an image, as a short reason for counters and summaries. */
export type NonImageKind =
  | 'structured-report'
  | 'key-object-selection'
  | 'presentation-state'
  | 'segmentation'
  | 'radiotherapy'
  | 'encapsulated-document'
  | 'waveform'
  | 'raw-data'
  | 'registration'
  | 'measurements'
  | 'annotation'
  | 'protocol'
  | 'verification';

const STORAGE = '1.2.840.10008.5.1.4.1.1.';

/** Storage SOP class UID prefixes (PS3.4 annex B / PS3.6) of objects without an image. */
const NON_IMAGE_PREFIXES: ReadonlyArray<readonly [string, NonImageKind]> = [
  [`${STORAGE}88.59`, 'key-object-selection'],
  [`${STORAGE}88.`, 'structured-report'],
  [`${STORAGE}11.`, 'presentation-state'],
  [`${STORAGE}66.4`, 'segmentation'],
  [`${STORAGE}66.5`, 'segmentation'],
  [`${STORAGE}66.6`, 'segmentation'], // tractography results
  [`${STORAGE}66.1`, 'registration'],
  [`${STORAGE}66.2`, 'registration'], // spatial fiducials
  [`${STORAGE}66.3`, 'registration'], // deformable registration
  [`${STORAGE}66`, 'raw-data'],
  [`${STORAGE}67`, 'measurements'], // real world value mapping
  [`${STORAGE}68.`, 'measurements'], // surface scan mesh / point cloud
  [`${STORAGE}78.`, 'measurements'], // ophthalmic refractive measurements
  [`${STORAGE}79.`, 'measurements'],
  [`${STORAGE}80.`, 'measurements'],
  [`${STORAGE}81.`, 'measurements'],
  [`${STORAGE}82.`, 'measurements'],
  [`${STORAGE}90.`, 'measurements'], // content assessment results
  [`${STORAGE}91.`, 'annotation'], // microscopy bulk simple annotations
  [`${STORAGE}104.`, 'encapsulated-document'], // PDF, CDA, STL, OBJ, MTL
  [`${STORAGE}9.`, 'waveform'],
  [`${STORAGE}200.`, 'protocol'], // defined/performed procedure protocols
  [`${STORAGE}481.`, 'radiotherapy'],
  ['1.2.840.10008.5.1.4.34.', 'radiotherapy'], // RT second generation, treatment summaries
  ['1.2.840.10008.5.1.4.38.', 'protocol'], // hanging protocols
  ['1.2.840.10008.5.1.4.39.', 'protocol'], // colour palettes
  ['1.2.840.10008.5.1.4.43.', 'protocol'], // implant templates
  ['1.2.840.10008.5.1.4.44.', 'protocol'],
  ['1.2.840.10008.5.1.4.45.', 'protocol'],
  ['1.2.840.10008.1.1', 'verification'],
];

/** Prefix matching on whole UID components: "….66" matches "….66" and "….66.x", not "….660". */
function matches(uid: string, prefix: string): boolean {
  if (prefix.endsWith('.')) return uid.startsWith(prefix);
  return uid === prefix || uid.startsWith(`${prefix}.`);
}

/**
 * The kind of non-image object a SOP class is, or null for an image (or a class we do not know,
 * private ones included: those are given the benefit of the doubt, and the pixel checks decide).
 */
export function nonImageSopClass(sopClassUid: string | null | undefined): NonImageKind | null {
  const uid = (sopClassUid ?? '').replace(/\0/g, '').trim();
  if (!uid) return null;
  for (const [prefix, kind] of NON_IMAGE_PREFIXES) if (matches(uid, prefix)) return kind;
  return null;
}

/** The counter/summary reason for a skipped non-image object, e.g. `non-image:structured-report`. */
export function nonImageReason(kind: NonImageKind): `non-image:${NonImageKind}` {
  return `non-image:${kind}`;
}
