/**
 * The one HL7 v2 splitter: cuts any of the usual carriers into messages and reports every line that
 * is not an HL7 segment on its own. Used by `harvester label-reports`, `produce hl7`, `feed-cohort`,
 * the archive backfill and the report-labeler (a Kafka record with a garbage tail).
 */

/** One message cut out of an input. */
export interface SplitMessage {
  /** Segments joined by CR (envelope and non-segment lines removed), as text. */
  readonly message: string;
  /**
   * The same segments as bytes, undecoded, each ended by CR. For Buffer input these are the bytes
   * as sent (MSH-18 may differ per message: decode with hl7-transport's decodeHl7).
   */
  readonly bytes: Buffer;
  /** Offset of its MSH in the input: bytes for a Buffer, characters for a string. */
  readonly offset: number;
  /** 1-based line of its MSH (CR, LF and CRLF each end a line). */
  readonly line: number;
}

/** A line that is not an HL7 segment: reported as a bad input of its own, kept out of any message. */
export interface Hl7Garbage {
  offset: number;
  line: number;
  /** Length of the line (bytes for a Buffer, characters for a string). */
  length: number;
  /** What is wrong, with a structural excerpt only (never more than 12 printable characters). */
  problem: string;
  /** Index of the message it was found in or after; null when before the first message. */
  afterMessage: number | null;
}

export interface Hl7Split {
  messages: SplitMessage[];
  garbage: Hl7Garbage[];
}

const VT = 0x0b; // MLLP start block
const FS = 0x1c; // MLLP end block
const CR = 0x0d;
const LF = 0x0a;

/** Batch/file envelope segments: they frame messages but belong to none. */
const ENVELOPE = new Set(['FHS', 'BHS', 'BTS', 'FTS']);
const SEGMENT_NAME = /^[A-Z][A-Z0-9]{2}$/;

class Slice implements SplitMessage {
  private text: string | undefined;
  private raw: Buffer | undefined;

  constructor(
    private readonly segments: string[],
    private readonly fromBuffer: boolean,
    readonly offset: number,
    readonly line: number,
  ) {}

  get message(): string {
    if (this.text === undefined) {
      const joined = this.segments.join('\r');
      // Buffer input was read as latin1 (1 byte = 1 char): re-decode non-ASCII bytes as UTF-8.
      this.text =
        this.fromBuffer && /[\x80-\xff]/.test(joined)
          ? Buffer.from(joined, 'latin1').toString('utf8')
          : joined;
    }
    return this.text;
  }

  get bytes(): Buffer {
    this.raw ??= Buffer.from(this.segments.join('\r') + '\r', this.fromBuffer ? 'latin1' : 'utf8');
    return this.raw;
  }

  toJSON(): { message: string; offset: number; line: number } {
    return { message: this.message, offset: this.offset, line: this.line };
  }
}

/** "MSH" + a field separator (not a letter, digit or space): the start of a message. */
function isMsh(line: string): boolean {
  if (!line.startsWith('MSH') || line.length < 4) return false;
  return !/[A-Za-z0-9\s]/.test(line[3]!);
}

function isEnvelope(line: string): boolean {
  return ENVELOPE.has(line.slice(0, 3)) && (line.length === 3 || !/[A-Za-z0-9]/.test(line[3]!));
}

function isSegment(line: string, fieldSeparator: string): boolean {
  return SEGMENT_NAME.test(line.slice(0, 3)) && (line.length === 3 || line[3] === fieldSeparator);
}

function excerpt(line: string): string {
  return line.replace(/[^\x20-\x7e]/g, '?').slice(0, 12);
}

/**
 * Splits one message, a file of messages (segments ended by CR, LF or CRLF), MLLP-framed bytes
 * (VT ... FS CR) or FHS/BHS batches. A message starts at every MSH line; envelope segments are
 * dropped. A line that is not a segment of the message it sits in (or any line before the first
 * MSH) is cut out and reported in `garbage` with its line and offset: a stray line between or after
 * messages never takes a valid message with it, and one inside a message leaves its valid segments.
 */
export function splitHl7(input: Buffer | string): Hl7Split {
  // latin1 maps each byte to one char, so string offsets are byte offsets.
  const fromBuffer = typeof input !== 'string';
  const text = fromBuffer ? input.toString('latin1') : input;
  const messages: SplitMessage[] = [];
  const garbage: Hl7Garbage[] = [];
  let segs: string[] = [];
  let msgStart = -1;
  let msgLine = 0;
  let fieldSeparator = '';

  const flush = (): void => {
    if (segs.length > 0) messages.push(new Slice(segs, fromBuffer, msgStart, msgLine));
    segs = [];
    msgStart = -1;
    fieldSeparator = '';
  };

  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    // Find the end of this line: CR, LF or an MLLP control byte.
    let j = i;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === CR || c === LF || c === VT || c === FS) break;
      j++;
    }
    if (j > i) {
      const content = text.slice(i, j);
      if (content.trim().length > 0) {
        if (isMsh(content)) {
          flush();
          segs.push(content);
          msgStart = i;
          msgLine = line;
          fieldSeparator = content[3]!;
        } else if (isEnvelope(content)) {
          flush();
        } else if (fieldSeparator !== '' && isSegment(content, fieldSeparator)) {
          segs.push(content);
        } else {
          garbage.push({
            offset: i,
            line,
            length: j - i,
            problem: `not an HL7 segment: starts with "${excerpt(content)}"`,
            afterMessage:
              segs.length > 0 ? messages.length : messages.length > 0 ? messages.length - 1 : null,
          });
        }
      }
    }
    if (j < n) {
      const c = text.charCodeAt(j);
      if (c === FS) {
        // End of an MLLP frame ends the message even without a following MSH.
        flush();
      } else if (c === CR) {
        line++;
        if (j + 1 < n && text.charCodeAt(j + 1) === LF) j++;
      } else if (c === LF) {
        line++;
      }
    }
    i = j + 1;
  }
  flush();
  return { messages, garbage };
}

/** The messages of an input (garbage lines left out; use splitHl7 to see them). */
export function splitHl7Messages(input: Buffer | string): SplitMessage[] {
  return splitHl7(input).messages;
}
