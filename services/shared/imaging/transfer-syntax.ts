/** Every DICOM transfer syntax (PS3.6 table A-1, retired ones included): how its pixels are read, or why not. */
export type PixelEncoding =
  | 'native'
  | 'native-big-endian'
  | 'encapsulated-native'
  | 'rle'
  | 'jpeg-dct'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg-2000'
  | 'htj2k';

export interface TransferSyntax {
  uid: string;
  name: string;
  encoding: PixelEncoding;
  retired?: boolean;
}

/** A transfer syntax the imaging code knows and refuses, with the reason it gives. */
export interface RefusedTransferSyntax {
  uid: string;
  name: string;
  retired?: boolean;
  reason: string;
}

const TS = '1.2.840.10008.1.2';
const J = `${TS}.4`;

const SUPPORTED: readonly TransferSyntax[] = [
  { uid: TS, name: 'Implicit VR Little Endian', encoding: 'native' },
  { uid: `${TS}.1`, name: 'Explicit VR Little Endian', encoding: 'native' },
  {
    uid: `${TS}.1.98`,
    name: 'Encapsulated Uncompressed Explicit VR Little Endian',
    encoding: 'encapsulated-native',
  },
  { uid: `${TS}.1.99`, name: 'Deflated Explicit VR Little Endian', encoding: 'native' },
  { uid: `${TS}.2`, name: 'Explicit VR Big Endian', encoding: 'native-big-endian', retired: true },
  { uid: `${TS}.5`, name: 'RLE Lossless', encoding: 'rle' },
  { uid: `${J}.50`, name: 'JPEG Baseline (Process 1)', encoding: 'jpeg-dct' },
  { uid: `${J}.51`, name: 'JPEG Extended (Process 2 & 4)', encoding: 'jpeg-dct' },
  { uid: `${J}.57`, name: 'JPEG Lossless, Non-Hierarchical (Process 14)', encoding: 'jpeg-lossless' },
  {
    uid: `${J}.70`,
    name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [SV1])',
    encoding: 'jpeg-lossless',
  },
  { uid: `${J}.80`, name: 'JPEG-LS Lossless', encoding: 'jpeg-ls' },
  { uid: `${J}.81`, name: 'JPEG-LS Lossy (Near-Lossless)', encoding: 'jpeg-ls' },
  { uid: `${J}.90`, name: 'JPEG 2000 Image Compression (Lossless Only)', encoding: 'jpeg-2000' },
  { uid: `${J}.91`, name: 'JPEG 2000 Image Compression', encoding: 'jpeg-2000' },
  { uid: `${J}.201`, name: 'High-Throughput JPEG 2000 (Lossless Only)', encoding: 'htj2k' },
  { uid: `${J}.202`, name: 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)', encoding: 'htj2k' },
  { uid: `${J}.203`, name: 'High-Throughput JPEG 2000', encoding: 'htj2k' },
];

const ARITHMETIC_OR_HIERARCHICAL =
  'retired JPEG process (arithmetic coding, spectral selection, progressive or hierarchical) that no archive of radiographs uses and no decoder here reads';
const VIDEO = 'video: no radiograph is stored as a video stream';
const REFERENCED =
  'the pixel data is not in the file (JPIP referenced): fetch the instance in another transfer syntax';

const REFUSED: readonly RefusedTransferSyntax[] = [
  {
    uid: `${J}.52`,
    name: 'JPEG Extended (Process 3 & 5)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.53`,
    name: 'JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.54`,
    name: 'JPEG Spectral Selection, Non-Hierarchical (Process 7 & 9)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.55`,
    name: 'JPEG Full Progression, Non-Hierarchical (Process 10 & 12)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.56`,
    name: 'JPEG Full Progression, Non-Hierarchical (Process 11 & 13)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.58`,
    name: 'JPEG Lossless, Non-Hierarchical (Process 15)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.59`,
    name: 'JPEG Extended, Hierarchical (Process 16 & 18)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.60`,
    name: 'JPEG Extended, Hierarchical (Process 17 & 19)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.61`,
    name: 'JPEG Spectral Selection, Hierarchical (Process 20 & 22)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.62`,
    name: 'JPEG Spectral Selection, Hierarchical (Process 21 & 23)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.63`,
    name: 'JPEG Full Progression, Hierarchical (Process 24 & 26)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.64`,
    name: 'JPEG Full Progression, Hierarchical (Process 25 & 27)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.65`,
    name: 'JPEG Lossless, Hierarchical (Process 28)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.66`,
    name: 'JPEG Lossless, Hierarchical (Process 29)',
    retired: true,
    reason: ARITHMETIC_OR_HIERARCHICAL,
  },
  {
    uid: `${J}.92`,
    name: 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)',
    reason:
      'JPEG 2000 Part 2 multi-component transforms (volumes) are not decoded; radiographs use Part 1 (.90/.91)',
  },
  {
    uid: `${J}.93`,
    name: 'JPEG 2000 Part 2 Multi-component Image Compression',
    reason:
      'JPEG 2000 Part 2 multi-component transforms (volumes) are not decoded; radiographs use Part 1 (.90/.91)',
  },
  { uid: `${J}.94`, name: 'JPIP Referenced', reason: REFERENCED },
  { uid: `${J}.95`, name: 'JPIP Referenced Deflate', reason: REFERENCED },
  { uid: `${J}.100`, name: 'MPEG2 Main Profile / Main Level', reason: VIDEO },
  { uid: `${J}.100.1`, name: 'Fragmentable MPEG2 Main Profile / Main Level', reason: VIDEO },
  { uid: `${J}.101`, name: 'MPEG2 Main Profile / High Level', reason: VIDEO },
  { uid: `${J}.101.1`, name: 'Fragmentable MPEG2 Main Profile / High Level', reason: VIDEO },
  { uid: `${J}.102`, name: 'MPEG-4 AVC/H.264 High Profile / Level 4.1', reason: VIDEO },
  { uid: `${J}.102.1`, name: 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1', reason: VIDEO },
  { uid: `${J}.103`, name: 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', reason: VIDEO },
  {
    uid: `${J}.103.1`,
    name: 'Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
    reason: VIDEO,
  },
  { uid: `${J}.104`, name: 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', reason: VIDEO },
  {
    uid: `${J}.104.1`,
    name: 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video',
    reason: VIDEO,
  },
  { uid: `${J}.105`, name: 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', reason: VIDEO },
  {
    uid: `${J}.105.1`,
    name: 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video',
    reason: VIDEO,
  },
  { uid: `${J}.106`, name: 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', reason: VIDEO },
  { uid: `${J}.106.1`, name: 'Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', reason: VIDEO },
  { uid: `${J}.107`, name: 'HEVC/H.265 Main Profile / Level 5.1', reason: VIDEO },
  { uid: `${J}.108`, name: 'HEVC/H.265 Main 10 Profile / Level 5.1', reason: VIDEO },
  {
    uid: `${J}.110`,
    name: 'JPEG XL Lossless',
    reason: 'JPEG XL is not decoded yet (no archive of radiographs sends it today)',
  },
  {
    uid: `${J}.111`,
    name: 'JPEG XL JPEG Recompression',
    reason: 'JPEG XL is not decoded yet (no archive of radiographs sends it today)',
  },
  {
    uid: `${J}.112`,
    name: 'JPEG XL',
    reason: 'JPEG XL is not decoded yet (no archive of radiographs sends it today)',
  },
  { uid: `${J}.204`, name: 'JPIP HTJ2K Referenced', reason: REFERENCED },
  { uid: `${J}.205`, name: 'JPIP HTJ2K Referenced Deflate', reason: REFERENCED },
  {
    uid: `${TS}.6.1`,
    name: 'RFC 2557 MIME encapsulation',
    retired: true,
    reason: 'a MIME package, not a dataset encoding',
  },
  { uid: `${TS}.6.2`, name: 'XML Encoding', retired: true, reason: 'XML, not a binary dataset' },
  {
    uid: `${TS}.7.1`,
    name: 'SMPTE ST 2110-20 Uncompressed Progressive Active Video',
    reason: VIDEO,
  },
  {
    uid: `${TS}.7.2`,
    name: 'SMPTE ST 2110-20 Uncompressed Interlaced Active Video',
    reason: VIDEO,
  },
  { uid: `${TS}.7.3`, name: 'SMPTE ST 2110-30 PCM Digital Audio', reason: 'audio, not an image' },
  {
    uid: `${TS}.8.1`,
    name: 'Deflated Image Frame Compression',
    reason: 'deflate-compressed frames (2024 addition) are not decoded yet',
  },
  {
    uid: '1.2.840.10008.1.20',
    name: 'Papyrus 3 Implicit VR Little Endian',
    retired: true,
    reason: 'Papyrus 3 files (a 1990s format): convert them to Part 10 first (dcmconv)',
  },
];

const BY_UID = new Map(SUPPORTED.map((ts) => [ts.uid, ts]));
const REFUSED_BY_UID = new Map(REFUSED.map((ts) => [ts.uid, ts]));

export function supportedTransferSyntaxes(): readonly TransferSyntax[] {
  return SUPPORTED;
}

export function refusedTransferSyntaxes(): readonly RefusedTransferSyntax[] {
  return REFUSED;
}

export function findTransferSyntax(uid: string): TransferSyntax | undefined {
  return BY_UID.get(uid);
}

export function describeTransferSyntax(uid: string): string {
  const name = BY_UID.get(uid)?.name ?? REFUSED_BY_UID.get(uid)?.name;
  return name ? `${uid} (${name})` : uid;
}

/** The reason a transfer syntax is refused: the catalogue's, or "not a DICOM transfer syntax" for unknown UIDs. */
export function transferSyntaxRefusal(uid: string): string {
  return (
    REFUSED_BY_UID.get(uid)?.reason ?? 'not a transfer syntax of the DICOM standard (private or misspelt)'
  );
}
