/**
 * MLLP (HL7 v2 Minimal Lower Layer Protocol, release 2): each message travels as
 * <VT> bytes <FS><CR>. This turns a TCP byte stream into messages, byte-exact (no character
 * decoding: MSH-18 decides the character set later), and bounds memory per connection: a frame
 * longer than the limit is discarded as it streams in, and reported once with its first bytes
 * (enough to read its MSH and answer it).
 */
export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

export type MllpEvent =
  | { kind: 'message'; bytes: Buffer }
  /** A frame over the limit: `head` holds its first bytes, `size` its full length. */
  | { kind: 'oversize'; head: Buffer; size: number }
  /** Bytes outside any frame (not MLLP, or noise between frames); only the first are kept. */
  | { kind: 'outside-frame'; head: Buffer; size: number };

const HEAD_BYTES = 4096;

export class MllpFramer {
  private state: 'outside' | 'inside' | 'discarding' = 'outside';
  private parts: Buffer[] = [];
  private size = 0;
  private head: Buffer = Buffer.alloc(0);
  private outsideSize = 0;
  private outsideHead: Buffer = Buffer.alloc(0);
  /** Set after FS: the CR that should follow is swallowed if it comes. */
  private afterFs = false;

  constructor(private readonly maxMessageBytes: number) {}

  /** Feeds received bytes; returns the complete events they finish, in order. */
  push(chunk: Buffer): MllpEvent[] {
    const events: MllpEvent[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.afterFs) {
        this.afterFs = false;
        if (chunk[i] === CR) {
          i++;
          continue;
        }
      }
      if (this.state === 'outside') {
        const start = chunk.indexOf(VT, i);
        const end = start < 0 ? chunk.length : start;
        const noise = chunk.subarray(i, end).filter((b) => b !== CR && b !== 0x0a && b !== 0x20);
        if (noise.length > 0) {
          if (this.outsideHead.length < HEAD_BYTES)
            this.outsideHead = Buffer.concat([
              this.outsideHead,
              noise.subarray(0, HEAD_BYTES - this.outsideHead.length),
            ]);
          this.outsideSize += noise.length;
        }
        if (start < 0) break;
        if (this.outsideSize > 0) events.push(this.takeOutside());
        this.state = 'inside';
        this.parts = [];
        this.size = 0;
        this.head = Buffer.alloc(0);
        i = start + 1;
        continue;
      }
      const fs = chunk.indexOf(FS, i);
      const end = fs < 0 ? chunk.length : fs;
      const piece = chunk.subarray(i, end);
      if (this.state === 'inside') {
        if (this.size + piece.length > this.maxMessageBytes) {
          this.head = Buffer.concat([...this.parts, piece]).subarray(0, HEAD_BYTES);
          this.parts = [];
          this.state = 'discarding';
        } else if (piece.length > 0) {
          // copy: the socket may reuse its buffer
          this.parts.push(Buffer.from(piece));
        }
      }
      this.size += piece.length;
      if (fs < 0) break;
      events.push(
        this.state === 'inside'
          ? { kind: 'message', bytes: Buffer.concat(this.parts, this.size) }
          : { kind: 'oversize', head: this.head, size: this.size },
      );
      this.state = 'outside';
      this.parts = [];
      this.size = 0;
      this.afterFs = true;
      i = fs + 1;
    }
    return events;
  }

  /** Bytes of an unfinished frame (a sender that disconnected mid-message). */
  get pendingBytes(): number {
    return this.state === 'outside' ? 0 : this.size;
  }

  /** Noise seen outside frames that no frame start has flushed yet (reported when the peer leaves). */
  flushOutside(): MllpEvent | null {
    return this.outsideSize > 0 ? this.takeOutside() : null;
  }

  private takeOutside(): MllpEvent {
    const event: MllpEvent = { kind: 'outside-frame', head: this.outsideHead, size: this.outsideSize };
    this.outsideHead = Buffer.alloc(0);
    this.outsideSize = 0;
    return event;
  }
}

/** Wraps one payload in MLLP framing. */
export function mllpFrame(payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  return Buffer.concat([Buffer.from([VT]), body, Buffer.from([FS, CR])]);
}
