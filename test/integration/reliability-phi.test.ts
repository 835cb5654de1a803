import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { pseudonymisePatientId } from '../../services/shared/privacy/pseudonymise.ts';
import { Cleanup } from '../support/cleanup.ts';
import { buildOruMessage } from '../support/hl7-builder.ts';
import { createTestKafka, createTestProducer } from '../support/kafka.ts';
import { uniqueTopicName } from '../support/names.ts';
import { prepareLabellingPipeline, withSearchPath } from '../support/labelling-pipeline.ts';
import type { TestSchema } from '../support/postgres.ts';
import { PARITY_MODEL, removeCohort, writeTestCohort, type TestCohort } from '../support/pseudo-labeler.ts';
import { TEST_HMAC_KEY, waitFor } from '../support/report-labeler.ts';
import { ServiceProcess } from '../support/service-process.ts';
import { getTestStack, type TestStack } from '../support/stack.ts';

// PHI: a full run (feed a synthetic cohort; report-labeler and pseudo-labeler as processes, logging
// at debug) leaves no patient identifier, name or birth date in any log; the database holds keyed
// HMACs; the analytics role cannot read identifying columns; SQL metacharacters are stored as sent.

const execFileAsync = promisify(execFile);

interface Patient {
  id: string;
  family: string;
  given: string;
  birthDate: string;
}

/** The patients of a cohort, from the PID segments of its HL7 file (PID-3.1, PID-5, PID-7). */
function patientsOf(cohortDir: string): Patient[] {
  const text = readFileSync(path.join(cohortDir, 'reports.hl7'), 'utf8');
  const byId = new Map<string, Patient>();
  for (const seg of text.split(/[\r\n]+/)) {
    if (!seg.startsWith('PID|')) continue;
    const f = seg.split('|');
    const [family = '', given = ''] = (f[5] ?? '').split('^');
    const id = (f[3] ?? '').split('^')[0]!;
    byId.set(id, { id, family, given, birthDate: f[7] ?? '' });
  }
  return [...byId.values()];
}

describe('reliability: PHI', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  const hl7Topic = uniqueTopicName('hl7.oru.raw');
  const labelsTopic = uniqueTopicName('labels.report');
  const dicomTopic = uniqueTopicName('dicom.arrived');
  const pseudoTopic = uniqueTopicName('labels.pseudo');
  let stack: TestStack;
  let kafka: Kafka;
  let db: TestSchema;
  let cohort: TestCohort;
  let logDir: string;
  let patients: Patient[];
  const logs: string[] = [];

  before(async () => {
    stack = await getTestStack();
    kafka = createTestKafka(stack);
    cohort = await writeTestCohort(24, 'reliability-phi');
    cleanup.add(() => removeCohort(cohort));
    patients = patientsOf(cohort.dir);
    logDir = await mkdtemp(path.join(tmpdir(), 'fh-phi-logs-'));
    cleanup.add(() => rm(logDir, { recursive: true, force: true }));
    db = await prepareLabellingPipeline(stack, kafka, cleanup, 'phi', {
      hl7: hl7Topic,
      labels: labelsTopic,
      dicom: dicomTopic,
      pseudo: pseudoTopic,
    });
  });
  after(() => cleanup.run());

  it('a full run logs no patient identifier, name or birth date (report-labeler and pseudo-labeler at debug)', async () => {
    assert.ok(patients.length >= 10, 'the cohort has patients to look for');
    const common = {
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      DATABASE_URL: withSearchPath(stack.databaseUrl, db.schema),
      LOG_LEVEL: 'debug',
    };
    const reportLabeler = new ServiceProcess(
      'report-labeler',
      {
        ...common,
        PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
        REPORT_LABELER_GROUP_ID: uniqueTopicName('rl'),
        REPORT_LABELER_INPUT_TOPIC: hl7Topic,
        REPORT_LABELER_OUTPUT_TOPIC: labelsTopic,
        REPORT_LABELER_HTTP_PORT: '0',
      },
      path.join(logDir, 'report-labeler.log'),
    );
    const pseudoLabeler = new ServiceProcess(
      'pseudo-labeler',
      {
        ...common,
        TEACHER_MODEL_PATH: PARITY_MODEL,
        TRAINING_STORE_URL: path.join(logDir, 'training-store'),
        TEACHER_MODEL_VERSION: 'parity-teacher-1',
        TEACHER_EXECUTION_PROVIDERS: 'cpu',
        PSEUDO_LABELER_GROUP_ID: uniqueTopicName('pl'),
        PSEUDO_LABELER_DICOM_TOPIC: dicomTopic,
        PSEUDO_LABELER_LABELS_TOPIC: labelsTopic,
        PSEUDO_LABELER_OUTPUT_TOPIC: pseudoTopic,
        PSEUDO_LABELER_HTTP_PORT: '0',
      },
      path.join(logDir, 'pseudo-labeler.log'),
    );
    cleanup.add(() => reportLabeler.close());
    cleanup.add(() => pseudoLabeler.close());
    // dead letters carrying PHI: logged as reason and position only
    const p0 = patients[0]!;
    const producer = createTestProducer(kafka);
    await producer.connect();
    await producer.send({
      topic: hl7Topic,
      acks: -1,
      messages: [
        {
          key: null,
          value: buildOruMessage({
            messageControlId: 'PHI-1',
            accession: '',
            status: 'F',
            patientId: p0.id,
            text: p0.family,
          }),
        },
        { key: null, value: `patient ${p0.family}^${p0.given} id ${p0.id} born ${p0.birthDate}` },
      ],
    });
    await producer.disconnect();
    reportLabeler.start();
    pseudoLabeler.start();
    // the hospital side: the whole cohort through `harvester feed`, with duplicates and late images
    const feed = await execFileAsync(
      process.execPath,
      [
        'bin/harvester.js',
        'feed',
        '--dir',
        cohort.dir,
        '--hl7-topic',
        hl7Topic,
        '--dicom-topic',
        dicomTopic,
        '--no-progress',
        '--duplicate-rate',
        '0.1',
      ],
      { env: { ...process.env, ...common }, maxBuffer: 16 * 1024 * 1024 },
    );
    logs.push(feed.stdout, feed.stderr);
    await waitFor(
      'every image recorded and some pseudo-labels',
      async () => {
        const { rows } = await db.pool.query<{ images: number; labels: number }>(
          `SELECT (SELECT count(DISTINCT sop_instance_uid)::int FROM images) AS images,
                  (SELECT count(*)::int FROM pseudo_labels) AS labels`,
        );
        return rows[0]!.images === cohort.images.length && rows[0]!.labels > 0;
      },
      180_000,
    );
    await reportLabeler.close();
    await pseudoLabeler.close();
    logs.push(readFileSync(reportLabeler.logFile, 'utf8'), readFileSync(pseudoLabeler.logFile, 'utf8'));
    const all = logs.join('\n');
    const serviceLines = logs.slice(-2).map((l) => l.split('\n').filter(Boolean).length);
    assert.ok(
      serviceLines.every((n) => n >= 3),
      `both services logged (${serviceLines.join(', ')} lines)`,
    );
    assert.match(all, /message sent to DLQ/, 'the poison messages were logged (without their content)');
    const leaks: string[] = [];
    for (const p of patients) {
      for (const value of [p.id, `${p.family}^${p.given}`, p.birthDate]) {
        if (value && all.includes(value)) leaks.push(value);
      }
      // names as words (case-insensitive): a log line naming the patient in any form
      for (const name of [p.family, p.given]) {
        if (name.length >= 3 && new RegExp(`\\b${name}\\b`, 'i').test(all)) leaks.push(name);
      }
    }
    assert.deepEqual(leaks, [], 'no PHI in the logs');
  });

  it('stores patient ids only as keyed HMACs (recomputed here), never raw', async () => {
    const { rows } = await db.pool.query<{ accession: string; patient_pseudonym: string }>(
      'SELECT accession, patient_pseudonym FROM reports',
    );
    assert.ok(rows.length >= 10);
    const byAccession = new Map(cohort.images.map((m) => [m.accession, m.patientId]));
    for (const r of rows) {
      const patientId = byAccession.get(r.accession);
      assert.ok(patientId, `report ${r.accession} belongs to the cohort`);
      assert.equal(r.patient_pseudonym, pseudonymisePatientId(patientId, TEST_HMAC_KEY));
    }
    // nowhere in the schema: no text column of any table holds a raw patient id or name
    const { rows: columns } = await db.pool.query<{ table_name: string; column_name: string }>(
      `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t USING (table_schema, table_name)
       WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE' AND c.data_type IN ('text', 'character varying', 'jsonb')`,
      [db.schema],
    );
    const needles = patients.flatMap((p) => [p.id, p.family]);
    for (const { table_name, column_name } of columns) {
      const { rows: hits } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${table_name}" WHERE "${column_name}"::text ILIKE ANY ($1)`,
        [needles.map((n) => `%${n}%`)],
      );
      assert.equal(hits[0]!.n, 0, `${table_name}.${column_name} holds no raw patient id or name`);
    }
  });

  it('the analytics role cannot read identifying columns (permission denied), only de-identified views', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL ROLE harvester_analytics');
      for (const sql of [
        'SELECT patient_pseudonym FROM reports',
        'SELECT report_text FROM report_versions',
        'SELECT accession FROM reports',
        'SELECT * FROM hl7_message_ledger',
        'SELECT uri FROM images',
      ]) {
        await client.query('SAVEPOINT s');
        await assert.rejects(client.query(sql), (err: Error & { code?: string }) => {
          assert.equal(err.code, '42501', `${sql}: ${err.message}`);
          return true;
        });
        await client.query('ROLLBACK TO SAVEPOINT s');
      }
      const { rows } = await client.query('SELECT * FROM report_labels_deid LIMIT 5');
      assert.ok(rows.length > 0, 'the de-identified view is readable');
      for (const row of rows) {
        for (const key of Object.keys(row)) assert.doesNotMatch(key, /patient|accession|text|uri/);
      }
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('stores report text with SQL metacharacters verbatim', async () => {
    const texts = [
      `FINDINGS: '); DROP TABLE reports;-- no fracture.`,
      `IMPRESSION: O'Brien's "quoted" rib; \\ backslash; $1 $$ dollar; %_ like; /* comment */ -- end`,
      `FINDINGS: Robert'); DELETE FROM report_labels WHERE ('1'='1`,
    ];
    const producer = createTestProducer(kafka);
    await producer.connect();
    await producer.send({
      topic: hl7Topic,
      acks: -1,
      messages: texts.map((text, i) => ({
        key: null,
        value: buildOruMessage({
          messageControlId: `SQL-${i}`,
          accession: `ACC'SQL;${i}--`,
          status: 'F',
          patientId: `MRN';DROP TABLE images;--${i}`,
          text,
        }),
      })),
    });
    await producer.disconnect();
    const labeler = new ServiceProcess(
      'report-labeler',
      {
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
        DATABASE_URL: withSearchPath(stack.databaseUrl, db.schema),
        PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
        REPORT_LABELER_GROUP_ID: uniqueTopicName('rl-sql'),
        REPORT_LABELER_INPUT_TOPIC: hl7Topic,
        REPORT_LABELER_OUTPUT_TOPIC: labelsTopic,
        REPORT_LABELER_HTTP_PORT: '0',
      },
      path.join(logDir, 'report-labeler-sql.log'),
    );
    cleanup.add(() => labeler.close());
    labeler.start();
    await waitFor(
      'the three reports',
      async () =>
        (await db.pool.query(`SELECT 1 FROM reports WHERE accession LIKE 'ACC''SQL;%'`)).rowCount === 3,
      120_000,
    );
    await labeler.close();
    for (let i = 0; i < texts.length; i++) {
      const { rows } = await db.pool.query<{ report_text: string; patient_pseudonym: string }>(
        'SELECT report_text, patient_pseudonym FROM reports WHERE accession = $1',
        [`ACC'SQL;${i}--`],
      );
      assert.equal(rows[0]!.report_text, texts[i], 'text stored exactly as sent');
      assert.equal(
        rows[0]!.patient_pseudonym,
        pseudonymisePatientId(`MRN';DROP TABLE images;--${i}`, TEST_HMAC_KEY),
      );
    }
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('reports', 'images', 'report_labels')`,
      [db.schema],
    );
    assert.equal(rows[0]!.n, 3, 'every table is still there');
  });
});
