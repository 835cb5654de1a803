import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideAnnouncement,
  type AnnouncePolicy,
} from '../../../services/dicom-gateway/announce-decision.ts';
import type { InstanceHeader } from '../../../services/dicom-gateway/instance-header.ts';

const policy: AnnouncePolicy = {
  modalities: new Set(['CR', 'DX']),
  bodyParts: new Set(['CHEST', 'THORAX']),
  announceWithoutBodyPart: true,
};

const chestDx: InstanceHeader = {
  sopClassUid: '1.2.840.10008.5.1.4.1.1.1.1',
  sopInstanceUid: '1.2.3.4',
  studyInstanceUid: '1.2.3',
  seriesInstanceUid: '1.2.3.1',
  accession: 'ACC1',
  patientId: 'MRN',
  modality: 'DX',
  viewPosition: 'PA',
  bodyPartExamined: 'CHEST',
  rows: 2048,
  columns: 2048,
  photometricInterpretation: 'MONOCHROME2',
  transferSyntaxUid: '1.2.840.10008.1.2.4.70',
  hasPixelData: true,
  pixel: {
    sopInstanceUid: '1.2.3.4',
    sopClassUid: null,
    bodyPartExamined: 'CHEST',
    bitsAllocated: 16,
    bitsStored: 12,
    pixelRepresentation: 0,
    samplesPerPixel: 1,
    numberOfFrames: 1,
    pixelSpacing: null,
    studyTime: null,
  },
};

describe('decideAnnouncement', () => {
  it('announces a chest radiograph with an accession, and one without a body part (the report decides)', () => {
    assert.deepEqual(decideAnnouncement(chestDx, policy), { announce: true });
    assert.deepEqual(decideAnnouncement({ ...chestDx, bodyPartExamined: null }, policy), { announce: true });
  });

  it('stores but does not announce everything else, with the reason', () => {
    const cases: Array<[Partial<InstanceHeader>, string]> = [
      [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.88.22', hasPixelData: false }, 'non-image:structured-report'],
      [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.66.4' }, 'non-image:segmentation'],
      [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.11.1' }, 'non-image:presentation-state'],
      [{ hasPixelData: false }, 'no-pixel-data'],
      [{ modality: 'CT' }, 'not-radiograph'],
      [{ bodyPartExamined: 'KNEE' }, 'not-chest'],
      [{ accession: null }, 'no-accession'],
      [{ transferSyntaxUid: '1.2.840.10008.1.2.4.100' }, 'transfer-syntax-not-decoded'],
    ];
    for (const [change, reason] of cases) {
      assert.deepEqual(
        decideAnnouncement({ ...chestDx, ...change }, policy),
        { announce: false, reason },
        reason,
      );
    }
    assert.deepEqual(
      decideAnnouncement(
        { ...chestDx, bodyPartExamined: null },
        { ...policy, announceWithoutBodyPart: false },
      ),
      { announce: false, reason: 'not-chest' },
    );
  });
});
