import { fstatSync, writeSync } from 'node:fs';
import type { ReportLabels } from '../../shared/report-rules/index.ts';
import { outputLine } from './label-output.ts';

/**
 * Where `harvester label-reports` writes its JSON lines: bytes gathered in 1 MiB buffers, not one
 * long string that is then encoded. A line for a report nothing was found in is its id plus the
 * same bytes every time (copied from one buffer), the other lines are encoded as they come.
 * stdout is written with fs.writeSync when it is a regular file (what process.stdout does for a
 * file anyway, without building the stream); a pipe or terminal goes through process.stdout, so
 * back-pressure and a reader that goes away (EPIPE) are handled as before.
 */
export class LineSink {
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  /** Full buffers not yet handed to process.stdout (a pipe or terminal); see drain(). */
  private full: Buffer[] = [];
  /** The bytes of a negative line after its id: `,"rib":{...},...,"ruleVersion":"..."}\n`. */
  private readonly negativeTail: Buffer;
  private readonly toFile: boolean;

  /** `fd` is written with writeSync when it is a regular file, else `stream` (stdout by default). */
  constructor(
    negative: ReportLabels,
    private readonly fd = 1,
    private readonly stream: NodeJS.WritableStream = process.stdout,
  ) {
    const empty = outputLine('', negative);
    this.negativeTail = Buffer.from(empty.slice(PREFIX_EMPTY_ID.length) + '\n', 'utf8');
    this.toFile = isRegularFile(fd);
  }

  /** Whether full buffers wait for `await drain()` (call it before the next thousand lines or so). */
  get waiting(): boolean {
    return this.full.length > 0;
  }

  /** The line of a report nothing was found in: outputLine(id, negativeLabels) and a line break. */
  negative(id: string): void {
    if (this.pos + id.length * 6 + 8 + this.negativeTail.length > CHUNK) this.rotate();
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 0x7b; // {"id":
    buf[p++] = 0x22;
    buf[p++] = 0x69;
    buf[p++] = 0x64;
    buf[p++] = 0x22;
    buf[p++] = 0x3a;
    if (plainAscii(id)) {
      buf[p++] = 0x22;
      for (let k = 0; k < id.length; k++) buf[p++] = id.charCodeAt(k);
      buf[p++] = 0x22;
    } else {
      p += buf.write(JSON.stringify(id), p, 'utf8');
    }
    buf.set(this.negativeTail, p);
    this.pos = p + this.negativeTail.length;
  }

  /** Any line, given without its line break. */
  line(text: string): void {
    const most = text.length * 3 + 1; // UTF-8: at most 3 bytes per UTF-16 unit
    if (this.pos + most > CHUNK) {
      this.rotate();
      if (most > CHUNK) {
        this.emit(Buffer.from(text + '\n', 'utf8'));
        return;
      }
    }
    this.pos += this.buf.write(text, this.pos, 'utf8');
    this.buf[this.pos++] = 0x0a;
  }

  /** Hands the full buffers to the stream, waiting while it is full. */
  async drain(): Promise<void> {
    while (this.full.length > 0) {
      const bytes = this.full.shift()!;
      if (!this.stream.write(bytes)) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
    }
  }

  /** Everything written out. */
  async end(): Promise<void> {
    this.rotate();
    await this.drain();
  }

  private rotate(): void {
    if (this.pos === 0) return;
    const bytes = this.buf.subarray(0, this.pos);
    // A stream may still hold the buffer it was given: the next lines go to a new one.
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
    this.emit(bytes);
  }

  private emit(bytes: Buffer): void {
    if (!this.toFile) {
      this.full.push(bytes);
      return;
    }
    for (let done = 0; done < bytes.length;) done += writeSync(this.fd, bytes, done, bytes.length - done);
  }
}

const CHUNK = 1 << 20;
const PREFIX_EMPTY_ID = '{"id":""';

/** Printable ASCII without `"` and `\`: its JSON string is itself in quotes. */
function plainAscii(s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/**
 * A line on stderr: written at once with fs.writeSync (stderr is synchronous in Node for files
 * and pipes anyway; this skips building process.stderr, a measurable part of a short run), and
 * through process.stderr when that fails (a non-blocking pipe that is full).
 */
export function stderrLine(text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(2, bytes, done, bytes.length - done);
  } catch {
    process.stderr.write(bytes.subarray(done));
  }
}
