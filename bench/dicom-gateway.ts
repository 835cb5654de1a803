/**
 * DICOM gateway throughput against its ceiling, in one run: DCMTK's storescu sends 2-10 MB
 * radiographs (16-bit, Explicit VR Little Endian) in one association to `harvester run
 * dicom-gateway` (a child process, as deployed), which writes each durably and publishes its
 * DicomArrived before answering. The ceiling is writing the same bytes to disk alone, with the same
 * durability (temporary file, fsync, rename, fsync of the folder), from this process.
 *   npm run bench:dicom-gateway [-- --copies 5] [-- --s3]
 * With --s3 the gateway stores to s3:// on moto's S3 server (started here; test/support/s3-server.ts).
 * Needs Kafka and the registry (or deploy/local/stack), and DCMTK (apt-get install dcmtk).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createSchemaRegistry, registerEventSchemas } from '../services/shared/events/registry.ts';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { writeFileDurably } from '../services/shared/storage/durable-file.ts';
import { createS3Client } from '../services/shared/storage/s3-bucket.ts';
import { loadS3Settings } from '../services/shared/storage/s3-config.ts';
import { bytes16, writeDicom } from '../test/support/dicom-writer.ts';
import { dcmtk, freePorts, metricValue, waitForHealthy } from '../test/support/gateways.ts';
import { createTestKafka, deleteTopics, getTestStack, uniqueTopicName } from '../test/support/index.ts';
import { TestS3Server } from '../test/support/s3-server.ts';

const { values } = parseArgs({
  options: { copies: { type: 'string', default: '5' }, s3: { type: 'boolean', default: false } },
});
const copies = Number(values.copies);
/** Square sizes giving about 2, 4.5, 8 and 10 MB of 16-bit pixels. */
const SIZES = [1024, 1536, 2048, 2236];

async function makeRadiographs(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const size of SIZES) {
    const pixels = new Uint16Array(size * size);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) % 4096; // incompressible-ish
    const base = path.join(dir, `base-${size}.dcm`);
    await writeFile(
      base,
      writeDicom({
        rows: size,
        columns: size,
        bitsAllocated: 16,
        bitsStored: 12,
        pixelBytes: bytes16(pixels),
      }),
    );
    for (let c = 0; c < copies; c++) {
      const file = path.join(dir, `cr-${size}-${c}.dcm`);
      await writeFile(file, await readFile(base));
      const r = await dcmtk('dcmodify', [
        '-nb',
        '-gin',
        '-i',
        `(0020,000D)=1.2.826.0.1.3680043.10.9.${size}.${c}`,
        '-i',
        `(0020,000E)=1.2.826.0.1.3680043.10.9.${size}.${c}.1`,
        '-i',
        `(0008,0050)=BENCH${size}${c}`,
        '-i',
        '(0018,0015)=CHEST',
        file,
      ]);
      if (r.code !== 0) throw new Error(`dcmodify: ${r.output}`);
      files.push(file);
    }
  }
  return files;
}

async function main(): Promise<void> {
  const stack = await getTestStack();
  const kafka = createTestKafka(stack);
  const work = await mkdtemp(path.join(tmpdir(), 'fh-bench-dicom-'));
  const topic = uniqueTopicName('bench.dicom.arrived');
  let s3: TestS3Server | undefined;
  try {
    const files = await makeRadiographs(work);
    const sizes = await Promise.all(files.map(async (f) => (await readFile(f)).length));
    const totalMB = sizes.reduce((a, b) => a + b, 0) / 1e6;

    // ceiling: the same bytes written durably, one after the other
    const t0 = performance.now();
    for (const [i, f] of files.entries())
      await writeFileDurably(path.join(work, 'ceiling', `${i}.dcm`), await readFile(f));
    const ceilingSeconds = (performance.now() - t0) / 1000;

    await registerEventSchemas(createSchemaRegistry({ url: stack.schemaRegistryUrl }), {
      DicomArrived: topic,
    });
    const [dicomPort, httpPort] = (await freePorts(2)) as [number, number];
    let store: Record<string, string> = { DICOM_GATEWAY_STORE_URI: path.join(work, 'store') };
    if (values.s3) {
      s3 = new TestS3Server();
      await s3.start();
      await createS3Client(loadS3Settings(s3.env)!).send(new CreateBucketCommand({ Bucket: 'fh-bench' }));
      store = {
        ...s3.env,
        DICOM_GATEWAY_STORE_URI: 's3://fh-bench/gateway',
        DICOM_GATEWAY_SPOOL_DIR: path.join(work, 'spool'),
      };
    }
    const child = spawn(process.execPath, ['bin/harvester.js', 'run', 'dicom-gateway'], {
      env: {
        ...process.env,
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
        DICOM_GATEWAY_TOPIC: topic,
        DICOM_GATEWAY_PORT: String(dicomPort),
        DICOM_GATEWAY_HOST: '127.0.0.1',
        DICOM_GATEWAY_HTTP_PORT: String(httpPort),
        ...store,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    let gatewaySeconds: number;
    let announced: number;
    try {
      await waitForHealthy(httpPort, 'dicom-gateway');
      const t1 = performance.now();
      const sent = await dcmtk('storescu', ['-aec', 'HARVESTER', '127.0.0.1', String(dicomPort), ...files]);
      gatewaySeconds = (performance.now() - t1) / 1000;
      if (sent.code !== 0) throw new Error(`storescu: ${sent.output}`);
      announced = await metricValue(
        httpPort,
        'harvester_dicom_gateway_instances_total{outcome="announced",reason=""}',
      );
    } finally {
      child.kill('SIGTERM');
    }
    if (announced !== files.length) throw new Error(`announced ${announced} of ${files.length}`);
    console.log(
      `DICOM gateway vs disk alone: ${files.length} radiographs, ${(Math.min(...sizes) / 1e6).toFixed(1)}-${(Math.max(...sizes) / 1e6).toFixed(1)} MB, ${totalMB.toFixed(0)} MB in all, ${os.cpus().length} CPUs`,
    );
    console.log('| path | images/s | MB/s |');
    console.log('|---|---|---|');
    console.log(
      `| durable write of the same bytes alone (ceiling) | ${(files.length / ceilingSeconds).toFixed(1)} | ${(totalMB / ceilingSeconds).toFixed(0)} |`,
    );
    console.log(
      `| storescu -> dicom-gateway (${values.s3 ? 'PUT to s3:// on moto' : "stored, fsync'd"}, DicomArrived acknowledged, then success) | ${(files.length / gatewaySeconds).toFixed(1)} | ${(totalMB / gatewaySeconds).toFixed(0)} |`,
    );
  } finally {
    await deleteTopics(kafka, [topic]).catch(() => {});
    await s3?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
