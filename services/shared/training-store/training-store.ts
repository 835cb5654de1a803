import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ExpectedError } from '../errors.ts';

/**
 * The training store (docs/data-contracts.md, "Training store"): the model input of every image the
 * system labels, kept as immutable, content-addressed shards of uint8 planes under a root URL
 * (file:// here; a shared volume in a cluster), indexed in Postgres (training-store-index.ts).
 * A shard's id is the SHA-256 of its bytes, so writing the same inputs again (a replayed chunk)
 * yields the same file: nothing is duplicated, and a file is never changed once written.
 */

export class TrainingStoreError extends ExpectedError {}

/** One model input to store. */
export interface InputToStore {
  sopInstanceUid: string;
  /** height x width bytes, row-major (model-input-bytes.ts). */
  pixels: Uint8Array;
  /** The stored image's geometry, to scale expert boxes into model-input pixels. */
  sourceRows: number;
  sourceColumns: number;
}

/** Where one stored input is. */
export interface StoredInputRef {
  sopInstanceUid: string;
  shardPath: string;
  byteOffset: number;
  height: number;
  width: number;
  sourceRows: number;
  sourceColumns: number;
  checksum: string;
}

/** A written shard and the inputs in it, ready to be indexed. */
export interface WrittenShard {
  shardId: string;
  /** Relative to the store root: `<preprocessing version>/<2 hex>/<shard id>.u8`. */
  path: string;
  preprocessingVersion: string;
  height: number;
  width: number;
  bytes: number;
  inputs: StoredInputRef[];
}

export interface TrainingStore {
  /** The root, as a URL (file:///...). */
  readonly url: string;
  /** Writes one shard durably (temp file, fsync, rename, fsync of the folder). */
  writeShard(
    inputs: readonly InputToStore[],
    version: { name: string; height: number; width: number },
  ): Promise<WrittenShard>;
  /** One input's bytes, checked against its checksum. */
  read(ref: StoredInputRef): Promise<Uint8Array>;
  /** Creates the root if needed and proves it writable; fails saying what to fix. */
  prepare(): Promise<void>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A store on this machine's file system (or a mounted volume) under a file:// root. */
export class FileTrainingStore implements TrainingStore {
  readonly url: string;

  constructor(readonly root: string) {
    this.url = pathToFileURL(root).href;
  }

  async writeShard(
    inputs: readonly InputToStore[],
    version: { name: string; height: number; width: number },
  ): Promise<WrittenShard> {
    if (inputs.length === 0) throw new Error('a shard needs at least one input');
    const plane = version.height * version.width;
    const content = Buffer.allocUnsafe(plane * inputs.length);
    const refs: Omit<StoredInputRef, 'shardPath'>[] = [];
    inputs.forEach((input, n) => {
      if (input.pixels.length !== plane) {
        throw new Error(
          `input of ${input.sopInstanceUid} holds ${input.pixels.length} bytes, expected ${version.height} x ${version.width}`,
        );
      }
      content.set(input.pixels, n * plane);
      refs.push({
        sopInstanceUid: input.sopInstanceUid,
        byteOffset: n * plane,
        height: version.height,
        width: version.width,
        sourceRows: input.sourceRows,
        sourceColumns: input.sourceColumns,
        checksum: sha256Hex(input.pixels),
      });
    });
    const { shardId, path: relative } = await this.writeShardBytes(content, version.name);
    return {
      shardId,
      path: relative,
      preprocessingVersion: version.name,
      height: version.height,
      width: version.width,
      bytes: content.length,
      inputs: refs.map((r) => ({ ...r, shardPath: relative })),
    };
  }

  /** Writes a shard's bytes under their content address (once: the same bytes are the same file). */
  async writeShardBytes(content: Buffer, versionName: string): Promise<{ shardId: string; path: string }> {
    const shardId = sha256Hex(content);
    const relative = `${versionName}/${shardId.slice(0, 2)}/${shardId}.u8`;
    const file = path.join(this.root, relative);
    const exists = await stat(file).then(
      (s) => s.size === content.length,
      () => false,
    );
    if (!exists) await writeDurably(file, content);
    return { shardId, path: relative };
  }

  /** Deletes a shard file (an erasure replaced it); one already gone is not an error. */
  async removeShard(relative: string): Promise<void> {
    await rm(path.join(this.root, relative), { force: true });
  }

  async prepare(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      const probe = path.join(this.root, `.write-check.${process.pid}.${randomBytes(4).toString('hex')}`);
      await writeDurably(probe, Buffer.from('ok'));
      await rm(probe, { force: true });
    } catch (err) {
      throw new TrainingStoreError(
        `the training store ${this.url} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ` +
          'set TRAINING_STORE_URL to a writable file:// folder',
      );
    }
  }

  async read(ref: StoredInputRef): Promise<Uint8Array> {
    const file = path.join(this.root, ref.shardPath);
    const length = ref.height * ref.width;
    const bytes = Buffer.alloc(length);
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      throw new TrainingStoreError(
        `stored input of ${ref.sopInstanceUid} is in ${ref.shardPath}, which is not under ${this.root} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
    try {
      const { bytesRead } = await handle.read(bytes, 0, length, ref.byteOffset);
      if (bytesRead !== length) throw new TrainingStoreError(`shard ${ref.shardPath} is truncated`);
    } finally {
      await handle.close();
    }
    if (sha256Hex(bytes) !== ref.checksum) {
      throw new TrainingStoreError(
        `stored input of ${ref.sopInstanceUid} in ${ref.shardPath} fails its checksum`,
      );
    }
    return bytes;
  }
}

/** Reads a whole shard (the distiller and benchmarks read shards at once). */
export async function readShardFile(store: FileTrainingStore, relative: string): Promise<Buffer> {
  return readFile(path.join(store.root, relative));
}

async function writeDurably(file: string, content: Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  // the rename itself is durable only once the folder's entry is on disk
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/** The store default: var/training-store under the working directory. */
export const DEFAULT_TRAINING_STORE_DIR = 'var/training-store';

/** TRAINING_STORE_URL: every service and command that reads or writes stored model inputs. */
export const trainingStoreEnvShape = {
  TRAINING_STORE_URL: z
    .string()
    .min(1, 'TRAINING_STORE_URL must name a folder: file:///path or a path')
    .default(DEFAULT_TRAINING_STORE_DIR),
};

/**
 * The store at a URL: file:// (or a plain path) on this machine. Other schemes are refused with a
 * reason, as the image storage does, rather than guessed at.
 */
export function openTrainingStore(url: string): FileTrainingStore {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) return new FileTrainingStore(path.resolve(url));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TrainingStoreError(`TRAINING_STORE_URL ${url} is not a URL (expected file:///path)`);
  }
  if (parsed.protocol !== 'file:') {
    throw new TrainingStoreError(
      `TRAINING_STORE_URL: ${parsed.protocol}// stores are not supported here; use file:///path (a shared volume in a cluster)`,
    );
  }
  return new FileTrainingStore(fileURLToPath(parsed));
}
