/**
 * The training store's own costs on this machine: writing shards of model inputs (SHA-256 of each
 * input and of the shard, write, fsync, rename, fsync of the folder), indexing them in Postgres,
 * and reading inputs back with their checksum checked; per image, by shard size.
 * Run: npm run bench:training-store [-- --size 256 --images 2000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { migrateDatabase } from '../services/shared/db/migrate.ts';
import { withTransaction } from '../services/shared/db/transaction.ts';
import { preprocessingVersion } from '../services/shared/training-store/model-input-bytes.ts';
import { findStoredInputs, indexShard } from '../services/shared/training-store/training-store-index.ts';
import { FileTrainingStore, type InputToStore } from '../services/shared/training-store/training-store.ts';
import { createTestSchema, getTestStack, releaseTestStack } from '../test/support/index.ts';

const { values } = parseArgs({
  options: { size: { type: 'string', default: '256' }, images: { type: 'string', default: '2000' } },
});
const size = Number(values.size);
const total = Number(values.images);
const version = { name: preprocessingVersion(size, size), width: size, height: size };

function inputs(n: number, from: number): InputToStore[] {
  return Array.from({ length: n }, (_, k) => {
    const pixels = new Uint8Array(size * size);
    let x = (from + k + 1) * 2654435761;
    for (let i = 0; i < pixels.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      pixels[i] = x >>> 24;
    }
    return { sopInstanceUid: `2.25.${from + k}`, pixels, sourceRows: 2048, sourceColumns: 2048 };
  });
}

const dir = await mkdtemp(path.join(tmpdir(), 'fh-bench-store-'));
const stack = await getTestStack();
const db = await createTestSchema(stack, 'bench_store');
try {
  await migrateDatabase({ database: stack.databaseUrl, schema: db.schema });
  const store = new FileTrainingStore(path.join(dir, 'store'));
  await store.prepare();
  const results = [];
  let next = 0;
  for (const perShard of [1, 8, 64, 200]) {
    const batches = Math.max(1, Math.floor(total / 4 / perShard));
    let writeMs = 0;
    let indexMs = 0;
    const sops: string[] = [];
    for (let b = 0; b < batches; b++) {
      const batch = inputs(perShard, next);
      next += perShard;
      sops.push(...batch.map((i) => i.sopInstanceUid));
      let t = performance.now();
      const shard = await store.writeShard(batch, version);
      writeMs += performance.now() - t;
      t = performance.now();
      await withTransaction(db.pool, (client) => indexShard(client, shard, 'bench'));
      indexMs += performance.now() - t;
    }
    const t = performance.now();
    const refs = await findStoredInputs(db.pool, sops, version.name);
    for (const ref of refs.values()) await store.read(ref);
    const readMs = performance.now() - t;
    const n = batches * perShard;
    results.push({
      imagesPerShard: perShard,
      images: n,
      bytesPerImage: size * size,
      writeMsPerImage: Math.round((writeMs / n) * 1000) / 1000,
      indexMsPerImage: Math.round((indexMs / n) * 1000) / 1000,
      readMsPerImage: Math.round((readMs / n) * 1000) / 1000,
      writeMBps: Math.round((n * size * size) / 1048576 / (writeMs / 1000)),
    });
  }
  console.log(JSON.stringify({ bench: 'training-store', input: `${size}x${size} uint8`, results }, null, 1));
} finally {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
  await releaseTestStack();
}
