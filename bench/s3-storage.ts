/**
 * s3:// storage throughput against its ceiling, in one run: PUT (as the DICOM gateway writes an
 * instance: from a spooled file, with its sha256, conditional) and GET (as the pseudo-labeler
 * reads one, by its s3:// URI) of N objects, one at a time and 8 at a time; the ceiling is writing
 * the same bytes to local disk durably (temporary file, fsync, rename, fsync of the folder) and
 * reading them back. Against moto's S3 server (started here) unless S3_ENDPOINT names another
 * server (with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and BENCH_S3_BUCKET, which must exist).
 *   npm run bench:s3 [-- --objects 20 --mb 5]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { writeFileDurably } from '../services/shared/storage/durable-file.ts';
import { createImageStorage } from '../services/shared/storage/image-storage.ts';
import { createS3Client, S3Bucket } from '../services/shared/storage/s3-bucket.ts';
import { loadS3Settings, s3Uri } from '../services/shared/storage/s3-config.ts';
import { TestS3Server } from '../test/support/s3-server.ts';

const { values } = parseArgs({
  options: { objects: { type: 'string', default: '20' }, mb: { type: 'string', default: '5' } },
});
const objects = Number(values.objects);
const size = Math.round(Number(values.mb) * 1024 * 1024);

async function timed(label: string, n: number, concurrency: number, work: (i: number) => Promise<unknown>) {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await work(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const mb = (n * size) / 1e6;
  console.log(
    `${label.padEnd(56)} ${(n / seconds).toFixed(1).padStart(7)} objects/s ${(mb / seconds).toFixed(1).padStart(7)} MB/s`,
  );
}

const work = await mkdtemp(path.join(tmpdir(), 'fh-bench-s3-'));
let server: TestS3Server | undefined;
try {
  let env: NodeJS.ProcessEnv = process.env;
  let bucketName = process.env.BENCH_S3_BUCKET ?? 'fh-bench';
  if (!process.env.S3_ENDPOINT) {
    server = new TestS3Server();
    await server.start();
    env = server.env;
    bucketName = 'fh-bench';
  }
  const settings = loadS3Settings(env)!;
  const client = createS3Client(settings);
  if (server) await client.send(new CreateBucketCommand({ Bucket: bucketName }));
  const bucket = new S3Bucket(client, bucketName, settings.endpoint);
  const storage = createImageStorage({ maxBytes: size + 1, env });

  // distinct bytes per object (no server can deduplicate), spooled as the gateway spools them
  const files: Array<{ file: string; sha256: string }> = [];
  for (let i = 0; i < objects; i++) {
    const bytes = randomBytes(size);
    const file = path.join(work, `spool-${i}.dcm`);
    await writeFile(file, bytes);
    files.push({ file, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  console.log(
    `${objects} objects of ${(size / 1e6).toFixed(1)} MB; S3 at ${server ? `moto ${server.endpoint}` : settings.endpoint}; ` +
      `${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`,
  );
  for (const concurrency of [1, 8]) {
    const run = `c${concurrency}`;
    await timed(
      `local disk, durable write (ceiling), ${concurrency} at a time`,
      objects,
      concurrency,
      async (i) => writeFileDurably(path.join(work, run, `${i}.dcm`), await readFile(files[i]!.file)),
    );
    await timed(`S3 PUT (gateway's write), ${concurrency} at a time`, objects, concurrency, (i) =>
      bucket.put(
        `bench/${run}/${i}.dcm`,
        { file: files[i]!.file, size },
        { sha256: files[i]!.sha256, ifAbsent: true },
      ),
    );
    await timed(`local disk, read (ceiling), ${concurrency} at a time`, objects, concurrency, (i) =>
      readFile(path.join(work, run, `${i}.dcm`)),
    );
    await timed(`S3 GET by s3:// URI (labeler's read), ${concurrency} at a time`, objects, concurrency, (i) =>
      storage.read(s3Uri(bucketName, `bench/${run}/${i}.dcm`)),
    );
  }
} finally {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
}
