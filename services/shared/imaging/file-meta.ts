/**
 * The DICOM Part 10 file meta information (PS3.10 section 7.1): a 128-byte preamble, "DICM", then
 * group 0002 in Explicit VR Little Endian. The DICOM gateway writes it in front of each dataset it
 * receives over the network (datasets travel without it), and the imaging code puts it in front of
 * files stored without one, so that every reader sees a regular Part 10 file.
 */
export interface FileMetaFields {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** (0002,0016) the AE title of the sender, when known. */
  sourceAeTitle?: string;
}

/** Our implementation's identity in (0002,0012) and (0002,0013). */
export const IMPLEMENTATION_CLASS_UID = '1.2.826.0.1.3680043.10.1529.1.1';
export const IMPLEMENTATION_VERSION_NAME = 'FRACTUREHARV01';

function padEven(value: string, pad: string): Buffer {
  const bytes = Buffer.from(value, 'latin1');
  return bytes.length % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.from(pad, 'latin1')]);
}

/** One explicit VR LE element with a 2-byte length (UI, SH, AE) or a 4-byte one (OB). */
function element(tagElement: number, vr: 'UI' | 'SH' | 'AE' | 'OB' | 'UL', value: Buffer): Buffer {
  const longForm = vr === 'OB';
  const head = Buffer.alloc(longForm ? 12 : 8);
  head.writeUInt16LE(0x0002, 0);
  head.writeUInt16LE(tagElement, 2);
  head.write(vr, 4, 'latin1');
  if (longForm) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

/** The preamble, "DICM" and the file meta group for a dataset encoded in `transferSyntaxUid`. */
export function encodeFileMeta(fields: FileMetaFields): Buffer {
  const ui = (v: string) => padEven(v, '\0');
  const body = Buffer.concat([
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', ui(fields.sopClassUid)),
    element(0x0003, 'UI', ui(fields.sopInstanceUid)),
    element(0x0010, 'UI', ui(fields.transferSyntaxUid)),
    element(0x0012, 'UI', ui(IMPLEMENTATION_CLASS_UID)),
    element(0x0013, 'SH', padEven(IMPLEMENTATION_VERSION_NAME, ' ')),
    ...(fields.sourceAeTitle ? [element(0x0016, 'AE', padEven(fields.sourceAeTitle, ' '))] : []),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    element(0x0000, 'UL', groupLength),
    body,
  ]);
}

/** How a file's first bytes are laid out. */
export type DicomLayout =
  | { kind: 'part10' }
  /** "DICM" and the meta group, but no 128-byte preamble. */
  | { kind: 'no-preamble' }
  /** The meta group with neither preamble nor "DICM". */
  | { kind: 'meta-only' }
  /** A bare dataset (no file meta at all), in the syntax its first element suggests. */
  | { kind: 'bare-dataset'; transferSyntaxUid: string }
  | { kind: 'unknown' };

const isUpper = (b: number | undefined) => b !== undefined && b >= 0x41 && b <= 0x5a;

/**
 * Recognises a Part 10 file, one stored without its preamble or "DICM", or a bare dataset (as
 * some old archives and modalities write). A bare dataset is taken as Explicit VR Little Endian
 * when its first element carries a VR (two capital letters), Explicit VR Big Endian when it does
 * and its group reads byte-swapped, Implicit VR Little Endian when its first tag is a small even
 * group (0008 typically) followed by a plausible length.
 */
export function detectDicomLayout(bytes: Uint8Array): DicomLayout {
  if (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  )
    return { kind: 'part10' };
  if (bytes.length >= 12 && Buffer.from(bytes.buffer, bytes.byteOffset, 4).toString('latin1') === 'DICM')
    return { kind: 'no-preamble' };
  if (bytes.length < 8) return { kind: 'unknown' };
  const group = bytes[0]! | (bytes[1]! << 8);
  const explicitVr = isUpper(bytes[4]) && isUpper(bytes[5]);
  // Explicit VR Big Endian: the group's bytes the other way round (0008 reads as 0800)
  const groupBigEndian = (bytes[0]! << 8) | bytes[1]!;
  if (
    explicitVr &&
    groupBigEndian > 0 &&
    groupBigEndian <= 0x0010 &&
    groupBigEndian % 2 === 0 &&
    group > 0x00ff
  ) {
    return { kind: 'bare-dataset', transferSyntaxUid: '1.2.840.10008.1.2.2' };
  }
  if (group === 0x0002 && explicitVr) return { kind: 'meta-only' };
  // a dataset starts with a low group (0008 identification, or 0000-0007 group lengths/commands)
  if (group % 2 !== 0 || group === 0 || group > 0x0010) return { kind: 'unknown' };
  if (explicitVr) return { kind: 'bare-dataset', transferSyntaxUid: '1.2.840.10008.1.2.1' };
  const length = bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! * 2 ** 24);
  if (length === 0xffffffff || length <= bytes.length) {
    return { kind: 'bare-dataset', transferSyntaxUid: '1.2.840.10008.1.2' };
  }
  return { kind: 'unknown' };
}

/**
 * The bytes as a Part 10 file: unchanged when they are one; otherwise with the preamble (and
 * "DICM", and a synthesised meta group for a bare dataset) put in front. Null when they are not
 * recognisably DICOM. A synthesised meta group names the SOP class and instance as unknown ("");
 * the dataset's own (0008,0016) and (0008,0018) are what readers use.
 */
export function asPart10(bytes: Uint8Array): { bytes: Uint8Array; layout: DicomLayout } | null {
  const layout = detectDicomLayout(bytes);
  switch (layout.kind) {
    case 'part10':
      return { bytes, layout };
    case 'no-preamble':
      return { bytes: Buffer.concat([Buffer.alloc(128), bytes]), layout };
    case 'meta-only':
      return { bytes: Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), bytes]), layout };
    case 'bare-dataset':
      return {
        bytes: Buffer.concat([
          encodeFileMeta({
            sopClassUid: '',
            sopInstanceUid: '',
            transferSyntaxUid: layout.transferSyntaxUid,
          }),
          bytes,
        ]),
        layout,
      };
    case 'unknown':
      return null;
  }
}
