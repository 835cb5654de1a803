import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { IncomingInstance } from '../../services/dicom-gateway/instance-store.ts';
import { S3InstanceStore } from '../../services/dicom-gateway/s3-instance-store.ts';
import { fetchVerifiedModel } from '../../services/shared/onnx/model-artefact.ts';
import { createImageStorage, StorageError } from '../../services/shared/storage/image-storage.ts';
import { createS3Client, S3Bucket } from '../../services/shared/storage/s3-bucket.ts';
import { loadS3Settings, s3Uri, type S3Settings } from '../../services/shared/storage/s3-config.ts';
import { Cleanup } from '../support/cleanup.ts';
import { TestS3Server } from '../support/s3-server.ts';

// s3:// storage against a real S3-compatible server (moto's, started here on a free port): what the
// pseudo-labeler reads and what the DICOM gateway writes.

const cleanup = new Cleanup();
const server = new TestS3Server();
const bucketName = 'fh-images';
let settings: S3Settings;
let bucket: S3Bucket;
let spool: string;

before(async () => {
  await server.start();
  cleanup.add(() => server.stop());
  settings = loadS3Settings(server.env)!;
  // the bucket is the operator's, as a mounted volume is: made here, never by a service
  await createS3Client(settings).send(new CreateBucketCommand({ Bucket: bucketName }));
  bucket = new S3Bucket(createS3Client(settings), bucketName, settings.endpoint);
  spool = await mkdtemp(path.join(tmpdir(), 'fh-s3-spool-'));
  cleanup.add(() => rm(spool, { recursive: true, force: true }));
});

after(() => cleanup.run());

/** An instance received into the store's spool, as the SCP streams it (prefix, then fragments). */
async function receive(store: S3InstanceStore, bytes: Buffer): Promise<IncomingInstance> {
  const incoming = store.incoming(bytes.subarray(0, 132));
  for (let i = 132; i < bytes.length; i += 16_384) incoming.write(bytes.subarray(i, i + 16_384));
  await new Promise<void>((resolve) => incoming.end(resolve));
  return incoming;
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  assert.fail('expected a rejection');
}

describe('s3:// image storage (reads)', () => {
  it('reads back exactly the bytes written, by the s3:// URI', async () => {
    const bytes = randomBytes(300_000);
    await bucket.put('round-trip/1.2.3/1.2.3.4.dcm', { bytes });
    const storage = createImageStorage({ maxBytes: 1 << 20, env: server.env });
    const read = await storage.read(s3Uri(bucketName, 'round-trip/1.2.3/1.2.3.4.dcm'));
    assert.ok(Buffer.from(read).equals(bytes));
  });

  it('a missing object is a not-found StorageError (the arrival is dead-lettered, not retried)', async () => {
    const storage = createImageStorage({ maxBytes: 1 << 20, env: server.env });
    const err = await rejection(storage.read(s3Uri(bucketName, 'nowhere/1.2.dcm')));
    assert.ok(err instanceof StorageError);
    assert.equal(err.code, 'not-found');
    assert.match(err.message, /no object at the uri in bucket fh-images \(NoSuchKey\)/);
  });

  it('an object over the size limit is refused before its body is read', async () => {
    await bucket.put('big.dcm', { bytes: randomBytes(4096) });
    const storage = createImageStorage({ maxBytes: 1000, env: server.env });
    const err = await rejection(storage.read(s3Uri(bucketName, 'big.dcm')));
    assert.ok(err instanceof StorageError);
    assert.equal(err.code, 'too-large');
  });

  it('a missing bucket says so, and is not the image’s fault (retriable, not a StorageError)', async () => {
    const storage = createImageStorage({ maxBytes: 1000, env: server.env });
    const err = await rejection(storage.read('s3://no-such-bucket/a.dcm'));
    assert.ok(!(err instanceof StorageError));
    assert.equal(err.code, 's3-no-bucket');
    assert.match(err.message, /bucket no-such-bucket does not exist .*create it, or fix the s3:\/\/ URI/);
  });

  it('without S3 settings, s3:// reads fail saying what to set', async () => {
    const storage = createImageStorage({ maxBytes: 1000, env: {} });
    const err = await rejection(storage.read(s3Uri(bucketName, 'round-trip/1.2.3/1.2.3.4.dcm')));
    assert.ok(err instanceof StorageError);
    assert.equal(err.code, 'storage-not-configured');
    assert.match(err.message, /S3_REGION .*S3_ENDPOINT .*AWS_ACCESS_KEY_ID/);
  });
});

describe('model artefacts in S3', () => {
  it('a released model is fetched by its s3:// artefact uri and checked against its sha256', async () => {
    const model = randomBytes(50_000);
    const sha = createHash('sha256').update(model).digest('hex');
    await bucket.put('models/teacher-2.onnx', { bytes: model });
    const cache = await mkdtemp(path.join(tmpdir(), 'fh-s3-models-'));
    cleanup.add(() => rm(cache, { recursive: true, force: true }));
    // the services read their S3 settings from the environment, as deployed
    const saved = { ...process.env };
    Object.assign(process.env, server.env);
    try {
      const cached = await fetchVerifiedModel(s3Uri(bucketName, 'models/teacher-2.onnx'), sha, cache);
      assert.ok((await readFile(cached)).equals(model));
      // another checksum than the cached model's (replacing the first digit by 'f' was the same
      // checksum whenever it already was 'f', one run in 16: the cache then answered)
      const other = `${sha[0] === 'f' ? '0' : 'f'}${sha.slice(1)}`;
      const wrong = await rejection(fetchVerifiedModel(s3Uri(bucketName, 'models/none.onnx'), other, cache));
      assert.match(wrong.message, /NoSuchKey/);
    } finally {
      for (const k of Object.keys(server.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

describe('S3 credentials refused', () => {
  const guarded = new TestS3Server({ checkCredentials: true });
  before(async () => {
    await guarded.start();
    cleanup.add(() => guarded.stop());
  });

  it('reads fail with a message naming the credentials to check, retriable (not dead-lettered)', async () => {
    const storage = createImageStorage({ maxBytes: 1000, env: { ...guarded.env, S3_MAX_ATTEMPTS: '1' } });
    const err = await rejection(storage.read(s3Uri(bucketName, 'a.dcm')));
    assert.ok(!(err instanceof StorageError));
    assert.equal(err.code, 's3-access-denied');
    assert.match(err.message, /InvalidAccessKeyId.*check AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY/);
  });

  it('the gateway’s store refuses to start with them', async () => {
    const s = loadS3Settings({ ...guarded.env, S3_MAX_ATTEMPTS: '1' })!;
    const store = S3InstanceStore.fromUri(`s3://${bucketName}/gateway`, s, path.join(spool, 'guarded'));
    const err = await rejection(store.prepare());
    assert.equal(err.code, 's3-access-denied');
    assert.match(err.message, /AWS_ACCESS_KEY_ID/);
  });
});

describe('the DICOM gateway’s S3 instance store (writes)', () => {
  const storeAt = (prefix: string) =>
    S3InstanceStore.fromUri(`s3://${bucketName}/${prefix}`, settings, path.join(spool, prefix));

  it('stores an instance once: the same bytes again are a duplicate, other bytes a conflict kept beside it', async () => {
    const store = storeAt('idempotence');
    await store.prepare();
    const first = randomBytes(200_000);
    const key = store.pathFor('1.2.3', '1.2.3.9');
    assert.equal(key, 'idempotence/1.2.3/1.2.3.9.dcm');
    assert.equal(store.uriFor(key), `s3://${bucketName}/idempotence/1.2.3/1.2.3.9.dcm`);
    assert.equal(await store.commit(await receive(store, first), key), 'stored');
    assert.equal(await store.commit(await receive(store, first), key), 'duplicate');
    const other = randomBytes(1000);
    assert.equal(await store.commit(await receive(store, other), key), 'conflict');
    // the first copy is the instance, whatever came after
    const read = await createImageStorage({ maxBytes: 1 << 20, env: server.env }).read(store.uriFor(key));
    assert.ok(Buffer.from(read).equals(first));
    assert.ok((await store.readStored(key)).equals(first));
    assert.deepEqual(await readdir(path.join(spool, 'idempotence')), [], 'nothing left in the spool');
    assert.equal(await store.isAnnounced(key), false);
    await store.markAnnounced(key, 'announced');
    assert.equal(await store.isAnnounced(key), true);
  });

  it('two gateways receiving the same instance at once store it once (conditional write)', async () => {
    const a = storeAt('race');
    const b = storeAt('race-b');
    await a.prepare();
    await b.prepare();
    const bytes = randomBytes(500_000);
    const key = a.pathFor('1.2.4', '1.2.4.1');
    const outcomes = await Promise.all([
      a.commit(await receive(a, bytes), key),
      b.commit(await receive(b, bytes), key),
    ]);
    assert.deepEqual(outcomes.sort(), ['duplicate', 'stored']);
  });

  it('an instance over 64 MiB is streamed from the spool in one PUT, whole', async () => {
    const store = storeAt('large');
    await store.prepare();
    const bytes = randomBytes(64 * 1024 * 1024 + 1024);
    const key = store.pathFor('1.2.6', '1.2.6.1');
    const incoming = await receive(store, bytes);
    assert.equal(await store.commit(incoming, key), 'stored');
    const head = await bucket.head(key);
    assert.equal(head?.size, bytes.length);
    assert.equal(head?.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.ok((await store.readStored(key)).equals(bytes));
  });
});
