import { HarvesterError } from '../errors.ts';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export type StorageErrorCode =
  'unsupported-scheme' | 'storage-not-configured' | 'not-found' | 'too-large' | 'unreadable';

/** A stored image that cannot be read; the pseudo-labeler dead-letters its arrival with the code. */
export class StorageError extends HarvesterError<StorageErrorCode> {}

/** Where DICOM files are read from, by the uri of their DicomArrived event. */
export interface ImageStorage {
  read(uri: string): Promise<Uint8Array>;
}

/** One backend per URI scheme (file:, s3:, ...). */
export interface StorageBackend {
  read(url: URL): Promise<Uint8Array>;
}

/** file:// URIs on this machine's file system (or a mounted share). */
export class FileStorage implements StorageBackend {
  constructor(private readonly maxBytes: number) {}

  async read(url: URL): Promise<Uint8Array> {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (err) {
      throw new StorageError('unreadable', `not a local file URI: ${(err as Error).message}`);
    }
    try {
      const info = await stat(path);
      if (info.size > this.maxBytes) {
        throw new StorageError(
          'too-large',
          `file holds ${info.size} bytes, over the limit of ${this.maxBytes}`,
        );
      }
      const bytes = await readFile(path);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (err instanceof StorageError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      // the message names the errno only: paths can contain identifiers
      if (code === 'ENOENT') throw new StorageError('not-found', 'no file at the uri (ENOENT)');
      throw new StorageError('unreadable', `cannot read the file (${code ?? (err as Error).name})`);
    }
  }
}

/**
 * s3:// is part of the interface but has no client in this deployment: every read fails with a
 * clear reason instead of guessing credentials. Plug a backend in with `withBackend('s3:', ...)`.
 */
export class UnconfiguredS3Storage implements StorageBackend {
  read(): Promise<Uint8Array> {
    return Promise.reject(
      new StorageError(
        'storage-not-configured',
        's3:// storage is not configured in this deployment (only file:// is); give the service an S3 backend',
      ),
    );
  }
}

/** Dispatches a URI to the backend of its scheme. */
export class SchemeStorage implements ImageStorage {
  private readonly backends = new Map<string, StorageBackend>();

  withBackend(scheme: string, backend: StorageBackend): this {
    this.backends.set(scheme, backend);
    return this;
  }

  async read(uri: string): Promise<Uint8Array> {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new StorageError(
        'unsupported-scheme',
        'the uri is not an absolute URI (expected file:// or s3://)',
      );
    }
    const backend = this.backends.get(url.protocol);
    if (!backend) {
      throw new StorageError(
        'unsupported-scheme',
        `no storage backend for ${url.protocol}// (supported: ${[...this.backends.keys()].join(', ')})`,
      );
    }
    return backend.read(url);
  }
}

/** The default storage: file:// reads, s3:// reported as not configured. */
export function createImageStorage(options: { maxBytes: number }): ImageStorage {
  return new SchemeStorage()
    .withBackend('file:', new FileStorage(options.maxBytes))
    .withBackend('s3:', new UnconfiguredS3Storage());
}
