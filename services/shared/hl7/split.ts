/** One message cut out of an input stream, with where it started. */
export interface SplitMessage {
  /** Segments joined by CR, envelope (MLLP, FHS/BHS/BTS/FTS) removed. */
  message: string;
  /** Offset of the message's first segment in the input: bytes for a Buffer, characters for a string. */
  offset: number;
}

const VT = 0x0b; // MLLP start block
const FS = 0x1c; // MLLP end block
const CR = 0x0d;
const LF = 0x0a;

/** Batch/file envelope segments: they frame messages but belong to none. */
const ENVELOPE = new Set(['FHS', 'BHS', 'BTS', 'FTS']);

/**
 * Cuts any of the usual HL7 v2 carriers into messages: one message; a file of messages whose
 * segments end in CR, LF or CRLF; MLLP-framed bytes (VT ... FS CR); FHS/BHS batches.
 * A new message starts at every MSH segment; envelope segments are dropped. Lines that come before
 * any MSH are kept together as a message of their own so that parsing reports them (with their
 * offset) instead of them being lost silently.
 */
export function splitHl7Messages(input: Buffer | string): SplitMessage[] {
  // latin1 maps each byte to one char, so string offsets are byte offsets; each message is
  // re-decoded from its bytes as UTF-8 below.
  const isBuffer = typeof input !== 'string';
  const text = isBuffer ? input.toString('latin1') : input;
  const out: SplitMessage[] = [];
  let segs: string[] = [];
  let msgStart = -1;
  let msgEnd = -1;

  const flush = (): void => {
    if (segs.length > 0) {
      let message = segs.join('\r');
      if (isBuffer && /[\x80-\xff]/.test(message)) {
        message = Buffer.from(message, 'latin1').toString('utf8');
      }
      out.push({ message, offset: msgStart });
    }
    segs = [];
    msgStart = -1;
    msgEnd = -1;
  };

  const n = text.length;
  let i = 0;
  while (i < n) {
    // Find the end of this line: CR, LF or an MLLP control byte.
    let j = i;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === CR || c === LF || c === VT || c === FS) break;
      j++;
    }
    if (j > i) {
      const line = text.slice(i, j);
      const name = line.slice(0, 3);
      if (line.trim().length > 0) {
        if (name === 'MSH') {
          flush();
          segs.push(line);
          msgStart = i;
        } else if (ENVELOPE.has(name) && (line.length === 3 || !/[A-Za-z0-9]/.test(line[3] ?? ''))) {
          flush();
        } else {
          if (msgStart < 0) msgStart = i;
          segs.push(line);
        }
        msgEnd = j;
      }
    }
    if (j < n && text.charCodeAt(j) === FS) {
      // End of an MLLP frame ends the message even without a following MSH.
      flush();
    } else if (j < n && text.charCodeAt(j) === VT && msgEnd >= 0) {
      flush();
    }
    i = j + 1;
  }
  flush();
  return out;
}
