import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { migrateDatabase } from '../../services/shared/db/migrate.ts';
import { createSchemaRegistry, registerEventSchemas } from '../../services/shared/events/registry.ts';
import { splitHl7 } from '../../services/shared/hl7/split.ts';
import { Cleanup } from '../support/cleanup.ts';
import { FaultStack } from '../support/fault-stack.ts';
import {
  deliverDicom,
  deliverHl7,
  freePorts,
  STORESCU_PROPOSE,
  waitForHealthy,
  type Delivery,
} from '../support/gateways.ts';
import { uniqueTopicName } from '../support/names.ts';
import { createTestSchema, type TestSchema } from '../support/postgres.ts';
import { PARITY_MODEL, removeCohort, writeTestCohort, type TestCohort } from '../support/pseudo-labeler.ts';
import { waitForProgress } from '../support/progress.ts';
import { TEST_HMAC_KEY } from '../support/report-labeler.ts';
import { ServiceProcess } from '../support/service-process.ts';

// A hospital in miniature on a stack of its own: the RIS sends reports over MLLP (node-hl7-client),
// the modality sends images with storescu, both through the gateways, while the report-labeler and
// the pseudo-labeler run as `harvester run ...`. Kafka is stopped for 30 s in the middle. Senders do
// what interface engines and modalities do: send again what was not acknowledged. At the end every
// report and image is labelled, and once.

const OUTAGE_MS = 30_000;
const stack = new FaultStack();
const cleanup = new Cleanup();
let cohort: TestCohort;
let db: TestSchema;
const topics = {
  hl7: uniqueTopicName('hl7.oru.raw'),
  dicom: uniqueTopicName('dicom.arrived'),
  labels: uniqueTopicName('labels.report'),
  pseudo: uniqueTopicName('labels.pseudo'),
};
let ports: {
  mllp: number;
  hl7Http: number;
  dicom: number;
  dicomHttp: number;
  rlHttp: number;
  plHttp: number;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema},public`);
  return u.toString();
}

/** Runs `work` over `items` with `concurrency` workers, each pausing `gapMs` between its items. */
async function paced<T>(
  items: T[],
  concurrency: number,
  gapMs: number,
  work: (item: T) => Promise<Delivery>,
): Promise<Delivery[]> {
  const results: Delivery[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        results.push(await work(item));
        await sleep(gapMs);
      }
    }),
  );
  return results;
}

before(async () => {
  await stack.up();
  cleanup.add(() => stack.down());
  const work = await mkdtemp(path.join(tmpdir(), 'fh-e2e-gw-'));
  cleanup.add(() => rm(work, { recursive: true, force: true }));
  cohort = await writeTestCohort(10, 'gateways-end-to-end', 128);
  cleanup.add(() => removeCohort(cohort));
  db = await createTestSchema(stack.stack, 'gateways_e2e');
  db.pool.on('error', () => {});
  cleanup.add(() => db.drop());
  await migrateDatabase({ database: stack.stack.databaseUrl, schema: db.schema });
  await registerEventSchemas(createSchemaRegistry({ url: stack.stack.schemaRegistryUrl }), {
    DicomArrived: topics.dicom,
    ReportLabel: topics.labels,
    PseudoLabelCreated: topics.pseudo,
  });
  // every service and gateway creates the topics it uses: nothing is made here
  const [mllp, hl7Http, dicom, dicomHttp, rlHttp, plHttp] = (await freePorts(6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  ports = { mllp, hl7Http, dicom, dicomHttp, rlHttp, plHttp };
  const common = {
    KAFKA_BROKERS: stack.stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.stack.schemaRegistryUrl,
    PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
  };
  const services: Array<[string, NodeJS.ProcessEnv, number]> = [
    [
      'hl7-gateway',
      {
        ...common,
        HL7_GATEWAY_TOPIC: topics.hl7,
        HL7_GATEWAY_PORT: String(mllp),
        HL7_GATEWAY_HOST: '127.0.0.1',
        HL7_GATEWAY_HTTP_PORT: String(hl7Http),
        HL7_GATEWAY_PUBLISH_TIMEOUT_MS: '5000',
      },
      hl7Http,
    ],
    [
      'dicom-gateway',
      {
        ...common,
        DICOM_GATEWAY_TOPIC: topics.dicom,
        DICOM_GATEWAY_PORT: String(dicom),
        DICOM_GATEWAY_HOST: '127.0.0.1',
        DICOM_GATEWAY_HTTP_PORT: String(dicomHttp),
        DICOM_GATEWAY_STORE_URI: path.join(work, 'store'),
        DICOM_GATEWAY_PUBLISH_TIMEOUT_MS: '5000',
      },
      dicomHttp,
    ],
    [
      'report-labeler',
      {
        ...common,
        DATABASE_URL: withSearchPath(stack.stack.databaseUrl, db.schema),
        REPORT_LABELER_GROUP_ID: uniqueTopicName('report-labeler'),
        REPORT_LABELER_INPUT_TOPIC: topics.hl7,
        REPORT_LABELER_OUTPUT_TOPIC: topics.labels,
        REPORT_LABELER_HTTP_PORT: String(rlHttp),
        REPORT_LABELER_HTTP_HOST: '127.0.0.1',
        REPORT_LABELER_SESSION_TIMEOUT_MS: '6000',
        REPORT_LABELER_RETRY_INITIAL_MS: '200',
        REPORT_LABELER_RETRY_MAX_MS: '2000',
      },
      rlHttp,
    ],
    [
      'pseudo-labeler',
      {
        ...common,
        DATABASE_URL: withSearchPath(stack.stack.databaseUrl, db.schema),
        TEACHER_MODEL_PATH: PARITY_MODEL,
        TRAINING_STORE_URL: path.join(work, 'training-store'),
        TEACHER_MODEL_VERSION: 'parity-teacher-1',
        TEACHER_EXECUTION_PROVIDERS: 'cpu',
        PSEUDO_LABELER_GROUP_ID: uniqueTopicName('pseudo-labeler'),
        PSEUDO_LABELER_DICOM_TOPIC: topics.dicom,
        PSEUDO_LABELER_LABELS_TOPIC: topics.labels,
        PSEUDO_LABELER_OUTPUT_TOPIC: topics.pseudo,
        PSEUDO_LABELER_HTTP_PORT: String(plHttp),
        PSEUDO_LABELER_HTTP_HOST: '127.0.0.1',
        PSEUDO_LABELER_SESSION_TIMEOUT_MS: '6000',
        PSEUDO_LABELER_RETRY_INITIAL_MS: '200',
        PSEUDO_LABELER_RETRY_MAX_MS: '2000',
      },
      plHttp,
    ],
  ];
  for (const [name, env, httpPort] of services) {
    const service = new ServiceProcess(name, env, path.join(work, `${name}.log`));
    cleanup.add(() => service.close());
    service.start();
    await waitForHealthy(httpPort, name, 120_000);
  }
});

after(() => cleanup.run());

describe('report over MLLP + images over C-STORE -> pseudo-labels, with Kafka stopped for 30 s', () => {
  it('labels every report and image once; what was refused or unacknowledged is sent again and labelled', async () => {
    const messages = splitHl7(readFileSync(path.join(cohort.dir, 'reports.hl7'))).messages.map((m) =>
      m.bytes.toString('latin1'),
    );
    const images = cohort.images;
    // about 60 s of sending, with the outage in the middle of it
    const outage = (async () => {
      await sleep(12_000);
      await stack.stop('kafka');
      await sleep(OUTAGE_MS);
      await stack.start('kafka');
    })();
    const [hl7, dicom] = await Promise.all([
      paced(messages, 2, Math.max(200, (60_000 * 2) / messages.length - 300), (text) =>
        deliverHl7(ports.mllp, text),
      ),
      paced(images, 2, Math.max(200, (60_000 * 2) / images.length - 600), (m) =>
        deliverDicom(ports.dicom, path.join(cohort.dir, m.file), STORESCU_PROPOSE[m.transferSyntaxUid] ?? []),
      ),
    ]);
    await outage;
    const retriedHl7 = hl7.filter((d) => d.attempts > 1).length;
    const retriedDicom = dicom.filter((d) => d.attempts > 1).length;
    console.log(
      `sent ${messages.length} HL7 messages (${retriedHl7} needed more than one attempt) and ${images.length} images (${retriedDicom} needed more than one attempt)`,
    );
    assert.ok(retriedHl7 > 0, 'some reports went unacknowledged during the outage and were sent again');
    assert.ok(retriedDicom > 0, 'some images were refused during the outage and were sent again');

    // every image recorded once and pseudo-labelled for every class its final report is certain about
    const expectedLabels = async () => {
      const { rows } = await db.pool.query<{
        images: number;
        missing: number;
        labels: number;
        keys: number;
        reports: number;
      }>(
        `SELECT (SELECT count(*)::int FROM images) AS images,
                (SELECT count(*)::int FROM images i JOIN study_record_labels s USING (accession)
                   CROSS JOIN LATERAL (VALUES ('rib', s.rib_status), ('clavicle', s.clavicle_status)) AS c(class, status)
                  WHERE c.status <> 'uncertain' AND s.report_status <> 'P'
                    AND NOT EXISTS (SELECT 1 FROM pseudo_labels p WHERE p.sop_instance_uid = i.sop_instance_uid AND p.class = c.class)) AS missing,
                (SELECT count(*)::int FROM pseudo_labels) AS labels,
                (SELECT count(DISTINCT (sop_instance_uid, class, model_version))::int FROM pseudo_labels) AS keys,
                (SELECT count(DISTINCT (sending_facility, message_control_id))::int FROM report_versions) AS reports`,
      );
      return rows[0]!;
    };
    // as long as labels keep arriving (progress.ts): a busy machine only makes this slower
    await waitForProgress({
      what: 'every image and report labelled',
      measure: expectedLabels,
      done: (c) =>
        c.images === images.length && c.missing === 0 && c.reports === messages.length && c.labels > 0,
    });
    const c = await expectedLabels();
    console.log(`images ${c.images}, pseudo-labels ${c.labels}, report versions ${c.reports}`);
    assert.equal(c.images, images.length, 'every image recorded once');
    assert.equal(c.labels, c.keys, 'no image labelled twice for a class and model');
    assert.equal(c.reports, messages.length, 'every report stored');
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT DISTINCT accession FROM images) a
        WHERE NOT EXISTS (SELECT 1 FROM study_record_labels s WHERE s.accession = a.accession)`,
    );
    assert.equal(rows[0]!.n, 0, 'every study has its report labels');
  });
});
