import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArchiveImageError, dicomArrivalFromFile } from '../../../services/app/backfill/dicom-arrival.ts';
import { nonImageReason, nonImageSopClass } from '../../../services/shared/imaging/sop-class.ts';
import { writeDicom } from '../../support/dicom-writer.ts';

describe('nonImageSopClass', () => {
  it('names the kind of the non-image objects a PACS holds', () => {
    const cases: Array<[string, string]> = [
      ['1.2.840.10008.5.1.4.1.1.88.11', 'structured-report'], // Basic Text SR
      ['1.2.840.10008.5.1.4.1.1.88.22', 'structured-report'], // Enhanced SR
      ['1.2.840.10008.5.1.4.1.1.88.59', 'key-object-selection'],
      ['1.2.840.10008.5.1.4.1.1.11.1', 'presentation-state'], // GSPS
      ['1.2.840.10008.5.1.4.1.1.66.4', 'segmentation'],
      ['1.2.840.10008.5.1.4.1.1.481.5', 'radiotherapy'], // RT Plan
      ['1.2.840.10008.5.1.4.1.1.104.1', 'encapsulated-document'], // PDF
      ['1.2.840.10008.5.1.4.1.1.9.1.1', 'waveform'], // 12-lead ECG
      ['1.2.840.10008.5.1.4.1.1.66', 'raw-data'],
    ];
    for (const [uid, kind] of cases) assert.equal(nonImageSopClass(uid), kind, uid);
  });

  it('leaves images, unknown and private classes to the pixel checks', () => {
    for (const uid of [
      '1.2.840.10008.5.1.4.1.1.1', // CR
      '1.2.840.10008.5.1.4.1.1.1.1', // DX for presentation
      '1.2.840.10008.5.1.4.1.1.7', // secondary capture
      '1.2.840.10008.5.1.4.1.1.660', // not .66 (whole components only)
      '1.3.12.2.1107.5.9.1', // private
      '',
      null,
    ])
      assert.equal(nonImageSopClass(uid), null, String(uid));
  });
});

describe('backfill: dicomArrivalFromFile', () => {
  it('skips a segmentation (1-bit SEG) with a counted reason instead of recording it as an image', () => {
    const seg = writeDicom({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.66.4',
      rows: 8,
      columns: 8,
      bitsAllocated: 8,
      pixelBytes: new Uint8Array(64),
    });
    assert.throws(
      () => dicomArrivalFromFile(seg, { uri: 'file:///seg.dcm', sizeBytes: seg.length, sha256: 'x' }, 0),
      (err: ArchiveImageError) => {
        assert.equal(err.reason, nonImageReason('segmentation'));
        assert.equal(err.skipped, true);
        return true;
      },
    );
  });
});
