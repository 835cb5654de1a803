import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createImageStorage } from '../../services/shared/storage/image-storage.ts';
import { createS3Client } from '../../services/shared/storage/s3-bucket.ts';
import { loadS3Settings } from '../../services/shared/storage/s3-config.ts';
import { withSearchPath } from '../support/labelling-pipeline.ts';
import {
  deliverDicom,
  freePorts,
  metricValue,
  STORESCU_PROPOSE,
  waitForHealthy,
} from '../support/gateways.ts';
import {
  PARITY_MODEL,
  PseudoLabelerHarness,
  removeCohort,
  reportLabelFor,
  writeTestCohort,
  type TestCohort,
} from '../support/pseudo-labeler.ts';
import { waitForProgress } from '../support/progress.ts';
import { waitFor } from '../support/report-labeler.ts';
import { TestS3Server } from '../support/s3-server.ts';
import { ServiceProcess } from '../support/service-process.ts';

// The image store in S3: `harvester run dicom-gateway` with DICOM_GATEWAY_STORE_URI=s3://bucket/prefix
// receives radiographs from DCMTK's storescu and writes them to an S3-compatible server (moto's,
// started here); `harvester run pseudo-labeler` reads each one by the s3:// URI of its DicomArrived
// and labels it. Both get nothing but the S3_* variables a user sets.

const BUCKET = 'fh-dicom';
const PREFIX = 'gateway';
const s3 = new TestS3Server();
const harness = new PseudoLabelerHarness();
let cohort: TestCohort;
let work: string;
let client: S3Client;
let gateway: ServiceProcess;
let dicomPort: number;
let gatewayHttp: number;

async function objectKeys(): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/` }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

before(async () => {
  await s3.start();
  harness.cleanup.add(() => s3.stop());
  client = createS3Client(loadS3Settings(s3.env)!);
  // the bucket is the operator's (as a volume is): the gateway checks it, never creates it
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await harness.setUp();
  work = await mkdtemp(path.join(tmpdir(), 'fh-dicom-s3-'));
  harness.cleanup.add(() => rm(work, { recursive: true, force: true }));
  cohort = await writeTestCohort(3, 'dicom-gateway-s3', 128);
  harness.cleanup.add(() => removeCohort(cohort));

  let plHttp: number;
  [dicomPort, gatewayHttp, plHttp] = (await freePorts(3)) as [number, number, number];
  const common = {
    KAFKA_BROKERS: harness.stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: harness.stack.schemaRegistryUrl,
    ...s3.env,
  };
  gateway = new ServiceProcess(
    'dicom-gateway',
    {
      ...common,
      DICOM_GATEWAY_TOPIC: harness.dicomTopic,
      DICOM_GATEWAY_STORE_URI: `s3://${BUCKET}/${PREFIX}`,
      DICOM_GATEWAY_SPOOL_DIR: path.join(work, 'spool'),
      DICOM_GATEWAY_PORT: String(dicomPort),
      DICOM_GATEWAY_HOST: '127.0.0.1',
      DICOM_GATEWAY_HTTP_PORT: String(gatewayHttp),
    },
    path.join(work, 'dicom-gateway.log'),
  );
  harness.cleanup.add(() => gateway.close());
  gateway.start();
  const labeler = new ServiceProcess(
    'pseudo-labeler',
    {
      ...common,
      DATABASE_URL: withSearchPath(harness.stack.databaseUrl, harness.db.schema),
      TEACHER_MODEL_PATH: PARITY_MODEL,
      TEACHER_MODEL_VERSION: 'parity-teacher-1',
      TEACHER_EXECUTION_PROVIDERS: 'cpu',
      TRAINING_STORE_URL: harness.trainingStore,
      PSEUDO_LABELER_GROUP_ID: harness.groupId,
      PSEUDO_LABELER_DICOM_TOPIC: harness.dicomTopic,
      PSEUDO_LABELER_LABELS_TOPIC: harness.labelsTopic,
      PSEUDO_LABELER_OUTPUT_TOPIC: harness.output,
      PSEUDO_LABELER_HTTP_PORT: String(plHttp),
      PSEUDO_LABELER_HTTP_HOST: '127.0.0.1',
      PSEUDO_LABELER_RETRY_INITIAL_MS: '200',
      PSEUDO_LABELER_RETRY_MAX_MS: '2000',
    },
    path.join(work, 'pseudo-labeler.log'),
  );
  harness.cleanup.add(() => labeler.close());
  labeler.start();
  await waitForHealthy(gatewayHttp, 'dicom-gateway', 120_000);
  await waitForHealthy(plHttp, 'pseudo-labeler', 120_000);
});

after(() => harness.tearDown());

describe('dicom-gateway storing to s3:// and the pseudo-labeler reading from it', () => {
  it('stores every radiograph sent with storescu in the bucket, and each is labelled from its s3:// URI', async () => {
    const accessions = [...new Set(cohort.images.map((m) => m.accession))];
    await harness.produceLabels(
      accessions.map((a) => reportLabelFor(a, { rib: 'positive', clavicle: 'negative' })),
    );
    for (const m of cohort.images)
      await deliverDicom(
        dicomPort,
        path.join(cohort.dir, m.file),
        STORESCU_PROPOSE[m.transferSyntaxUid] ?? [],
      );

    const progress = async () => ({
      images: await harness.count('SELECT count(*) FROM images'),
      labelled: await harness.count('SELECT count(DISTINCT sop_instance_uid) FROM pseudo_labels'),
    });
    await waitForProgress({
      what: 'every image stored in S3 pseudo-labelled',
      measure: progress,
      done: (c) => c.labelled === cohort.images.length,
    });
    const { rows } = await harness.pool.query<{ sop_instance_uid: string; uri: string }>(
      'SELECT sop_instance_uid, uri FROM images ORDER BY sop_instance_uid',
    );
    assert.equal(rows.length, cohort.images.length);
    for (const row of rows)
      assert.match(row.uri, new RegExp(`^s3://${BUCKET}/${PREFIX}/[0-9.]+/${row.sop_instance_uid}\\.dcm$`));
    assert.deepEqual(harness.deadLetters, [], 'nothing dead-lettered');
    // each pseudo-label is of an image the teacher read from the bucket
    assert.equal(await harness.count("SELECT count(*) FROM pseudo_labels WHERE class = 'rib'"), rows.length);

    const storage = createImageStorage({ maxBytes: 1 << 26, env: s3.env });
    const keys = await objectKeys();
    assert.equal(keys.filter((k) => k.endsWith('.dcm')).length, cohort.images.length);
    assert.equal(keys.filter((k) => k.endsWith('.dcm.announced')).length, cohort.images.length);
    // each object ends with the dataset storescu sent (the gateway writes its own file meta before it)
    for (const m of cohort.images) {
      const sent = await readFile(path.join(cohort.dir, m.file));
      const dataset = sent.subarray(144 + sent.readUInt32LE(140));
      const uri = rows.find((r) => r.sop_instance_uid === m.sopInstanceUid)!.uri;
      const stored = Buffer.from(await storage.read(uri));
      assert.ok(stored.subarray(stored.length - dataset.length).equals(dataset), `${m.file} stored whole`);
    }
  });

  it('the same instance sent again is stored once and announced once', async () => {
    const before = await objectKeys();
    const announcedBefore = await harness.count('SELECT count(*) FROM images');
    const m = cohort.images[0]!;
    await deliverDicom(dicomPort, path.join(cohort.dir, m.file), STORESCU_PROPOSE[m.transferSyntaxUid] ?? []);
    await waitFor(
      'the duplicate counted',
      async () =>
        (await metricValue(
          gatewayHttp,
          'harvester_dicom_gateway_instances_total{outcome="duplicate",reason="already-announced"}',
        )) === 1,
    );
    assert.deepEqual(await objectKeys(), before, 'no object added');
    assert.equal(await harness.count('SELECT count(*) FROM images'), announcedBefore);
    assert.equal(
      await metricValue(
        gatewayHttp,
        'harvester_dicom_gateway_instances_total{outcome="announced",reason=""}',
      ),
      cohort.images.length,
    );
  });

  it('refuses to start when the bucket is missing, saying so (exit 1, nothing received)', async () => {
    const [port, http] = (await freePorts(2)) as [number, number];
    const logFile = path.join(work, 'dicom-gateway-no-bucket.log');
    const broken = new ServiceProcess(
      'dicom-gateway',
      {
        KAFKA_BROKERS: harness.stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: harness.stack.schemaRegistryUrl,
        ...s3.env,
        DICOM_GATEWAY_TOPIC: harness.dicomTopic,
        DICOM_GATEWAY_STORE_URI: 's3://no-such-bucket/gateway',
        DICOM_GATEWAY_SPOOL_DIR: path.join(work, 'spool-no-bucket'),
        DICOM_GATEWAY_PORT: String(port),
        DICOM_GATEWAY_HOST: '127.0.0.1',
        DICOM_GATEWAY_HTTP_PORT: String(http),
      },
      logFile,
    );
    harness.cleanup.add(() => broken.close());
    broken.start();
    await waitFor('the gateway to exit', () => !broken.running, 120_000);
    assert.deepEqual(broken.exits, [1]);
    assert.match(
      await readFile(logFile, 'utf8'),
      /cannot start: image store: bucket no-such-bucket does not exist at http:\/\/127\.0\.0\.1:\d+ \(NoSuchBucket\)/,
    );
  });
});
