import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { createImageStorage, StorageError } from '../../../services/shared/storage/image-storage.ts';

describe('image storage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-storage-'));
  const file = join(dir, 'a.dcm');
  writeFileSync(file, Buffer.from([1, 2, 3, 4]));
  const storage = createImageStorage({ maxBytes: 1024 });

  it('reads file:// URIs', async () => {
    assert.deepEqual([...(await storage.read(pathToFileURL(file).href))], [1, 2, 3, 4]);
  });

  it('says s3:// is not configured when no S3 setting is given, with a code the DLQ reason uses', async () => {
    const unconfigured = createImageStorage({ maxBytes: 1024, env: {} });
    await assert.rejects(unconfigured.read('s3://bucket/key.dcm'), (err: StorageError) => {
      assert.equal(err.code, 'storage-not-configured');
      assert.match(err.message, /s3:\/\/ storage is not configured in this deployment: set S3_REGION/);
      return true;
    });
  });

  it('refuses unknown schemes, relative paths, missing and oversize files', async () => {
    const code = async (uri: string, s = storage) =>
      s.read(uri).then(
        () => 'read',
        (e: StorageError) => e.code,
      );
    assert.equal(await code('http://example.org/a.dcm'), 'unsupported-scheme');
    assert.equal(await code('dicom/a.dcm'), 'unsupported-scheme');
    assert.equal(await code(pathToFileURL(join(dir, 'missing.dcm')).href), 'not-found');
    assert.equal(await code(pathToFileURL(file).href, createImageStorage({ maxBytes: 2 })), 'too-large');
  });
});
