/**
 * Every photometric interpretation of PS3.3 C.7.6.3.1.2: how the imaging code turns it into the
 * grey values a radiograph model reads, or why it refuses it. Colour radiographs exist (secondary
 * captures, films digitised in colour, JPEG-compressed CR stored as YBR): their luminance is the
 * radiograph.
 */
export type GreyFrom =
  /** The stored values are grey (MONOCHROME2), or inverted grey (MONOCHROME1). */
  | 'as-stored'
  | 'inverted'
  /** Luminance of R, G, B (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B). */
  | 'luma'
  /** The Y (luminance) component of YCbCr, as stored. */
  | 'y-component';

export interface PhotometricEntry {
  name: string;
  samplesPerPixel: number;
  retired?: boolean;
  /** How grey is obtained, or null when refused. */
  greyFrom: GreyFrom | null;
  /** Why it is refused, or a note on how it is read. */
  note: string;
}

export const PHOTOMETRIC_INTERPRETATIONS: readonly PhotometricEntry[] = [
  { name: 'MONOCHROME2', samplesPerPixel: 1, greyFrom: 'as-stored', note: 'grey, higher values brighter' },
  {
    name: 'MONOCHROME1',
    samplesPerPixel: 1,
    greyFrom: 'inverted',
    note: 'grey, inverted so that bone is bright',
  },
  {
    name: 'RGB',
    samplesPerPixel: 3,
    greyFrom: 'luma',
    note: 'converted to grey: BT.601 luminance of R, G, B',
  },
  {
    name: 'YBR_FULL',
    samplesPerPixel: 3,
    greyFrom: 'y-component',
    note: 'converted to grey: the Y component',
  },
  {
    name: 'YBR_FULL_422',
    samplesPerPixel: 3,
    greyFrom: 'y-component',
    note: 'converted to grey: the Y component (JPEG decoders return RGB: its luminance, which is Y)',
  },
  {
    name: 'YBR_PARTIAL_422',
    samplesPerPixel: 3,
    retired: true,
    greyFrom: 'y-component',
    note: 'converted to grey: the Y component (16-235; the window absorbs the range)',
  },
  {
    name: 'YBR_PARTIAL_420',
    samplesPerPixel: 3,
    greyFrom: 'y-component',
    note: 'converted to grey: the Y component (MPEG only: its transfer syntaxes are refused)',
  },
  {
    name: 'YBR_ICT',
    samplesPerPixel: 3,
    greyFrom: 'luma',
    note: 'JPEG 2000 irreversible colour: the decoder returns RGB, converted to grey by luminance',
  },
  {
    name: 'YBR_RCT',
    samplesPerPixel: 3,
    greyFrom: 'luma',
    note: 'JPEG 2000 reversible colour: the decoder returns RGB, converted to grey by luminance',
  },
  {
    name: 'PALETTE COLOR',
    samplesPerPixel: 1,
    greyFrom: null,
    note: 'indices into a colour lookup table: a pseudo-colour rendering, not a radiograph',
  },
  {
    name: 'HSV',
    samplesPerPixel: 3,
    retired: true,
    greyFrom: null,
    note: 'retired colour model that no radiograph uses',
  },
  {
    name: 'ARGB',
    samplesPerPixel: 4,
    retired: true,
    greyFrom: null,
    note: 'retired colour model that no radiograph uses',
  },
  {
    name: 'CMYK',
    samplesPerPixel: 4,
    retired: true,
    greyFrom: null,
    note: 'retired colour model that no radiograph uses',
  },
  {
    name: 'XYB',
    samplesPerPixel: 3,
    greyFrom: null,
    note: 'JPEG XL colour model: its transfer syntaxes are refused',
  },
];

const BY_NAME = new Map(PHOTOMETRIC_INTERPRETATIONS.map((p) => [p.name, p]));

export function findPhotometric(name: string): PhotometricEntry | undefined {
  return BY_NAME.get(name);
}

/** BT.601 luminance of one RGB triple, rounded. */
export function luma(r: number, g: number, b: number): number {
  return Math.round(0.299 * r + 0.587 * g + 0.114 * b);
}
