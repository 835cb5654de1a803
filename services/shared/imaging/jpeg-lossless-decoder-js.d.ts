// The package ships no type declarations; this is the part of its API the imaging code uses.
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    /** Decodes a JPEG Lossless (process 14) stream; returns rows * columns * bytesPerSample bytes. */
    decompress(buffer: ArrayBufferLike, offset?: number, length?: number): ArrayBuffer;
  }
}
