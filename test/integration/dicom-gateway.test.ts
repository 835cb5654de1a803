import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { readInstanceHeader } from '../../services/dicom-gateway/instance-header.ts';
import type { DicomArrivedEvent } from '../../services/shared/events/dicom-arrived.ts';
import { createSchemaRegistry, registerEventSchemas } from '../../services/shared/events/registry.ts';
import { dicomToModelInput, parseDicomImage } from '../../services/shared/imaging/index.ts';
import { Cleanup } from '../support/cleanup.ts';
import {
  dcmtk,
  decodeAll,
  freePorts,
  metricValue,
  readTopic,
  STORESCU_PROPOSE,
  TestOrthanc,
  waitForHealthy,
} from '../support/gateways.ts';
import { createTestKafka, deleteTopics } from '../support/kafka.ts';
import { uniqueTopicName } from '../support/names.ts';
import { removeCohort, writeTestCohort, type TestCohort } from '../support/pseudo-labeler.ts';
import { waitFor } from '../support/report-labeler.ts';
import { ServiceProcess } from '../support/service-process.ts';
import { getTestStack, type TestStack } from '../support/stack.ts';

// The DICOM gateway as `harvester run dicom-gateway`, fed by real senders: DCMTK's echoscu and
// storescu (one radiograph in eight transfer syntaxes, made by DCMTK's own converters), and
// Orthanc forwarding a study as a PACS would.

const cleanup = new Cleanup();
const topic = uniqueTopicName('dicom.arrived');
let stack: TestStack;
let kafka: Kafka;
let cohort: TestCohort;
let work: string;
let store: string;
let gateway: ServiceProcess;
let dicomPort: number;
let httpPort: number;
const registry = () => createSchemaRegistry({ url: stack.schemaRegistryUrl });

/** A copy of `file` converted by a DCMTK tool, under a new SOP Instance UID (same study and accession). */
async function variant(source: string, name: string, tool: string, args: string[]): Promise<string> {
  const out = path.join(work, `${name}.dcm`);
  const converted = await dcmtk(tool, [...args, source, out]);
  assert.equal(converted.code, 0, `${tool} ${name}: ${converted.output}`);
  const renamed = await dcmtk('dcmodify', ['-nb', '-gin', out]);
  assert.equal(renamed.code, 0, renamed.output);
  return out;
}

async function storescu(files: string[], extra: string[] = []): Promise<{ code: number; output: string }> {
  return dcmtk('storescu', [
    '-aet',
    'MODALITY',
    '-aec',
    'HARVESTER',
    ...extra,
    '127.0.0.1',
    String(dicomPort),
    ...files,
  ]);
}

const events = async (atLeast: number) =>
  decodeAll<DicomArrivedEvent>(registry(), await readTopic(kafka, topic, atLeast));

before(async () => {
  stack = await getTestStack();
  kafka = createTestKafka(stack);
  cohort = await writeTestCohort(6, 'dicom-gateway-test', 128);
  cleanup.add(() => removeCohort(cohort));
  work = await mkdtemp(path.join(tmpdir(), 'fh-dicom-gw-'));
  store = path.join(work, 'store');
  cleanup.add(() => rm(work, { recursive: true, force: true }));
  await registerEventSchemas(registry(), { DicomArrived: topic });
  cleanup.add(() => deleteTopics(kafka, [topic]));
  [dicomPort, httpPort] = (await freePorts(2)) as [number, number];
  gateway = new ServiceProcess(
    'dicom-gateway',
    {
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      DICOM_GATEWAY_TOPIC: topic,
      DICOM_GATEWAY_STORE_URI: store,
      DICOM_GATEWAY_PORT: String(dicomPort),
      DICOM_GATEWAY_HOST: '127.0.0.1',
      DICOM_GATEWAY_HTTP_PORT: String(httpPort),
      KAFKA_TOPIC_PARTITIONS: '2',
      DICOM_GATEWAY_ALLOWED_CALLING_AE_TITLES: 'MODALITY,ORTHANC',
    },
    path.join(work, 'dicom-gateway.log'),
  );
  cleanup.add(() => gateway.close());
  gateway.start();
  await waitForHealthy(httpPort, 'dicom-gateway');
});

after(() => cleanup.run());

describe('dicom-gateway with DCMTK and Orthanc as senders', () => {
  it('answers C-ECHO, and refuses associations for another AE title or from a calling AE not allowed', async () => {
    const echo = (calling: string, called: string) =>
      dcmtk('echoscu', ['-aet', calling, '-aec', called, '127.0.0.1', String(dicomPort)]);
    assert.equal((await echo('MODALITY', 'HARVESTER')).code, 0);
    const wrongCalled = await echo('MODALITY', 'SOMEONE');
    assert.notEqual(wrongCalled.code, 0);
    assert.match(wrongCalled.output, /Called AE Title Not Recognized/i);
    const intruder = await echo('INTRUDER', 'HARVESTER');
    assert.notEqual(intruder.code, 0);
    assert.match(intruder.output, /Calling AE Title Not Recognized/i);
  });

  let sent: Array<{ name: string; file: string; tsUid: string }> = [];
  let base: string;

  it('stores, announces and acknowledges one radiograph sent by storescu in eight transfer syntaxes', async () => {
    // a 12-bit unsigned image, so that 12-bit JPEG Extended can hold it
    const candidates = await Promise.all(
      cohort.images.map(async (m) => ({
        m,
        header: parseDicomImage(new Uint8Array(await readFile(path.join(cohort.dir, m.file)))).header,
      })),
    );
    const chosen = candidates.find((c) => c.header.bitsStored <= 12 && c.header.pixelRepresentation === 0);
    assert.ok(chosen, 'the cohort holds a 12-bit unsigned image');
    const source = path.join(cohort.dir, chosen.m.file);
    base = path.join(work, 'base.dcm');
    const decompressed =
      chosen.header.transferSyntax.encoding === 'rle' ? ['dcmdrle', []] : ['dcmconv', ['+te']];
    assert.equal(
      (await dcmtk(decompressed[0] as string, [...(decompressed[1] as string[]), source, base])).code,
      0,
    );
    const plan: Array<[name: string, tool: string, args: string[], tsUid: string]> = [
      ['explicit-le', 'dcmconv', ['+te'], '1.2.840.10008.1.2.1'],
      ['implicit-le', 'dcmconv', ['+ti'], '1.2.840.10008.1.2'],
      ['big-endian', 'dcmconv', ['+tb'], '1.2.840.10008.1.2.2'],
      ['deflated', 'dcmconv', ['+td'], '1.2.840.10008.1.2.1.99'],
      ['rle', 'dcmcrle', [], '1.2.840.10008.1.2.5'],
      ['jpeg-lossless', 'dcmcjpeg', ['+e1'], '1.2.840.10008.1.2.4.70'],
      ['jpeg-12bit', 'dcmcjpeg', ['+ee', '+q', '95'], '1.2.840.10008.1.2.4.51'],
      ['jpeg-ls', 'dcmcjpls', ['+el'], '1.2.840.10008.1.2.4.80'],
    ];
    sent = [];
    for (const [name, tool, args, tsUid] of plan)
      sent.push({ name, file: await variant(base, name, tool, args), tsUid });
    for (const s of sent) {
      const result = await storescu([s.file], STORESCU_PROPOSE[s.tsUid]!);
      assert.equal(result.code, 0, `storescu ${s.name}: ${result.output}`);
    }
    const announced = await events(sent.length);
    assert.equal(announced.length, sent.length, 'one DicomArrived per instance');
    const reference = await dicomToModelInput(new Uint8Array(await readFile(base)));
    for (const s of sent) {
      const sop = parseDicomImage(new Uint8Array(await readFile(s.file))).header.sopInstanceUid;
      const event = announced.find((e) => e.sopInstanceUid === sop);
      assert.ok(event, `${s.name} announced`);
      assert.equal(event.transferSyntaxUid, s.tsUid, s.name);
      assert.equal(event.accession, chosen.m.accession);
      assert.equal(event.studyInstanceUid, chosen.m.studyInstanceUid);
      // the announced uri is the stored file, received as sent, readable by the imaging code
      const stored = new Uint8Array(await readFile(fileURLToPath(event.uri)));
      assert.equal(event.sizeBytes, stored.length);
      const input = await dicomToModelInput(stored);
      if (s.name === 'jpeg-12bit') {
        const meanError =
          input.pixels.reduce((sum, v, i) => sum + Math.abs(v - reference.pixels[i]!), 0) /
          input.pixels.length;
        assert.ok(meanError < 0.01, `12-bit JPEG mean error ${meanError}`);
      } else assert.deepEqual(input.pixels, reference.pixels, `${s.name} decodes to the same model input`);
    }
  });

  it('stores the same instances sent again once and announces them once', async () => {
    const sample = (reason: string) =>
      `harvester_dicom_gateway_instances_total{outcome="duplicate",reason="${reason}"}`;
    const before = await metricValue(httpPort, sample('already-announced'));
    for (const s of sent.slice(0, 3)) {
      const result = await storescu([s.file], STORESCU_PROPOSE[s.tsUid]);
      assert.equal(result.code, 0, result.output);
    }
    assert.equal((await metricValue(httpPort, sample('already-announced'))) - before, 3);
    // the implicit VR file again, converted by storescu to explicit VR: other bytes, same instance
    const converted = await storescu([sent[1]!.file]);
    assert.equal(converted.code, 0, converted.output);
    assert.equal(await metricValue(httpPort, sample('already-announced-other-bytes')), 1);
    assert.equal((await events(sent.length)).length, sent.length, 'no second DicomArrived');
  });

  it('stores a structured report and a CT image but does not announce them, counting why', async () => {
    const sr = await variant(base, 'sr', 'dcmconv', ['+te']);
    assert.equal(
      (await dcmtk('dcmodify', ['-nb', '-m', '(0008,0016)=1.2.840.10008.5.1.4.1.1.88.22', sr])).code,
      0,
    );
    const ct = await variant(base, 'ct', 'dcmconv', ['+te']);
    assert.equal((await dcmtk('dcmodify', ['-nb', '-m', '(0008,0060)=CT', ct])).code, 0);
    const result = await storescu([sr, ct]);
    assert.equal(result.code, 0, result.output);
    assert.equal(
      await metricValue(
        httpPort,
        'harvester_dicom_gateway_instances_total{outcome="stored",reason="non-image:structured-report"}',
      ),
      1,
    );
    assert.equal(
      await metricValue(
        httpPort,
        'harvester_dicom_gateway_instances_total{outcome="stored",reason="not-radiograph"}',
      ),
      1,
    );
    for (const f of [sr, ct]) {
      const header = readInstanceHeader(new Uint8Array(await readFile(f)));
      const kept = path.join(store, header.studyInstanceUid!, `${header.sopInstanceUid}.dcm`);
      assert.ok((await stat(kept)).size > 0, 'kept in the store');
    }
    assert.equal((await events(sent.length)).length, sent.length, 'neither was announced');
  });

  it('receives a study Orthanc forwards as a PACS would', async () => {
    const orthanc = new TestOrthanc();
    cleanup.add(() => orthanc.stop());
    await orthanc.start({ harvester: ['HARVESTER', '127.0.0.1', dicomPort] });
    const study = cohort.images
      .filter((m) => m.studyInstanceUid !== cohort.images[0]!.studyInstanceUid)
      .slice(0, 2);
    const ids: string[] = [];
    for (const m of study) {
      const copy = path.join(work, `orthanc-${m.sopInstanceUid}.dcm`);
      await copyFile(path.join(cohort.dir, m.file), copy);
      const uploaded = (await orthanc.rest('POST', '/instances', new Uint8Array(await readFile(copy)))) as {
        ID: string;
      };
      ids.push(uploaded.ID);
    }
    const job = (await orthanc.rest('POST', '/modalities/harvester/store', {
      Resources: ids,
      Synchronous: true,
    })) as {
      Failed?: number;
      FailedInstancesCount?: number;
    };
    assert.equal(job.FailedInstancesCount ?? job.Failed ?? 0, 0);
    const all = await events(sent.length + study.length);
    for (const m of study)
      assert.ok(
        all.some((e) => e.sopInstanceUid === m.sopInstanceUid),
        `${m.sopInstanceUid} announced`,
      );
    await waitFor(
      'gateway still healthy',
      async () => (await fetch(`http://127.0.0.1:${httpPort}/health`)).ok,
    );
  });

  it('logs no patient data', async () => {
    const log = await readFile(path.join(work, 'dicom-gateway.log'), 'utf8');
    assert.ok(log.includes('dicom-gateway started'), 'the log was written');
    for (const m of cohort.images) assert.ok(!log.includes(m.patientId), 'no patient id in the log');
  });
});
