import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readInstanceHeader } from '../../../services/dicom-gateway/instance-header.ts';
import {
  FileInstanceStore,
  uidPathComponent,
  type IncomingInstance,
} from '../../../services/dicom-gateway/instance-store.ts';
import { encodeFileMeta } from '../../../services/shared/imaging/file-meta.ts';
import { parseDicomImage } from '../../../services/shared/imaging/index.ts';
import { writeDicom } from '../../support/dicom-writer.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** The dataset part of a Part 10 file (what travels over a DICOM association). */
function datasetOf(file: Uint8Array): Buffer {
  const metaLength = Buffer.from(file).readUInt32LE(140);
  return Buffer.from(file.subarray(144 + metaLength));
}

async function receive(store: FileInstanceStore, dataset: Buffer, sop: string): Promise<IncomingInstance> {
  const incoming = store.incoming(
    encodeFileMeta({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.1.1',
      sopInstanceUid: sop,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      sourceAeTitle: 'MODALITY',
    }),
  );
  // as dcmjs-dimse does: PDV fragments, then end
  for (let i = 0; i < dataset.length; i += 1000) incoming.write(dataset.subarray(i, i + 1000));
  await new Promise<void>((resolve) => incoming.end(resolve));
  return incoming;
}

describe('InstanceStore', () => {
  it('writes meta + received dataset as a Part 10 file the imaging code reads, once per SOP Instance UID', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'fh-store-'));
    dirs.push(root);
    const store = new FileInstanceStore(root);
    await store.prepare();
    const file = writeDicom({
      rows: 8,
      columns: 8,
      bitsAllocated: 8,
      pixelBytes: new Uint8Array(64).fill(7),
      sopInstanceUid: '1.2.9',
    });
    const first = await receive(store, datasetOf(file), '1.2.9');
    const target = store.pathFor('1.2.3', '1.2.9');
    assert.equal(await store.commit(first, target), 'stored');
    const stored = new Uint8Array(await readFile(target));
    assert.equal(parseDicomImage(stored).header.rows, 8);
    assert.equal(readInstanceHeader(stored).sopInstanceUid, '1.2.9');
    // the same bytes again: a duplicate, nothing left behind
    assert.equal(await store.commit(await receive(store, datasetOf(file), '1.2.9'), target), 'duplicate');
    // other bytes under the same UID: the first copy stays, the second is kept beside it
    const other = writeDicom({
      rows: 8,
      columns: 8,
      bitsAllocated: 8,
      pixelBytes: new Uint8Array(64).fill(9),
      sopInstanceUid: '1.2.9',
    });
    assert.equal(await store.commit(await receive(store, datasetOf(other), '1.2.9'), target), 'conflict');
    assert.deepEqual(await readFile(target), Buffer.from(stored));
    assert.deepEqual(await readdir(store.incomingDir), []);
    assert.equal(await store.isAnnounced(target), false);
    await store.markAnnounced(target, 'x');
    assert.equal(await store.isAnnounced(target), true);
  });

  it('never puts a UID that is not a plain UID into a path', () => {
    assert.equal(uidPathComponent('1.2.840.5'), '1.2.840.5');
    assert.match(uidPathComponent('../../etc/passwd'), /^x[0-9a-f]{32}$/);
    assert.match(uidPathComponent(null), /^x[0-9a-f]{32}$/);
  });
});

describe('IncomingInstance', () => {
  it('an instance abandoned mid-transfer closes its file and can be discarded', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'fh-store-'));
    dirs.push(root);
    const store = new FileInstanceStore(root);
    await store.prepare();
    const incoming = store.incoming(Buffer.alloc(10));
    incoming.write(Buffer.alloc(1000));
    await new Promise((r) => setImmediate(r));
    incoming.destroy();
    await new Promise((r) => incoming.once('close', r));
    await store.discard(incoming);
    assert.deepEqual(await readdir(store.incomingDir), []);
  });
});
