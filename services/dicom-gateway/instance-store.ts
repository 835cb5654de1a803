import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
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
 * Where the gateway keeps instances. A location (from `pathFor`) names one instance in the store;
 * `commit` stores a received instance there once (see StoreOutcome), `uriFor` is the URI its
 * DicomArrived carries (what the pseudo-labeler reads), `markAnnounced` records durably that the
 * DicomArrived was acknowledged.
 */
export interface InstanceStore {
  /** Creates what the store needs, clears leftovers of a crash, checks it can be written. */
  prepare(): Promise<void>;
  incoming(prefix: Buffer): IncomingInstance;
  discard(incoming: IncomingInstance): Promise<void>;
  pathFor(studyUid: string | null, sopUid: string): string;
  uriFor(location: string): string;
  commit(incoming: IncomingInstance, location: string): Promise<StoreOutcome>;
  /** The stored bytes at a location (the first copy, after a conflict). */
  readStored(location: string): Promise<Buffer>;
  isAnnounced(location: string): Promise<boolean>;
  markAnnounced(location: string, note: string): Promise<void>;
}

/**
 * The folder instances are received into before they are committed: random names, removed when
 * discarded, and every leftover removed at start-up (never acknowledged, so the sender sends them again).
 */
export class IncomingSpool {
  constructor(readonly dir: string) {}

  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await syncDirectory(path.dirname(this.dir));
    for (const name of await readdir(this.dir)) await rm(path.join(this.dir, name), { force: true });
  }

  incoming(prefix: Buffer): IncomingInstance {
    return new IncomingInstance(path.join(this.dir, `${randomBytes(12).toString('hex')}.part`), prefix);
  }

  async discard(incoming: IncomingInstance): Promise<void> {
    await rm(incoming.tempPath, { force: true });
  }
}

/**
 * The gateway's image store under a file:// root (the storage the pseudo-labeler reads):
 * `<root>/<StudyInstanceUID>/<SOPInstanceUID>.dcm`, written durably (temporary file, fsync, rename,
 * fsync folder), plus `<file>.announced` once its DicomArrived was acknowledged. An instance is
 * stored once: the same SOP Instance UID again with the same bytes is a duplicate; with other
 * bytes a conflict (the first copy stays, the second is kept beside it as `<sop>.<sha>.conflict`).
 */
export class FileInstanceStore implements InstanceStore {
  readonly incomingDir: string;
  private readonly spool: IncomingSpool;

  constructor(readonly root: string) {
    // inside the root: the rename that commits an instance stays on one file system
    this.incomingDir = path.join(root, '.incoming');
    this.spool = new IncomingSpool(this.incomingDir);
  }

  static fromUri(uri: string): FileInstanceStore {
    return new FileInstanceStore(fileURLToPath(uri));
  }

  prepare(): Promise<void> {
    return this.spool.prepare();
  }

  incoming(prefix: Buffer): IncomingInstance {
    return this.spool.incoming(prefix);
  }

  discard(incoming: IncomingInstance): Promise<void> {
    return this.spool.discard(incoming);
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
      await commitFileDurably(incoming.tempPath, conflictLocation(finalPath, incoming.sha256));
      return 'conflict';
    }
    await commitFileDurably(incoming.tempPath, finalPath);
    return 'stored';
  }

  readStored(finalPath: string): Promise<Buffer> {
    return readFile(finalPath);
  }

  isAnnounced(finalPath: string): Promise<boolean> {
    return exists(`${finalPath}.announced`);
  }

  /** Records, durably, that the instance's DicomArrived was acknowledged by Kafka. */
  markAnnounced(finalPath: string, note: string): Promise<void> {
    return writeFileDurably(`${finalPath}.announced`, note);
  }
}

/** Where a second copy in other bytes is kept, beside the first (`<sop>.<sha16>.conflict`). */
export function conflictLocation(location: string, sha256: string): string {
  return `${location.slice(0, -4)}.${sha256.slice(0, 16)}.conflict`;
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
