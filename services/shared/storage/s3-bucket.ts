import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { HarvesterError } from '../errors.ts';
import type { S3Settings } from './s3-config.ts';

export type S3FailureCode =
  'not-found' | 'too-large' | 's3-access-denied' | 's3-no-bucket' | 's3-unavailable';

/**
 * A failed S3 request, with a message saying what to check. `not-found` and `too-large` are about
 * one object; the others (credentials, bucket, endpoint) about the deployment, and retriable.
 */
export class S3Failure extends HarvesterError<S3FailureCode> {}

/** An S3 client for these settings (path-style for MinIO/Ceph, bounded requests, the SDK's retries). */
export function createS3Client(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    maxAttempts: settings.maxAttempts,
    // checksums only where S3 requires them, or where this code sets one (x-amz-checksum-sha256 on
    // writes): older MinIO and Ceph releases refuse the SDK's default CRC32 trailers
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: settings.requestTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
    },
  });
}

const ACCESS_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'CredentialsProviderError',
]);

/** An SDK error as an S3Failure whose message says what to check (never the key: it holds UIDs). */
export function describeS3Error(err: unknown, bucket: string, endpoint: string | undefined): S3Failure {
  const e = err as Error & { Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.Code ?? e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const where = endpoint ?? 'AWS S3';
  if (name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket'))
    return new S3Failure('not-found', `no object at the uri in bucket ${bucket} (NoSuchKey)`);
  if (name === 'NoSuchBucket')
    return new S3Failure(
      's3-no-bucket',
      `bucket ${bucket} does not exist at ${where} (NoSuchBucket): create it, or fix the s3:// URI`,
      { retriable: true },
    );
  if (ACCESS_CODES.has(name) || status === 403)
    return new S3Failure(
      's3-access-denied',
      `S3 at ${where} refused the request to bucket ${bucket} (${name}${status ? ` ${status}` : ''}): ` +
        'check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or the role) and the bucket policy ' +
        '(s3:GetObject, s3:PutObject, s3:ListBucket)',
      { retriable: true },
    );
  const network = (e as NodeJS.ErrnoException).code ?? name;
  return new S3Failure(
    's3-unavailable',
    `S3 request to bucket ${bucket} at ${where} failed (${network}${status ? ` ${status}` : ''}): ` +
      (err instanceof S3ServiceException
        ? e.message.slice(0, 200)
        : 'check S3_ENDPOINT / S3_REGION and the network'),
    { retriable: true },
  );
}

/** sha256 hex digest as S3's x-amz-checksum-sha256 (base64). */
const checksumOf = (sha256Hex: string) => Buffer.from(sha256Hex, 'hex').toString('base64');

export interface StoredObject {
  size: number;
  /** The sha256 (hex) recorded when this code wrote it, if it did. */
  sha256: string | undefined;
}

/**
 * One bucket, with the few operations the system needs. Writes are single PUTs: S3 makes an object
 * visible whole or not at all, and only after it is durably stored; the sha256 sent with each write
 * lets S3 refuse bytes damaged on the way.
 */
export class S3Bucket {
  constructor(
    readonly client: S3Client,
    readonly name: string,
    readonly endpoint: string | undefined,
  ) {}

  /** Checks that the bucket exists and these credentials may list it; throws an S3Failure saying what to fix. */
  async probe(prefix = ''): Promise<void> {
    await this.call(() =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, MaxKeys: 1 })),
    );
  }

  /** The object's bytes; `not-found` or `too-large` (checked before the body is read) otherwise. */
  async read(key: string, maxBytes: number): Promise<Uint8Array> {
    const response = await this.call(() =>
      this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key })),
    );
    const size = response.ContentLength ?? 0;
    if (size > maxBytes) {
      (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw new S3Failure('too-large', `object holds ${size} bytes, over the limit of ${maxBytes}`);
    }
    if (!response.Body) return new Uint8Array();
    return this.call(() => response.Body!.transformToByteArray());
  }

  /** Size and recorded sha256 of an object, or null when there is none. */
  async head(key: string): Promise<StoredObject | null> {
    try {
      const response = await this.call(() =>
        this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key })),
      );
      return { size: response.ContentLength ?? 0, sha256: response.Metadata?.sha256 };
    } catch (err) {
      if (err instanceof S3Failure && err.code === 'not-found') return null;
      throw err;
    }
  }

  /**
   * Writes bytes (or a local file) at `key`. With `ifAbsent` the write is conditional
   * (If-None-Match: *): 'exists' when an object is already there, which is then left untouched.
   */
  async put(
    key: string,
    body: { bytes: Uint8Array | string } | { file: string; size: number },
    options: { sha256?: string; ifAbsent?: boolean; contentType?: string } = {},
  ): Promise<'written' | 'exists'> {
    // in memory up to 64 MiB, so the SDK's retries can send it again; a larger file is streamed
    // (a retry of a consumed stream fails its checksum, and the caller's write fails as a whole)
    const payload =
      'bytes' in body
        ? body.bytes
        : body.size <= IN_MEMORY_PUT_BYTES
          ? await readFile(body.file)
          : createReadStream(body.file);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.name,
          Key: key,
          Body: payload,
          ...('file' in body ? { ContentLength: body.size } : {}),
          ContentType: options.contentType ?? 'application/octet-stream',
          ...(options.sha256
            ? { ChecksumSHA256: checksumOf(options.sha256), Metadata: { sha256: options.sha256 } }
            : {}),
          ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}),
        }),
      );
      return 'written';
    } catch (err) {
      // 412: the conditional write found an object there
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (options.ifAbsent && (e.$metadata?.httpStatusCode === 412 || e.name === 'PreconditionFailed'))
        return 'exists';
      throw describeS3Error(err, this.name, this.endpoint);
    }
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof S3Failure) throw err;
      throw describeS3Error(err, this.name, this.endpoint);
    }
  }
}

const IN_MEMORY_PUT_BYTES = 64 * 1024 * 1024;
