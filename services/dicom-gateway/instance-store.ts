import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { commitFileDurably, syncDirectory, writeFileDurably } from '../shared/storage/durable-file.ts';

/** How many leading bytes of an instance are kept in memory for reading its header. */
export const HEAD_BYTES = 256 * 1024;

/**
 * One instance being received: its bytes stream into a temporary file (fsync'd when the stream
 * ends), hashed on the way, with the first bytes kept in memory for the header. A write error is
 * kept and reported when the instance is stored, so the C-STORE answers a failure.
 */
export class IncomingInstance extends Writable {
  private handle: FileHandle | undefined;
  private readonly hash: Hash = createHash('sha256');
  private readonly headParts: Buffer[] = [];
  private headLength = 0;
  size = 0;
  failure: Error | undefined;
  sha256 = '';

  constructor(
    readonly tempPath: string,
    /** Written first: the Part 10 preamble and file meta group. */
    private readonly prefix: Buffer,
  ) {
    super();
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.tempPath, 'wx', 0o640)
      .then(async (handle) => {
        this.handle = handle;
        await this.append(this.prefix);
        callback();
      })
      .catch((err: Error) => {
        this.failure = err;
        callback();
      });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // after a failure keep draining the association (and answer a failure status at the end)
    if (this.failure) return callback();
    this.append(chunk).then(
      () => callback(),
      (err: Error) => {
        this.failure = err;
        callback();
      },
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sha256 = this.hash.digest('hex');
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return callback();
    (this.failure ? Promise.resolve() : handle.sync())
      .catch((err: Error) => {
        this.failure = err;
      })
      .finally(() =>
        handle.close().then(
          () => callback(),
          () => callback(),
        ),
      );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // an abandoned instance (the sender went away): close the file; the caller removes it
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return callback(error);
    handle.close().then(
      () => callback(error),
      () => callback(error),
    );
  }

  /** The first bytes of the file (header, usually whole). */
  get head(): Buffer {
    return Buffer.concat(this.headParts, this.headLength);
  }

  /** Whether the head holds the whole file. */
  get complete(): boolean {
    return this.headLength === this.size;
  }

  private async append(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    if (this.headLength < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.headLength);
      this.headParts.push(Buffer.from(part));
      this.headLength += part.length;
    }
    this.size += chunk.length;
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await this.handle!.write(chunk, written, chunk.length - written);
      written += bytesWritten;
    }
  }
}

export type StoreOutcome = 'stored' | 'duplicate' | 'conflict';

const UID = /^[0-9]+(\.[0-9]+)*$/;

/** A UID as a path component; anything that is not a plain UID (or is too long) becomes its hash. */
export function uidPathComponent(uid: string | null): string {
  if (uid && UID.test(uid) && uid.length <= 64) return uid;
  return `x${createHash('sha256')
    .update(uid ?? '')
    .digest('hex')
    .slice(0, 32)}`;
}

/**
 * The gateway's image store under a file:// root (the storage the pseudo-labeler reads):
 * `<root>/<StudyInstanceUID>/<SOPInstanceUID>.dcm`, written durably (temporary file, fsync, rename,
 * fsync folder), plus `<file>.announced` once its DicomArrived was acknowledged. An instance is
 * stored once: the same SOP Instance UID again with the same bytes is a duplicate; with other
 * bytes a conflict (the first copy stays, the second is kept beside it as `<sop>.<sha>.conflict`).
 */
export class InstanceStore {
  readonly incomingDir: string;

  constructor(readonly root: string) {
    this.incomingDir = path.join(root, '.incoming');
  }

  static fromUri(uri: string): InstanceStore {
    return new InstanceStore(fileURLToPath(uri));
  }

  async prepare(): Promise<void> {
    await mkdir(this.incomingDir, { recursive: true });
    await syncDirectory(this.root);
    // leftovers of a crash: never acknowledged, so the sender sends them again
    const { readdir } = await import('node:fs/promises');
    for (const name of await readdir(this.incomingDir))
      await rm(path.join(this.incomingDir, name), { force: true });
  }

  incoming(prefix: Buffer): IncomingInstance {
    return new IncomingInstance(
      path.join(this.incomingDir, `${randomBytes(12).toString('hex')}.part`),
      prefix,
    );
  }

  pathFor(studyUid: string | null, sopUid: string): string {
    return path.join(this.root, uidPathComponent(studyUid), `${uidPathComponent(sopUid)}.dcm`);
  }

  uriFor(file: string): string {
    return pathToFileURL(file).href;
  }

  /** Moves a received instance to its place, or recognises it as already stored. */
  async commit(incoming: IncomingInstance, finalPath: string): Promise<StoreOutcome> {
    if (await exists(finalPath)) {
      const same = (await sha256File(finalPath)) === incoming.sha256;
      if (same) {
        await rm(incoming.tempPath, { force: true });
        return 'duplicate';
      }
      await commitFileDurably(
        incoming.tempPath,
        `${finalPath.slice(0, -4)}.${incoming.sha256.slice(0, 16)}.conflict`,
      );
      return 'conflict';
    }
    await commitFileDurably(incoming.tempPath, finalPath);
    return 'stored';
  }

  async discard(incoming: IncomingInstance): Promise<void> {
    await rm(incoming.tempPath, { force: true });
  }

  async readWhole(incoming: IncomingInstance, finalPath: string): Promise<Buffer> {
    return incoming.complete ? incoming.head : readFile(finalPath);
  }

  isAnnounced(finalPath: string): Promise<boolean> {
    return exists(`${finalPath}.announced`);
  }

  /** Records, durably, that the instance's DicomArrived was acknowledged by Kafka. */
  markAnnounced(finalPath: string, note: string): Promise<void> {
    return writeFileDurably(`${finalPath}.announced`, note);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
