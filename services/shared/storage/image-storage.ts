import { HarvesterError } from '../errors.ts';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { S3Bucket } from './s3-bucket.ts';
import { loadS3Settings, parseS3Uri, S3_SETUP_HINT, type S3Settings } from './s3-config.ts';

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

/** s3:// when this deployment has no S3 settings: every read fails saying what to set. */
export class UnconfiguredS3Storage implements StorageBackend {
  read(): Promise<Uint8Array> {
    return Promise.reject(
      new StorageError(
        'storage-not-configured',
        `s3:// storage is not configured in this deployment: ${S3_SETUP_HINT}`,
      ),
    );
  }
}

/**
 * s3://bucket/key URIs, one client for every bucket. A missing or over-large object is the image's
 * problem (StorageError: the arrival is dead-lettered); refused credentials, a missing bucket or an
 * unreachable endpoint are the deployment's (S3Failure, retriable: the consumer retries). The AWS
 * SDK is loaded on the first s3:// read, so file://-only commands do not pay for it.
 */
export class S3Storage implements StorageBackend {
  private opening: Promise<(bucket: string) => S3Bucket> | undefined;
  private readonly buckets = new Map<string, S3Bucket>();

  constructor(
    private readonly settings: S3Settings,
    private readonly maxBytes: number,
  ) {}

  async bucket(name: string): Promise<S3Bucket> {
    this.opening ??= import('./s3-bucket.ts').then((s3) => {
      const client = s3.createS3Client(this.settings);
      return (bucket: string) => new s3.S3Bucket(client, bucket, this.settings.endpoint);
    });
    const open = await this.opening;
    let bucket = this.buckets.get(name);
    if (!bucket) {
      bucket = open(name);
      this.buckets.set(name, bucket);
    }
    return bucket;
  }

  async read(url: URL): Promise<Uint8Array> {
    let location: { bucket: string; key: string };
    try {
      location = parseS3Uri(url);
    } catch (err) {
      throw new StorageError('unreadable', (err as Error).message);
    }
    const bucket = await this.bucket(location.bucket);
    try {
      return await bucket.read(location.key, this.maxBytes);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (err instanceof HarvesterError && (code === 'not-found' || code === 'too-large'))
        throw new StorageError(code, err.message);
      throw err;
    }
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

/**
 * The storage of this deployment: file:// reads, and s3:// with the S3 settings of `env` (or
 * reported as not configured when it has none). Throws a ConfigError when an S3 variable is wrong.
 */
export function createImageStorage(options: { maxBytes: number; env?: NodeJS.ProcessEnv }): ImageStorage {
  const s3 = loadS3Settings(options.env ?? process.env);
  return new SchemeStorage()
    .withBackend('file:', new FileStorage(options.maxBytes))
    .withBackend('s3:', s3 ? new S3Storage(s3, options.maxBytes) : new UnconfiguredS3Storage());
}
