import { test } from 'node:test';
import assert from 'node:assert/strict';
import dicomParser from 'dicom-parser';
import dcmjs from 'dcmjs';
import fc from 'fast-check';
import { decodeRleFrame } from '../../../services/shared/imaging/index.ts';
import {
  writeDicomFile,
  SOP_CLASS,
  TRANSFER_SYNTAX,
  type DicomImageAttributes,
} from '../../../tools/synth/dicom-writer.ts';
import { encodeRle16 } from '../../../tools/synth/rle-encoder.ts';
import { toStoredPixels, type PixelStorage } from '../../../tools/synth/pixel-encoding.ts';
import { drawAnatomy, renderChestImage } from '../../../tools/synth/chest-image.ts';
import { Rng } from '../../../tools/synth/prng.ts';

const SIZE = 128;

function attrs(
  storage: PixelStorage,
  win: { windowCenter: number; windowWidth: number },
  modality: 'CR' | 'DX',
): DicomImageAttributes {
  return {
    modality,
    sopInstanceUid: '2.25.1234567890123456789',
    studyInstanceUid: '2.25.222',
    seriesInstanceUid: '2.25.333',
    accessionNumber: 'A000000042',
    patientId: 'MRN00000001',
    patientName: "O'BRIEN^MARY",
    patientBirthDate: '19500101',
    patientSex: 'F',
    studyDate: '20170304',
    studyTime: '101112',
    studyId: '1',
    studyDescription: 'XR CHEST 1 VIEW',
    seriesNumber: 1,
    instanceNumber: 1,
    viewPosition: 'AP',
    institutionName: 'SYNTHETIC GENERAL HOSPITAL',
    referringPhysician: 'NGUYEN^ANH',
    rows: SIZE,
    columns: SIZE,
    pixelSpacingMm: 3.359,
    bitsStored: storage.bitsStored,
    pixelRepresentation: storage.signed ? 1 : 0,
    photometricInterpretation: storage.monochrome1 ? 'MONOCHROME1' : 'MONOCHROME2',
    rescaleSlope: storage.rescaleSlope,
    rescaleIntercept: storage.rescaleIntercept,
    windowCenter: win.windowCenter,
    windowWidth: win.windowWidth,
  };
}

const STORAGES: PixelStorage[] = [
  { bitsStored: 12, monochrome1: false, signed: false, rescaleSlope: 1, rescaleIntercept: 0 },
  { bitsStored: 14, monochrome1: true, signed: false, rescaleSlope: 0.5, rescaleIntercept: 0 },
  { bitsStored: 16, monochrome1: false, signed: true, rescaleSlope: 1, rescaleIntercept: -1024 },
  { bitsStored: 15, monochrome1: true, signed: true, rescaleSlope: 2, rescaleIntercept: -100 },
];

function image(seed: number): Float32Array {
  const rng = new Rng(seed);
  return renderChestImage(
    rng,
    drawAnatomy(rng, { cardiomegaly: false, effusion: null, degenerativeSpine: false }),
    [],
    { size: SIZE, view: 'PA' },
  ).intensity;
}

for (const [k, storage] of STORAGES.entries()) {
  for (const compressed of [false, true]) {
    test(`DICOM ${storage.bitsStored}-bit ${storage.signed ? 'signed' : 'unsigned'} ${storage.monochrome1 ? 'MONOCHROME1' : 'MONOCHROME2'} ${compressed ? 'RLE' : 'explicit VR LE'}: tags and pixels read back with dicom-parser and dcmjs`, () => {
      const stored = toStoredPixels(image(k), storage, new Rng(9, k));
      const a = attrs(storage, stored, k % 2 === 0 ? 'CR' : 'DX');
      const bytes = writeDicomFile(a, stored.words, compressed);

      const ds = dicomParser.parseDicom(new Uint8Array(bytes));
      assert.equal(
        ds.string('x00020010'),
        compressed ? TRANSFER_SYNTAX.rleLossless : TRANSFER_SYNTAX.explicitLittle,
      );
      assert.equal(ds.string('x00080016'), SOP_CLASS[a.modality]);
      assert.equal(ds.string('x00020002'), SOP_CLASS[a.modality]);
      assert.equal(ds.string('x00080018'), a.sopInstanceUid);
      assert.equal(ds.string('x00020003'), a.sopInstanceUid);
      assert.equal(ds.string('x0020000d'), a.studyInstanceUid);
      assert.equal(ds.string('x0020000e'), a.seriesInstanceUid);
      assert.equal(ds.string('x00080050'), a.accessionNumber);
      assert.equal(ds.string('x00100020'), a.patientId);
      assert.equal(ds.string('x00080060'), a.modality);
      assert.equal(ds.string('x00185101'), 'AP');
      assert.equal(ds.string('x00180015'), 'CHEST');
      assert.equal(ds.string('x00280004'), a.photometricInterpretation);
      assert.equal(ds.uint16('x00280100'), 16);
      assert.equal(ds.uint16('x00280101'), storage.bitsStored);
      assert.equal(ds.uint16('x00280102'), storage.bitsStored - 1);
      assert.equal(ds.uint16('x00280103'), storage.signed ? 1 : 0);
      assert.equal(ds.floatString('x00281053'), storage.rescaleSlope);
      assert.equal(ds.floatString('x00281052'), storage.rescaleIntercept);
      assert.equal(ds.floatString('x00281050'), stored.windowCenter);
      assert.equal(ds.floatString('x00281051'), stored.windowWidth);
      assert.ok(stored.windowWidth > 0);

      const pe = ds.elements.x7fe00010;
      assert.ok(pe, 'pixel data present');
      let raw: Uint8Array;
      if (compressed) {
        assert.equal(pe.encapsulatedPixelData, true);
        const frame = dicomParser.readEncapsulatedPixelDataFromFragments(ds, pe, 0);
        raw = decodeRleFrame(frame, SIZE, SIZE, 16, 1);
      } else {
        raw = new Uint8Array(bytes.buffer, bytes.byteOffset + pe.dataOffset, pe.length);
      }
      const words = new Uint16Array(raw.slice().buffer);
      assert.deepEqual(words, stored.words);
      // Stored values stay within BitsStored (sign-extended when signed).
      const values = storage.signed ? new Int16Array(words.buffer) : words;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of values) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      const min = storage.signed ? -(2 ** (storage.bitsStored - 1)) : 0;
      const max = storage.signed ? 2 ** (storage.bitsStored - 1) - 1 : 2 ** storage.bitsStored - 1;
      assert.ok(lo >= min && hi <= max, `values ${lo}..${hi} outside ${min}..${max}`);
      assert.equal(lo, stored.minStored);
      assert.equal(hi, stored.maxStored);

      // dcmjs reads the same file: tags and, for native pixel data, the pixels.
      const dict = dcmjs.data.DicomMessage.readFile(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      );
      const nat = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict);
      assert.equal(nat.SOPInstanceUID, a.sopInstanceUid);
      assert.equal(nat.AccessionNumber, a.accessionNumber);
      assert.equal(nat.ViewPosition, 'AP');
      assert.equal(nat.BitsStored, storage.bitsStored);
      assert.equal(nat.PhotometricInterpretation, a.photometricInterpretation);
      assert.equal(Number(nat.RescaleSlope), storage.rescaleSlope);
      if (!compressed) {
        const px = nat.PixelData as ArrayBuffer[];
        assert.deepEqual(new Uint16Array(px[0] as ArrayBuffer), stored.words);
      }
    });
  }
}

test('RLE: any 16-bit frame round-trips through the project decoder (runs, literals, 128+ runs, odd widths)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 300 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 1, max: 300 })), {
        minLength: 1,
        maxLength: 40,
      }),
      (rows, columns, runs) => {
        const words = new Uint16Array(rows * columns);
        let i = 0;
        for (let r = 0; i < words.length; r++) {
          const [v, len] = runs[r % runs.length] as [number, number];
          for (let k = 0; k < len && i < words.length; k++)
            words[i++] = (v + (len < 3 ? k * 7919 : 0)) & 0xffff;
        }
        const frame = encodeRle16(words, rows, columns);
        assert.equal(frame.length % 2, 0);
        assert.equal(new DataView(frame.buffer).getUint32(0, true), 2);
        const raw = decodeRleFrame(frame, rows, columns, 16, 1);
        assert.deepEqual(new Uint16Array(raw.slice().buffer), words);
      },
    ),
    { numRuns: 150 },
  );
});
