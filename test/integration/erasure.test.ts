import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { ERASED_TABLES, type ErasureSummary } from '../../services/shared/privacy/erasure.ts';
import { pseudonymisePatientId } from '../../services/shared/privacy/pseudonymise.ts';
import { findStoredInputs } from '../../services/shared/training-store/training-store-index.ts';
import { openTrainingStore, sha256Hex } from '../../services/shared/training-store/training-store.ts';
import { Cleanup } from '../support/cleanup.ts';
import { freePorts, metricValue, waitForHealthy } from '../support/gateways.ts';
import { createTestKafka, groupLag } from '../support/kafka.ts';
import { uniqueTopicName } from '../support/names.ts';
import { prepareLabellingPipeline, withSearchPath } from '../support/labelling-pipeline.ts';
import type { TestSchema } from '../support/postgres.ts';
import { PARITY_MODEL, removeCohort, writeTestCohort, type TestCohort } from '../support/pseudo-labeler.ts';
import { TEST_HMAC_KEY, waitFor } from '../support/report-labeler.ts';
import { ServiceProcess } from '../support/service-process.ts';
import { getTestStack, type TestStack } from '../support/stack.ts';

// Erasure on request: a synthetic hospital fed through both services (as processes), then
// `harvester forget` by patient id and by accession; exact row counts per table, the training
// store's shards rewritten without the patients' inputs, the models that trained on them listed,
// and the same messages fed again are dropped with a counted reason.

const execFileAsync = promisify(execFile);

/** Each HL7 message of the cohort's reports.hl7: MSH-10 and PID-3.1. */
function messagesOf(cohortDir: string): Array<{ controlId: string; patientId: string }> {
  const out: Array<{ controlId: string; patientId: string }> = [];
  let controlId = '';
  for (const seg of readFileSync(path.join(cohortDir, 'reports.hl7'), 'utf8').split(/[\r\n]+/)) {
    const f = seg.split('|');
    if (seg.startsWith('MSH|')) controlId = f[9] ?? '';
    if (seg.startsWith('PID|')) out.push({ controlId, patientId: (f[3] ?? '').split('^')[0]! });
  }
  return out;
}

/** Every shard file under the store, relative to its root. */
function shardFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.u8')) out.push(path.relative(root, full));
    }
  };
  walk(root);
  return out.sort();
}

/** Every table an erasure deletes from (the command's own list; each is checked below). */
const TABLES = ERASED_TABLES;

describe('erasure on request (harvester forget)', { timeout: 900_000 }, () => {
  const cleanup = new Cleanup();
  const hl7Topic = uniqueTopicName('hl7.oru.raw');
  const labelsTopic = uniqueTopicName('labels.report');
  const dicomTopic = uniqueTopicName('dicom.arrived');
  const pseudoTopic = uniqueTopicName('labels.pseudo');
  const rlGroup = uniqueTopicName('rl');
  const plGroup = uniqueTopicName('pl');
  let stack: TestStack;
  let kafka: Kafka;
  let db: TestSchema;
  let cohort: TestCohort;
  let dir: string;
  let storeDir: string;
  let env: Record<string, string>;
  let byPatient: Map<string, string[]>;
  // the two erased patients: A by patient id, B through one of its accessions
  let patientA: string;
  let patientB: string;
  const summaries: ErasureSummary[] = [];
  const counted: Record<string, Record<string, number>> = {};
  let shardChecksums: Set<string>;
  let jobId: number;

  const count = async (sql: string, params: unknown[] = []) =>
    (await db.pool.query<{ n: number }>(`SELECT (${sql})::int AS n`, params)).rows[0]!.n;

  /** Rows per table that belong to the patient (by pseudonym, accessions, and their images). */
  async function rowsOf(patientId: string): Promise<Record<string, number>> {
    const pseudonym = pseudonymisePatientId(patientId, TEST_HMAC_KEY);
    const accessions = cohort.images.filter((m) => m.patientId === patientId).map((m) => m.accession);
    const sops = cohort.images.filter((m) => m.patientId === patientId).map((m) => m.sopInstanceUid);
    const bySop = 'sop_instance_uid = ANY($1::text[])';
    const out: Record<string, number> = {};
    for (const table of TABLES) {
      if (table === 'study_record_labels') {
        out[table] = await count(`SELECT count(*) FROM ${table} WHERE accession = ANY($1::text[])`, [
          accessions,
        ]);
      } else if (table === 'reports' || table === 'report_versions') {
        out[table] = await count(`SELECT count(*) FROM ${table} WHERE patient_pseudonym = $1`, [pseudonym]);
      } else if (table === 'report_labels') {
        out[table] = await count(
          'SELECT count(*) FROM report_labels WHERE report_id IN (SELECT id FROM reports WHERE patient_pseudonym = $1)',
          [pseudonym],
        );
      } else {
        out[table] = await count(`SELECT count(*) FROM ${table} WHERE ${bySop}`, [sops]);
      }
    }
    return out;
  }

  async function totals(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of TABLES) out[table] = await count(`SELECT count(*) FROM ${table}`);
    return out;
  }

  function services(ports: { rl: number; pl: number }, round: number) {
    const reportLabeler = new ServiceProcess(
      'report-labeler',
      { ...env, REPORT_LABELER_GROUP_ID: rlGroup, REPORT_LABELER_HTTP_PORT: String(ports.rl) },
      path.join(dir, `report-labeler-${round}.log`),
    );
    const pseudoLabeler = new ServiceProcess(
      'pseudo-labeler',
      {
        ...env,
        TEACHER_MODEL_PATH: PARITY_MODEL,
        TEACHER_MODEL_VERSION: 'parity-teacher-1',
        TEACHER_EXECUTION_PROVIDERS: 'cpu',
        PSEUDO_LABELER_GROUP_ID: plGroup,
        PSEUDO_LABELER_HTTP_PORT: String(ports.pl),
      },
      path.join(dir, `pseudo-labeler-${round}.log`),
    );
    cleanup.add(() => reportLabeler.close());
    cleanup.add(() => pseudoLabeler.close());
    return { reportLabeler, pseudoLabeler };
  }

  async function waitUntilConsumed(): Promise<void> {
    await waitFor(
      'both services committed every record fed',
      async () =>
        (await groupLag(kafka, rlGroup, [hl7Topic])) === 0 &&
        (await groupLag(kafka, plGroup, [dicomTopic, labelsTopic])) === 0,
      300_000,
    );
  }

  async function feed(): Promise<void> {
    await execFileAsync(
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
        // each message once, so every count below is exact
        '--duplicate-rate',
        '0',
      ],
      { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
    );
  }

  async function forget(args: string[]): Promise<ErasureSummary> {
    const { stdout } = await execFileAsync(process.execPath, ['bin/harvester.js', 'forget', ...args], {
      env: { ...process.env, ...env },
    });
    return JSON.parse(stdout) as ErasureSummary;
  }

  before(async () => {
    stack = await getTestStack();
    kafka = createTestKafka(stack);
    cohort = await writeTestCohort(8, 'erasure');
    cleanup.add(() => removeCohort(cohort));
    dir = await mkdtemp(path.join(tmpdir(), 'fh-erasure-'));
    cleanup.add(() =>
      process.env.FH_KEEP_TEST_LOGS ? undefined : rm(dir, { recursive: true, force: true }),
    );
    storeDir = path.join(dir, 'training-store');
    db = await prepareLabellingPipeline(stack, kafka, cleanup, 'erasure', {
      hl7: hl7Topic,
      labels: labelsTopic,
      dicom: dicomTopic,
      pseudo: pseudoTopic,
    });
    env = {
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      DATABASE_URL: withSearchPath(stack.databaseUrl, db.schema),
      PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
      TRAINING_STORE_URL: storeDir,
      REPORT_LABELER_INPUT_TOPIC: hl7Topic,
      REPORT_LABELER_OUTPUT_TOPIC: labelsTopic,
      PSEUDO_LABELER_DICOM_TOPIC: dicomTopic,
      PSEUDO_LABELER_LABELS_TOPIC: labelsTopic,
      PSEUDO_LABELER_OUTPUT_TOPIC: pseudoTopic,
    };
    byPatient = new Map();
    for (const m of cohort.images)
      byPatient.set(m.patientId, [...(byPatient.get(m.patientId) ?? []), m.accession]);
  });
  after(() => cleanup.run());

  it('feeds a hospital through both services, then erases one patient by id and one by accession', async () => {
    const [rlPort, plPort] = (await freePorts(2)) as [number, number];
    const first = services({ rl: rlPort, pl: plPort }, 1);
    first.reportLabeler.start();
    first.pseudoLabeler.start();
    await waitForHealthy(rlPort, 'report-labeler');
    await waitForHealthy(plPort, 'pseudo-labeler');
    await feed();
    const messages = messagesOf(cohort.dir);
    // done when every message is ledgered, every image recorded, and every image whose study has a
    // usable label has its pseudo-labels
    await waitFor(
      'every message ledgered and every labellable image labelled',
      async () =>
        (await count('SELECT count(*) FROM hl7_message_ledger')) === messages.length &&
        (await count('SELECT count(*) FROM images')) === cohort.images.length &&
        (await count(
          `SELECT count(*) FROM images i JOIN study_record_labels s USING (accession)
           WHERE (s.rib_status <> 'uncertain' OR s.clavicle_status <> 'uncertain') AND i.failed_reason IS NULL
             AND NOT EXISTS (SELECT 1 FROM pseudo_labels p WHERE p.sop_instance_uid = i.sop_instance_uid)`,
        )) === 0 &&
        (await count('SELECT count(*) FROM pseudo_labels')) > 0,
      300_000,
    );
    // every record committed, so the next run of the same groups reads only what is fed next
    await waitUntilConsumed();
    await first.reportLabeler.close();
    await first.pseudoLabeler.close();

    // two patients whose images were labelled and stored as training inputs
    const labelled = new Set(
      (
        await db.pool.query<{ accession: string }>(
          'SELECT DISTINCT i.accession FROM images i JOIN training_inputs t USING (sop_instance_uid)',
        )
      ).rows.map((r) => r.accession),
    );
    const candidates = [...byPatient].filter(([, accs]) => accs.some((a) => labelled.has(a))).map(([p]) => p);
    assert.ok(candidates.length >= 3, `patients with stored inputs: ${candidates.length}`);
    [patientA, patientB] = candidates as [string, string];
    for (const p of [patientA, patientB]) counted[p] = await rowsOf(p);
    counted.total = await totals();

    // what the distiller records (distiller/snapshot.py): a model and a job whose snapshot read every
    // shard with the parity teacher's labels (they saw A and B), a model of another teacher's labels
    // (same shards, not those labels), and a model trained from a prepared folder (no snapshot)
    const { rows: shardRows } = await db.pool.query<{ path: string; preprocessing_version: string }>(
      'SELECT path, preprocessing_version FROM training_shards ORDER BY path',
    );
    const snapshot = (teacher: string) =>
      JSON.stringify({
        source: 'database',
        teacherVersion: teacher,
        watermark: new Date().toISOString(),
        preprocessingVersion: shardRows[0]!.preprocessing_version,
        shards: { count: shardRows.length, paths: shardRows.map((r) => r.path) },
      });
    await db.pool.query(
      `INSERT INTO model_versions (version, training_snapshot) VALUES
         ('student-saw-it', $1::jsonb), ('student-other-teacher', $2::jsonb), ('student-from-folder', NULL)`,
      [snapshot('parity-teacher-1'), snapshot('another-teacher')],
    );
    jobId = (
      await db.pool.query<{ id: number }>(
        `INSERT INTO distill_jobs (status, label_watermark, finished_at, base_model_version, snapshot)
         VALUES ('succeeded', now(), now(), 'parity-teacher-1', $1::jsonb) RETURNING id::int`,
        [snapshot('parity-teacher-1')],
      )
    ).rows[0]!.id;
    shardChecksums = new Set(
      (
        await db.pool.query<{ c: string }>(
          `SELECT checksum_sha256 AS c FROM training_inputs t JOIN images i USING (sop_instance_uid)
           WHERE i.accession = ANY($1::text[])`,
          [[...byPatient.get(patientA)!, ...byPatient.get(patientB)!]],
        )
      ).rows.map((r) => r.c),
    );
    assert.ok(shardChecksums.size > 0);

    summaries.push(await forget(['--patient-id', patientA]));
    summaries.push(await forget(['--accession', byPatient.get(patientB)![0]!]));
  });

  it('deletes exactly the patient rows, per table, and nothing of anyone else', async (t) => {
    const [a, b] = summaries as [ErasureSummary, ErasureSummary];
    t.diagnostic(`erasures: ${JSON.stringify(summaries)}`);
    assert.equal(a.selector, 'patient-id');
    assert.equal(b.selector, 'accession');
    assert.deepEqual(a.rowsDeleted, counted[patientA]);
    assert.deepEqual(b.rowsDeleted, counted[patientB]);
    // the cohort's own figures: every image of each patient, one report per accession, 3 labels each
    for (const [p, s] of [
      [patientA, a],
      [patientB, b],
    ] as const) {
      const accessions = new Set(byPatient.get(p));
      assert.equal(s.rowsDeleted.images, byPatient.get(p)!.length);
      assert.equal(s.rowsDeleted.reports, accessions.size);
      assert.equal(s.rowsDeleted.report_labels, 3 * accessions.size);
      assert.ok(s.rowsDeleted.pseudo_labels! > 0 && s.rowsDeleted.training_inputs! > 0);
      assert.equal(s.trainingInputsErased, s.rowsDeleted.training_inputs);
      assert.deepEqual(await rowsOf(p), Object.fromEntries(TABLES.map((t) => [t, 0])));
    }
    const now = await totals();
    for (const table of TABLES) {
      assert.equal(
        now[table],
        counted.total![table]! - a.rowsDeleted[table]! - b.rowsDeleted[table]!,
        `${table}: only the two patients' rows went`,
      );
    }
  });

  it('rewrites the shards without their inputs; every other input still reads back with its checksum', async () => {
    const files = shardFiles(storeDir);
    const { rows: shards } = await db.pool.query<{ path: string; height: number; width: number }>(
      'SELECT path, height, width FROM training_shards ORDER BY path',
    );
    assert.deepEqual(
      files,
      shards.map((s) => s.path),
      'one file per indexed shard: the old files are gone',
    );
    for (const s of shards) {
      const bytes = readFileSync(path.join(storeDir, s.path));
      const plane = s.height * s.width;
      for (let off = 0; off < bytes.length; off += plane) {
        assert.ok(
          !shardChecksums.has(sha256Hex(bytes.subarray(off, off + plane))),
          `${s.path} holds no erased input`,
        );
      }
    }
    const { rows } = await db.pool.query<{ sop_instance_uid: string; preprocessing_version: string }>(
      'SELECT sop_instance_uid, preprocessing_version FROM training_inputs',
    );
    assert.equal(
      rows.length,
      counted.total!.training_inputs! -
        summaries[0]!.trainingInputsErased -
        summaries[1]!.trainingInputsErased,
    );
    const store = openTrainingStore(storeDir);
    const refs = await findStoredInputs(
      db.pool,
      rows.map((r) => r.sop_instance_uid),
      rows[0]!.preprocessing_version,
    );
    assert.equal(refs.size, rows.length);
    for (const ref of refs.values()) await store.read(ref); // throws on a wrong checksum
    const rewrites = summaries.reduce((n, s) => n + s.shardsRewritten + s.shardsRemoved, 0);
    assert.equal(
      summaries.reduce((n, s) => n + s.filesDeleted, 0),
      rewrites,
    );
  });

  it('records each erasure with counts and the models trained on the data, never whose data it was', async () => {
    for (const s of summaries) {
      assert.deepEqual(s.modelsTrainedOnData, ['student-saw-it']);
      assert.deepEqual(s.jobsTrainedOnData, [jobId]);
      assert.ok(s.modelsWithUnknownData.includes('student-from-folder'));
      assert.ok(!s.modelsWithUnknownData.includes('student-other-teacher'));
    }
    const { rows } = await db.pool.query<{ row: string }>(
      'SELECT to_jsonb(e)::text AS row FROM erasures e ORDER BY id',
    );
    assert.equal(rows.length, 2);
    for (const p of [patientA, patientB]) {
      for (const needle of [p, pseudonymisePatientId(p, TEST_HMAC_KEY), ...byPatient.get(p)!]) {
        assert.ok(
          !rows.some((r) => r.row.includes(needle)),
          'the erasure record names no id, pseudonym or accession',
        );
      }
    }
    assert.deepEqual(
      JSON.parse(rows[0]!.row).rows_deleted,
      summaries[0]!.rowsDeleted,
      'the record holds the counts printed',
    );
  });

  it('drops later arrivals of the erased patients, with a counted reason', async () => {
    const erasedIds = new Set([patientA, patientB]);
    const erasedMessages = messagesOf(cohort.dir).filter((m) => erasedIds.has(m.patientId));
    const erasedImages = cohort.images.filter((m) => erasedIds.has(m.patientId)).length;
    const ledgerBefore = await count('SELECT count(*) FROM hl7_message_ledger');
    const kept = await totals();
    const [rlPort, plPort] = (await freePorts(2)) as [number, number];
    const second = services({ rl: rlPort, pl: plPort }, 2);
    second.reportLabeler.start();
    second.pseudoLabeler.start();
    await waitForHealthy(rlPort, 'report-labeler');
    await waitForHealthy(plPort, 'pseudo-labeler');
    await feed(); // the whole hospital again: the others are duplicates, the erased are dropped
    const messages = messagesOf(cohort.dir).length;
    await waitUntilConsumed();
    assert.equal(await count('SELECT count(*) FROM hl7_message_ledger'), ledgerBefore + messages);
    assert.equal(
      await metricValue(plPort, 'harvester_pseudo_labeler_messages_total{input="dicom",outcome="stored"}'),
      cohort.images.length,
      'the second run consumed exactly the second feed',
    );
    assert.equal(
      await count(
        `SELECT count(*) FROM hl7_message_ledger WHERE outcome = 'skipped' AND reason = 'erased-patient'
         AND message_control_id = ANY($1::text[])`,
        [erasedMessages.map((m) => m.controlId)],
      ),
      erasedMessages.length,
    );
    assert.equal(
      await metricValue(rlPort, 'harvester_report_labeler_dropped_total{reason="erased-patient"}'),
      erasedMessages.length,
    );
    // the feed sends the keyed pseudonym with each image (PATIENT_ID_HMAC_KEY is set)
    assert.equal(
      await metricValue(plPort, 'harvester_pseudo_labeler_skipped_total{reason="erased-patient"}'),
      erasedImages,
    );
    for (const p of [patientA, patientB]) {
      assert.deepEqual(await rowsOf(p), Object.fromEntries(TABLES.map((t) => [t, 0])), 'nothing came back');
    }
    const now = await totals();
    for (const table of [
      'images',
      'reports',
      'report_versions',
      'report_labels',
      'training_inputs',
    ] as const) {
      assert.equal(now[table], kept[table], `${table}: the others' duplicates added nothing`);
    }
  });
});
