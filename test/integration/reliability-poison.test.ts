import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { DLQ_HEADERS } from '../../services/shared/kafka/dlq.ts';
import { writeDicom } from '../support/dicom-writer.ts';
import { buildOruMessage, FINDINGS, NON_CHEST_PROCEDURE } from '../support/hl7-builder.ts';
import { topicRecordCount } from '../support/labeler-audit.ts';
import {
  dicomArrivedFor,
  PseudoLabelerHarness,
  removeCohort,
  reportLabelFor,
  writeTestCohort,
  type TestCohort,
} from '../support/pseudo-labeler.ts';
import { ReportLabelerHarness, TEST_HMAC_KEY, waitFor } from '../support/report-labeler.ts';
import { ServiceProcess } from '../support/service-process.ts';

// Poison input on the shared stack: each bad record goes to the DLQ (or is skipped) with a reason,
// the consumer goes on with the good ones, and its memory does not grow round after round.

const MB = 1024 * 1024;

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema},public`);
  return u.toString();
}

/** One round of HL7 poison mixed with valid reports; `round` keeps the ids unique. */
function hl7PoisonRound(round: number): Array<{ key: string | null; value: Buffer | null; kind: string }> {
  const valid = (i: number, extra: Partial<Parameters<typeof buildOruMessage>[0]> = {}) =>
    buildOruMessage({
      messageControlId: `PZ-${round}-${i}`,
      accession: `PZ-ACC-${round}-${i}`,
      status: 'F',
      patientId: `MRN-PZ-${round}-${i}`,
      text: FINDINGS.ribPositive,
      ...extra,
    });
  const out: Array<{ key: string | null; value: Buffer | null; kind: string }> = [];
  for (let i = 0; i < 10; i++) out.push({ key: null, value: Buffer.from(valid(i)), kind: 'valid' });
  for (let i = 0; i < 30; i++) {
    out.push({ key: null, value: randomBytes(1 + Math.floor(Math.random() * 4096)), kind: 'random' });
  }
  for (let i = 0; i < 10; i++) {
    const msg = Buffer.from(valid(100 + i));
    out.push({
      key: null,
      value: msg.subarray(0, Math.floor((msg.length * (i + 1)) / 12)),
      kind: 'truncated',
    });
  }
  // other delimiters than MSH-1/2 announce, and segments split by the wrong character
  out.push({ key: null, value: Buffer.from(valid(200).replace('MSH|^~\\&|', 'MSH#^~\\&#')), kind: 'delims' });
  out.push({ key: null, value: Buffer.from(valid(201).replaceAll('|', '#')), kind: 'delims' });
  out.push({ key: null, value: Buffer.from(valid(202).replaceAll('\r', '\t')), kind: 'delims' });
  // encodings: UTF-16 bytes, an unknown MSH-18, bytes that are not UTF-8 where UTF-8 is declared
  out.push({ key: null, value: Buffer.from(valid(300), 'utf16le'), kind: 'encoding' });
  out.push({
    key: null,
    value: Buffer.from(valid(301, { characterSet: 'EBCDIC-KLINGON' })),
    kind: 'encoding',
  });
  out.push({
    key: null,
    value: Buffer.from(
      valid(302, { characterSet: 'UNICODE UTF-8', text: 'Fracture \xe9\xff\xfe rib.' }),
      'latin1',
    ),
    kind: 'encoding',
  });
  // a segment of most of a megabyte (under the message limit), and messages of several megabytes
  out.push({
    key: null,
    value: Buffer.from(valid(400, { text: `FINDINGS: ${'rib fracture '.repeat(70_000)}` })),
    kind: 'huge-segment',
  });
  out.push({
    key: null,
    value: Buffer.from(valid(401, { patientId: 'X'.repeat(3 * MB) })),
    kind: 'oversize',
  });
  out.push({ key: null, value: Buffer.alloc(0), kind: 'empty' });
  out.push({ key: null, value: null, kind: 'tombstone' });
  // a study that is not a chest radiograph
  out.push({
    key: null,
    value: Buffer.from(
      valid(500, { procedureCode: NON_CHEST_PROCEDURE.code, procedureText: NON_CHEST_PROCEDURE.text }),
    ),
    kind: 'not-chest',
  });
  return out;
}

describe('reliability: poison input', { timeout: 600_000 }, () => {
  describe('report-labeler (as a child process)', () => {
    const h = new ReportLabelerHarness();
    let logDir: string;
    let labeler: ServiceProcess;

    before(async () => {
      await h.setUp();
      // let the topic take the multi-megabyte messages, so the consumer's own limit is what is tested
      const admin = h.kafka.admin();
      await admin.connect();
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: kafkajs.ConfigResourceTypes.TOPIC,
            name: h.input,
            configEntries: [{ name: 'max.message.bytes', value: String(8 * MB) }],
          },
        ],
      });
      await admin.disconnect();
      logDir = await mkdtemp(path.join(tmpdir(), 'fh-poison-'));
      labeler = new ServiceProcess(
        'report-labeler',
        {
          KAFKA_BROKERS: h.stack.kafkaBrokers.join(','),
          SCHEMA_REGISTRY_URL: h.stack.schemaRegistryUrl,
          DATABASE_URL: withSearchPath(h.stack.databaseUrl, h.db.schema),
          PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
          REPORT_LABELER_GROUP_ID: h.groupId,
          REPORT_LABELER_INPUT_TOPIC: h.input,
          REPORT_LABELER_OUTPUT_TOPIC: h.output,
          REPORT_LABELER_HTTP_PORT: '0',
          LOG_LEVEL: 'info',
        },
        path.join(logDir, 'report-labeler.log'),
      );
    });
    after(async () => {
      await labeler.close();
      await h.tearDown();
      await rm(logDir, { recursive: true, force: true });
    });

    it('dead-letters or skips every bad message with a reason, keeps going, and stays within memory', async () => {
      labeler.start();
      const rss: number[] = [];
      const rounds = 3;
      for (let round = 0; round < rounds; round++) {
        const producer = h.kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
        await producer.connect();
        for (const m of hl7PoisonRound(round)) {
          await producer.send({ topic: h.input, acks: -1, messages: [{ key: m.key, value: m.value }] });
        }
        await producer.disconnect();
        const records = await topicRecordCount(h.kafka, h.input);
        await waitFor(
          `ledger rows for all ${records} records`,
          async () => (await h.ledgerCount()) >= records,
          120_000,
        );
        rss.push(labeler.rss()!);
      }
      const { rows } = await h.pool.query<{ outcome: string; reason: string | null; n: number }>(
        `SELECT outcome, reason, count(*)::int AS n FROM hl7_message_ledger GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      const summary = Object.fromEntries(rows.map((r) => [`${r.outcome}:${r.reason ?? ''}`, r.n]));
      console.log(
        'poison ledger',
        summary,
        'rss MB',
        rss.map((b) => Math.round(b / MB)),
      );
      const per = hl7PoisonRound(0).length;
      assert.equal(await h.ledgerCount(), per * rounds, 'every record has exactly one ledger row');
      const { rows: stored } = await h.pool.query<{ id: string }>(
        `SELECT message_control_id AS id FROM hl7_message_ledger WHERE outcome = 'stored' ORDER BY 1`,
      );
      const storedIds = new Set(stored.map((r) => r.id));
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < 10; i++)
          assert.ok(storedIds.has(`PZ-${round}-${i}`), `valid PZ-${round}-${i} stored`);
      }
      // a consistent other field separator is valid HL7; a cut that still parses cannot be told from
      // a short report (HL7 has no length field: MLLP framing is what protects against truncation)
      const extra = [...storedIds].filter((id) => !/^PZ-\d+-\d$/.test(id));
      console.log('also stored (valid by the standard):', extra);
      for (const id of extra) assert.match(id, /^PZ-\d+-(201|10\d|302|202)$/);
      for (const reason of ['not-hl7', 'oversize', 'report-too-long', 'empty', 'unknown-encoding']) {
        assert.ok(summary[`dlq:${reason}`]! > 0, `some records dead-lettered as ${reason}`);
      }
      assert.equal(summary['skipped:not-chest-radiograph'], rounds, 'the foot radiographs are skipped');
      for (const [key, n] of Object.entries(summary)) {
        if (key.startsWith('dlq:')) assert.ok(key.length > 'dlq:'.length && n > 0, `a reason for ${key}`);
      }
      const dlqCount = rows.filter((r) => r.outcome === 'dlq').reduce((n, r) => n + r.n, 0);
      await waitFor('every dead letter on the DLQ topic', () => h.deadLetters.length >= dlqCount);
      assert.ok(
        h.deadLetters.every((d) => d.headers[DLQ_HEADERS.reason]),
        'every dead letter says why',
      );
      assert.equal(labeler.running, true, 'the consumer is still running');
      assert.deepEqual(labeler.exits, []);
      // memory: after the first round's warm-up, more rounds of the same poison do not add up
      assert.ok(rss[rounds - 1]! - rss[0]! < 96 * MB, `RSS grew from ${rss[0]} to ${rss[rounds - 1]} bytes`);
      assert.ok(rss[rounds - 1]! < 768 * MB, 'RSS stays well under the heap a 3 MB message could inflate');
    });
  });

  describe('pseudo-labeler', () => {
    const h = new PseudoLabelerHarness();
    let cohort: TestCohort;
    before(async () => {
      cohort = await writeTestCohort(2, 'reliability-poison');
      await h.setUp();
    });
    after(async () => {
      await h.tearDown();
      await removeCohort(cohort);
    });

    it('dead-letters truncated and huge DICOM and unknown schema ids, and labels the good image after them', async () => {
      const good = cohort.images[0]!;
      const base = dicomArrivedFor(cohort.dir, good);
      const bytes = await readFile(path.join(cohort.dir, good.file));
      const truncatedFile = path.join(cohort.dir, 'truncated.dcm');
      await writeFile(truncatedFile, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const headerOnlyFile = path.join(cohort.dir, 'header-only.dcm');
      await writeFile(headerOnlyFile, bytes.subarray(0, 200));
      // declares 60000 x 60000 16-bit pixels (7.2 GB) but holds a few bytes
      const hugeFile = path.join(cohort.dir, 'huge.dcm');
      await writeFile(
        hugeFile,
        writeDicom({ rows: 60_000, columns: 60_000, bitsAllocated: 16, pixelBytes: new Uint8Array(64) }),
      );
      const acc = 'ACC-POISON-1';
      const poison = [
        { ...base, sopInstanceUid: '2.25.888001', accession: acc, uri: pathToFileURL(truncatedFile).href },
        { ...base, sopInstanceUid: '2.25.888002', accession: acc, uri: pathToFileURL(headerOnlyFile).href },
        {
          ...base,
          sopInstanceUid: '2.25.888003',
          accession: acc,
          uri: pathToFileURL(hugeFile).href,
          rows: 60_000,
          columns: 60_000,
        },
      ];
      const fine = { ...base, sopInstanceUid: '2.25.888004', accession: acc };
      // a CT of the foot whose study never gets a chest report label
      const notChest = {
        ...base,
        sopInstanceUid: '2.25.888005',
        accession: 'ACC-FOOT-1',
        modality: 'CT',
        bodyPartExamined: 'FOOT',
      };
      const unknownSchema = Buffer.from([0, 0x7f, 0xff, 0xff, 0x01, 2, 3, 4, 5]);
      const rssBefore = process.memoryUsage().rss;
      const service = await h.start();
      await h.send(h.dicomTopic, [{ key: acc, value: unknownSchema }]);
      await h.send(h.labelsTopic, [{ key: acc, value: unknownSchema }]);
      await h.produceImages([...poison, notChest, fine]);
      await h.produceLabels([reportLabelFor(acc, { rib: 'negative', clavicle: 'negative' })]);

      await waitFor('five dead letters', () => h.deadLetters.length >= 5, 120_000);
      await waitFor(
        'the good image labelled after the poison',
        async () =>
          (await h.count(`SELECT count(*) FROM pseudo_labels WHERE sop_instance_uid = '2.25.888004'`)) === 2,
        120_000,
      );
      const reasons = h.deadLetters
        .map(
          (l) => `${l.topic === `${h.dicomTopic}.dlq` ? 'dicom' : 'labels'}:${l.headers[DLQ_HEADERS.reason]}`,
        )
        .sort();
      const { rows } = await h.pool.query<{ sop: string; failed: string | null; labels: number }>(
        `SELECT i.sop_instance_uid AS sop, i.failed_reason AS failed,
                (SELECT count(*)::int FROM pseudo_labels p WHERE p.sop_instance_uid = i.sop_instance_uid) AS labels
         FROM images i WHERE i.sop_instance_uid LIKE '2.25.88800%' ORDER BY 1`,
      );
      console.log('pseudo-labeler poison', reasons, rows);
      assert.equal(reasons.filter((r) => r === 'dicom:unknown-schema').length, 1);
      assert.equal(reasons.filter((r) => r === 'labels:unknown-schema').length, 1);
      assert.equal(reasons.filter((r) => r.startsWith('dicom:') && r !== 'dicom:unknown-schema').length, 3);
      const bySop = Object.fromEntries(rows.map((r) => [r.sop, r]));
      for (const sop of ['2.25.888001', '2.25.888002', '2.25.888003']) {
        assert.ok(bySop[sop]?.failed, `${sop} recorded with its failure reason`);
        assert.equal(bySop[sop]!.labels, 0);
      }
      assert.equal(
        bySop['2.25.888005']?.labels,
        0,
        'the foot CT gets no pseudo-label (no chest report label)',
      );
      assert.equal(bySop['2.25.888004']?.failed, null);
      const growth = process.memoryUsage().rss - rssBefore;
      console.log('pseudo-labeler poison RSS growth MB', Math.round(growth / MB));
      assert.ok(growth < 256 * MB, `no 7 GB allocation for the huge image (RSS grew ${growth} bytes)`);
      await service.stop();
    });
  });
});
