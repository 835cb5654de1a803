import { findTransferSyntax } from '../shared/imaging/transfer-syntax.ts';
import { nonImageReason, nonImageSopClass } from '../shared/imaging/sop-class.ts';
import type { InstanceHeader } from './instance-header.ts';

/** Which stored instances are announced on dicom.arrived as images to label. */
export interface AnnouncePolicy {
  /** (0008,0060) values of radiographs, upper case (CR, DX). */
  modalities: ReadonlySet<string>;
  /** (0018,0015) values that mean the chest, upper case. */
  bodyParts: ReadonlySet<string>;
  /** Announce radiographs without (0018,0015): the report's procedure decides later. */
  announceWithoutBodyPart: boolean;
}

export type AnnounceDecision =
  | { announce: true }
  /** Stored, not announced; `reason` is the counter label. */
  | { announce: false; reason: string };

/**
 * The gateway stores every instance it accepts; it announces only chest radiographs the labelling
 * can use. Non-image objects (SR, SEG, PR, KO, RT, PDF...), images of other modalities or body
 * parts, images without an accession (nothing to join with a report) and pixel data in a transfer
 * syntax the imaging code does not decode are kept with a counted reason instead.
 */
export function decideAnnouncement(header: InstanceHeader, policy: AnnouncePolicy): AnnounceDecision {
  const kind = nonImageSopClass(header.sopClassUid);
  if (kind) return { announce: false, reason: nonImageReason(kind) };
  if (!header.hasPixelData || !header.rows || !header.columns || !header.pixel) {
    return { announce: false, reason: 'no-pixel-data' };
  }
  const modality = (header.modality ?? '').toUpperCase();
  if (!policy.modalities.has(modality)) return { announce: false, reason: 'not-radiograph' };
  const bodyPart = (header.bodyPartExamined ?? '').toUpperCase();
  if (bodyPart ? !policy.bodyParts.has(bodyPart) : !policy.announceWithoutBodyPart) {
    return { announce: false, reason: 'not-chest' };
  }
  if (!header.accession) return { announce: false, reason: 'no-accession' };
  if (!header.studyInstanceUid || !header.seriesInstanceUid || !header.photometricInterpretation) {
    return { announce: false, reason: 'missing-attribute' };
  }
  if (!header.transferSyntaxUid || !findTransferSyntax(header.transferSyntaxUid)) {
    return { announce: false, reason: 'transfer-syntax-not-decoded' };
  }
  return { announce: true };
}
