import { createHash } from 'node:crypto';
import { createS3Client, S3Bucket } from '../shared/storage/s3-bucket.ts';
import { parseS3Uri, s3Uri, type S3Settings } from '../shared/storage/s3-config.ts';
import {
  conflictLocation,
  IncomingSpool,
  uidPathComponent,
  type IncomingInstance,
  type InstanceStore,
  type StoreOutcome,
} from './instance-store.ts';

/** No object the gateway stores is larger (a single PUT holds up to 5 GiB). */
const MAX_STORED_BYTES = 5 * 1024 ** 3;

/**
 * The gateway's image store in an S3 bucket (s3://bucket/prefix): instances are received into a
 * local spool, then each is one PUT of `<prefix>/<StudyInstanceUID>/<SOPInstanceUID>.dcm` with its
 * sha256 (S3 shows an object whole or not at all, once stored durably, and checks the sha256), plus
 * `<key>.announced` once its DicomArrived was acknowledged. The first write is conditional
 * (If-None-Match: *), so two gateways receiving the same instance at once store it once; the same
 * UID again is a duplicate (same sha256) or a conflict (kept beside it as `<sop>.<sha>.conflict`).
 */
export class S3InstanceStore implements InstanceStore {
  private readonly spool: IncomingSpool;

  constructor(
    private readonly bucket: S3Bucket,
    /** Key prefix, '' or ending in '/'. */
    private readonly prefix: string,
    spoolDir: string,
  ) {
    this.spool = new IncomingSpool(spoolDir);
  }

  static fromUri(uri: string, settings: S3Settings, spoolDir: string): S3InstanceStore {
    const { bucket, key } = parseS3Uri(uri);
    const prefix = key.replace(/\/+$/, '');
    return new S3InstanceStore(
      new S3Bucket(createS3Client(settings), bucket, settings.endpoint),
      prefix ? `${prefix}/` : '',
      spoolDir,
    );
  }

  /** Clears the spool and checks that the bucket exists and may be listed with these credentials. */
  async prepare(): Promise<void> {
    await this.spool.prepare();
    await this.bucket.probe(this.prefix);
  }

  incoming(prefix: Buffer): IncomingInstance {
    return this.spool.incoming(prefix);
  }

  discard(incoming: IncomingInstance): Promise<void> {
    return this.spool.discard(incoming);
  }

  pathFor(studyUid: string | null, sopUid: string): string {
    return `${this.prefix}${uidPathComponent(studyUid)}/${uidPathComponent(sopUid)}.dcm`;
  }

  uriFor(key: string): string {
    return s3Uri(this.bucket.name, key);
  }

  async commit(incoming: IncomingInstance, key: string): Promise<StoreOutcome> {
    try {
      let stored = await this.storedSha256(key);
      if (stored === null) {
        const put = await this.bucket.put(
          key,
          { file: incoming.tempPath, size: incoming.size },
          { sha256: incoming.sha256, ifAbsent: true, contentType: 'application/dicom' },
        );
        if (put === 'written') return 'stored';
        // another writer stored it between the look and the write
        stored = await this.storedSha256(key);
      }
      if (stored === incoming.sha256) return 'duplicate';
      await this.bucket.put(
        conflictLocation(key, incoming.sha256),
        { file: incoming.tempPath, size: incoming.size },
        { sha256: incoming.sha256, contentType: 'application/dicom' },
      );
      return 'conflict';
    } finally {
      // in the bucket, or failed (the sender retries): the spooled copy is not needed either way
      await this.spool.discard(incoming);
    }
  }

  async readStored(key: string): Promise<Buffer> {
    return Buffer.from(await this.bucket.read(key, MAX_STORED_BYTES));
  }

  async isAnnounced(key: string): Promise<boolean> {
    return (await this.bucket.head(`${key}.announced`)) !== null;
  }

  async markAnnounced(key: string, note: string): Promise<void> {
    await this.bucket.put(`${key}.announced`, { bytes: note }, { contentType: 'text/plain' });
  }

  /** The sha256 of the object at `key` (recorded at write, else computed), or null when absent. */
  private async storedSha256(key: string): Promise<string | null> {
    const head = await this.bucket.head(key);
    if (!head) return null;
    if (head.sha256 && /^[0-9a-f]{64}$/.test(head.sha256)) return head.sha256;
    // written by something else (a copy from another archive): hash its bytes
    return createHash('sha256')
      .update(await this.bucket.read(key, MAX_STORED_BYTES))
      .digest('hex');
  }
}
