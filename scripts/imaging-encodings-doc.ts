/**
 * Writes docs/imaging-encodings.md from the imaging code's own catalogues (transfer syntaxes,
 * photometric interpretations), so the table cannot drift from what the code does; a unit test
 * checks the committed file is current.
 *
 *   npx tsx scripts/imaging-encodings-doc.ts
 */
import { writeFileSync } from 'node:fs';
import { PHOTOMETRIC_INTERPRETATIONS } from '../services/shared/imaging/photometric.ts';
import {
  refusedTransferSyntaxes,
  supportedTransferSyntaxes,
} from '../services/shared/imaging/transfer-syntax.ts';

export const DOC_PATH = new URL('../docs/imaging-encodings.md', import.meta.url).pathname;

const DECODERS: Record<string, string> = {
  native: 'read as stored',
  'native-big-endian': 'read as stored, 16-bit samples byte-swapped',
  'encapsulated-native': 'uncompressed frames in fragments',
  rle: 'RLE decoder (services/shared/imaging/rle.ts)',
  'jpeg-dct': '8-bit: libjpeg-turbo (WASM); 12-bit: services/shared/imaging/jpeg-dct.ts',
  'jpeg-lossless': 'jpeg-lossless-decoder-js (predictors 1-7)',
  'jpeg-ls': 'CharLS (WASM)',
  'jpeg-2000': 'OpenJPEG (WASM)',
  htj2k: 'OpenJPH (WASM)',
};

export function renderEncodingsDoc(): string {
  const lines = [
    '# Imaging encodings: what is decoded, what is refused and why',
    '',
    'Generated from `services/shared/imaging/transfer-syntax.ts` and `photometric.ts` by',
    '`npx tsx scripts/imaging-encodings-doc.ts` (a unit test fails when this file is stale).',
    'A refused file fails with `DicomImageError` (code `unsupported-transfer-syntax` or',
    '`unsupported-pixel-format`) and the reason below; the pseudo-labeler sends its arrival to the DLQ',
    'with that reason, `harvester prepare` and backfill count it. Files without the 128-byte preamble,',
    'without "DICM", or without any file meta (a bare Implicit/Explicit VR Little Endian or Explicit VR Big Endian dataset) are',
    'read. Multi-frame images: the first frame is the radiograph (numberOfFrames is in DicomArrived).',
    '',
    '## Transfer syntaxes',
    '',
    '| UID | name | status | decoder or reason |',
    '|---|---|---|---|',
    ...supportedTransferSyntaxes().map(
      (t) => `| ${t.uid} | ${t.name}${t.retired ? ' (retired)' : ''} | decoded | ${DECODERS[t.encoding]} |`,
    ),
    ...refusedTransferSyntaxes().map(
      (t) => `| ${t.uid} | ${t.name}${t.retired ? ' (retired)' : ''} | refused | ${t.reason} |`,
    ),
    '| any other UID | private or misspelt | refused | not a transfer syntax of the DICOM standard |',
    '',
    '## Photometric interpretations',
    '',
    '| photometric interpretation | samples per pixel | status | how grey is obtained, or reason |',
    '|---|---|---|---|',
    ...PHOTOMETRIC_INTERPRETATIONS.map(
      (p) =>
        `| ${p.name}${p.retired ? ' (retired)' : ''} | ${p.samplesPerPixel} | ${p.greyFrom ? 'decoded' : 'refused'} | ${p.note} |`,
    ),
    '',
    'Pixel formats: BitsAllocated 8 or 16 (1-bit masks, 32-bit and float pixel data are refused),',
    'BitsStored up to BitsAllocated with HighBit = BitsStored - 1, signed or unsigned. Colour',
    'conversion uses ITU-R BT.601 luminance (0.299 R + 0.587 G + 0.114 B), which is the Y of YCbCr.',
    '',
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(DOC_PATH, renderEncodingsDoc());
  console.log(`wrote ${DOC_PATH}`);
}
