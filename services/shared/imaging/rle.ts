import { DicomImageError } from './errors.ts';

/**
 * DICOM RLE Lossless (PS3.5 annex G): a 64-byte header (segment count, then 15 little-endian
 * uint32 offsets), then one PackBits segment per byte plane, most significant byte first for
 * each sample. Returns the frame as little-endian bytes in native layout, sample-interleaved.
 */
export function decodeRleFrame(
  frame: Uint8Array,
  rows: number,
  columns: number,
  bitsAllocated: number,
  samples: number,
): Uint8Array {
  const bytesPerSample = bitsAllocated / 8;
  if (!Number.isInteger(bytesPerSample) || bytesPerSample < 1 || bytesPerSample > 4) {
    throw new DicomImageError(
      'unsupported-pixel-format',
      `RLE with BitsAllocated ${bitsAllocated} is not supported`,
    );
  }
  if (frame.length < 64)
    throw new DicomImageError(
      'truncated-pixel-data',
      `RLE frame of ${frame.length} bytes has no 64-byte header`,
    );
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const expectedSegments = bytesPerSample * samples;
  if (segments !== expectedSegments) {
    throw new DicomImageError(
      'corrupt-pixel-data',
      `RLE header has ${segments} segments, expected ${expectedSegments}`,
    );
  }
  const pixels = rows * columns;
  const out = new Uint8Array(pixels * expectedSegments);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > end || end > frame.length) {
      throw new DicomImageError(
        'corrupt-pixel-data',
        `RLE segment ${s} offsets ${start}..${end} lie outside the ${frame.length}-byte frame`,
      );
    }
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample); // MSB segment first
    const stride = expectedSegments;
    let o = sample * bytesPerSample + byteInSample;
    let written = 0;
    let i = start;
    while (written < pixels && i < end) {
      const n = frame[i++]!;
      if (n < 128) {
        // literal run of n + 1 bytes
        const count = n + 1;
        if (i + count > end)
          throw new DicomImageError('truncated-pixel-data', `RLE segment ${s} literal run past its end`);
        for (let k = 0; k < count && written < pixels; k++, written++, o += stride) out[o] = frame[i + k]!;
        i += count;
      } else if (n > 128) {
        // replicate the next byte 257 - n times
        if (i >= end)
          throw new DicomImageError('truncated-pixel-data', `RLE segment ${s} replicate run past its end`);
        const value = frame[i++]!;
        for (let k = 0; k < 257 - n && written < pixels; k++, written++, o += stride) out[o] = value;
      }
      // n === 128 is a no-op
    }
    if (written < pixels) {
      throw new DicomImageError(
        'truncated-pixel-data',
        `RLE segment ${s} decodes to ${written} of ${pixels} bytes`,
      );
    }
  }
  return out;
}
