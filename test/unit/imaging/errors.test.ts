import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  DicomImageError,
  dicomToModelInput,
  type DicomErrorCode,
} from '../../../services/shared/imaging/index.ts';
import { bytes16, writeDicom } from '../../support/dicom-writer.ts';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/dicom/${name}`, import.meta.url)));
const small = {
  rows: 4,
  columns: 4,
  bitsAllocated: 16 as const,
  pixelBytes: bytes16(new Array(16).fill(100)),
};

async function rejectsWith(bytes: Uint8Array, code: DicomErrorCode, message: RegExp, options = {}) {
  await assert.rejects(dicomToModelInput(bytes, options), (err: unknown) => {
    assert.ok(err instanceof DicomImageError, `expected DicomImageError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    assert.equal(err.expected, true);
    return true;
  });
}

describe('broken or unsupported files fail with a clear reason', () => {
  it('not a DICOM file', async () => {
    await rejectsWith(
      new TextEncoder().encode('\x89PNG\r\n\x1a\n not a dicom'),
      'not-dicom',
      /not a DICOM file: no "DICM" marker/,
    );
    await rejectsWith(new Uint8Array(0), 'not-dicom', /not a DICOM file/);
  });

  it('an unsupported transfer syntax is named', async () => {
    await rejectsWith(
      writeDicom({ ...small, transferSyntaxUid: '1.2.840.10008.1.2.4.100' }),
      'unsupported-transfer-syntax',
      /unsupported transfer syntax 1\.2\.840\.10008\.1\.2\.4\.100 \(MPEG2 Main Profile \/ Main Level\): video/,
    );
    await rejectsWith(
      writeDicom({ ...small, transferSyntaxUid: '1.2.3.4' }),
      'unsupported-transfer-syntax',
      /unsupported transfer syntax 1\.2\.3\.4/,
    );
  });

  it('truncated native pixel data', async () => {
    const whole = writeDicom({
      rows: 64,
      columns: 64,
      bitsAllocated: 16,
      pixelBytes: bytes16(new Array(4096).fill(5)),
    });
    await rejectsWith(whole.subarray(0, whole.length - 1000), 'truncated-pixel-data', /truncated pixel data/);
  });

  it('truncated compressed pixel data', async () => {
    const rle = fixture('rle.dcm');
    await rejectsWith(rle.subarray(0, rle.length - 500), 'truncated-pixel-data', /truncat|past/);
  });

  it('a corrupt compressed stream', async () => {
    const garbage = Uint8Array.from({ length: 300 }, (_, i) => (i * 73) % 256);
    const spec = { ...small, pixelBytes: undefined, fragments: [garbage] };
    for (const ts of [
      '1.2.840.10008.1.2.4.90',
      '1.2.840.10008.1.2.4.80',
      '1.2.840.10008.1.2.4.70',
      '1.2.840.10008.1.2.5',
    ]) {
      await rejectsWith(writeDicom({ ...spec, transferSyntaxUid: ts }), 'corrupt-pixel-data', /./);
    }
  });

  it('an image larger than the pixel limit is refused before decoding', async () => {
    await rejectsWith(writeDicom(small), 'too-large', /image 4x4 has 16 pixels, above the limit of 10/, {
      maxPixels: 10,
    });
  });

  it('palette colour and colour images whose samples do not match are refused', async () => {
    await rejectsWith(
      writeDicom({ ...small, photometricInterpretation: 'PALETTE COLOR' }),
      'unsupported-pixel-format',
      /unsupported photometric interpretation PALETTE COLOR: indices into a colour lookup table/,
    );
    await rejectsWith(
      writeDicom({ ...small, photometricInterpretation: 'RGB' }),
      'unsupported-pixel-format',
      /SamplesPerPixel 1 with RGB, which has 3/,
    );
  });

  it('an unsupported BitsAllocated is refused', async () => {
    await rejectsWith(
      writeDicom({ ...small, bitsAllocated: 8, bitsStored: 12 } as never),
      'unsupported-pixel-format',
      /BitsStored 12/,
    );
  });

  it('compressed transfer syntax without encapsulated data', async () => {
    await rejectsWith(
      writeDicom({ ...small, transferSyntaxUid: '1.2.840.10008.1.2.5' }),
      'corrupt-pixel-data',
      /needs encapsulated pixel data/,
    );
  });
});
