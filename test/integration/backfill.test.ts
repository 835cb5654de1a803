import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { loadBackfillConfig } from '../../services/app/backfill/config.ts';
import { backfillWithConfig, type BackfillRun } from '../../services/app/backfill-archive.ts';
import { createLogger } from '../../services/shared/observability/logger.ts';
import { DEFAULT_COHORT_OPTIONS } from '../../tools/synth/cohort.ts';
import { writeCohort } from '../../tools/synth/write-cohort.ts';
import { writeDicom } from '../support/dicom-writer.ts';

// The archive path end to end on the embedded database: a small synthetic hospital through
// `harvester backfill`'s own entry point, then again (nothing new), then interrupted and resumed.

const config = loadBackfillConfig({
  PATIENT_ID_HMAC_KEY: 'backfill-test-key-0123456789abcdef0123',
  TEACHER_EXECUTION_PROVIDERS: 'cpu',
});
const logger = createLogger('backfill-test', 'silent');

interface DbState {
  reports: number;
  images: number;
  /** (image, class) pairs whose study's label is positive or negative: each must get one pseudo-label. */
  expectedLabels: number;
  labels: Array<{ sop: string; cls: string; method: string; status: string; created: string }>;
  superseded: number;
  versions: number;
  /** Images with a model input in the training store, and images with a pseudo-label. */
  storedInputs: number;
  labelledImages: number;
}

async function state(pool: pg.Pool): Promise<DbState> {
  const one = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);
  const labels = await pool.query<DbState['labels'][number]>(
    `SELECT sop_instance_uid AS sop, class AS cls, target_method AS method, record_status AS status,
       created_at::text AS created FROM pseudo_labels ORDER BY 1, 2`,
  );
  return {
    reports: await one('SELECT count(*) AS n FROM reports'),
    images: await one('SELECT count(*) AS n FROM images'),
    expectedLabels: await one(
      `SELECT count(*) AS n FROM images i JOIN study_record_labels s ON s.accession = i.accession
       CROSS JOIN LATERAL (VALUES (s.rib_status), (s.clavicle_status)) AS c(status)
       WHERE NOT s.provisional AND c.status <> 'uncertain'`,
    ),
    labels: labels.rows,
    superseded: await one('SELECT count(*) AS n FROM pseudo_labels_superseded'),
    versions: await one('SELECT count(*) AS n FROM report_versions'),
    storedInputs: await one('SELECT count(*) AS n FROM training_inputs'),
    labelledImages: await one('SELECT count(DISTINCT sop_instance_uid) AS n FROM pseudo_labels'),
  };
}

describe('harvester backfill into the embedded database', { timeout: 300_000 }, () => {
  let dir: string;
  let cohort: { studies: number; images: number; reports: number };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fh-backfill-'));
    const summary = await writeCohort(join(dir, 'cohort'), {
      ...DEFAULT_COHORT_OPTIONS,
      studies: 40,
      seed: 'backfill-test',
      size: 128,
      regionTrain: 4,
      regionTest: 4,
      ribPrevalence: 0.3,
      claviclePrevalence: 0.15,
    });
    cohort = { studies: summary.studies, images: summary.images, reports: summary.reports };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (dataDir: string, extra: Partial<Parameters<typeof backfillWithConfig>[1]> = {}) => {
    let seen: DbState | undefined;
    return backfillWithConfig(config, {
      reports: join(dir, 'cohort', 'reports.hl7'),
      dicom: join(dir, 'cohort', 'dicom'),
      dataDir,
      store: `${dataDir}-training-store`,
      logger,
      ...extra,
      use: async (pool) => {
        seen = await state(pool);
      },
    }).then((r): BackfillRun & { db: DbState } => ({ ...r, db: seen! }));
  };

  it('labels every report, records every image and pseudo-labels every joined (image, class) once; a second run does nothing', async () => {
    const dataDir = join(dir, 'db-full');
    const first = await run(dataDir);
    const s = first.summary;
    assert.equal(s.interrupted, false);
    assert.equal(s.reports.messages, cohort.reports);
    assert.equal(s.reports.stored, cohort.reports, 'every synthetic message is a chest radiograph report');
    assert.equal(first.db.reports, cohort.studies);
    assert.equal(first.db.versions, cohort.reports);
    assert.equal(s.images.recorded, cohort.images);
    assert.equal(first.db.images, cohort.images);
    assert.ok(first.db.expectedLabels > cohort.images, 'most images get a label for both classes');
    assert.equal(first.db.labels.length, first.db.expectedLabels);
    for (const l of first.db.labels) {
      assert.equal(l.method, l.status === 'positive' ? 'aals' : 'zero', `${l.sop}/${l.cls}`);
    }
    assert.ok(
      first.db.labels.some((l) => l.method === 'aals'),
      'some record-positive images',
    );
    assert.equal(s.totals.images, cohort.images);
    assert.equal(
      first.db.storedInputs,
      first.db.labelledImages,
      'the model input of every labelled image is kept',
    );

    const second = await run(dataDir);
    assert.equal(second.summary.reports.alreadyDone, cohort.reports);
    assert.equal(second.summary.reports.stored, 0);
    assert.equal(second.summary.images.alreadyDone, cohort.images);
    assert.equal(second.summary.images.recorded, 0);
    assert.equal(second.summary.pseudoLabels.inferred, 0);
    assert.deepEqual(second.db, first.db, 'the second run changed nothing');
  });

  it('resumes after an interruption and completes every label exactly once', async () => {
    const dataDir = join(dir, 'db-interrupted');
    const controller = new AbortController();
    let labelBatches = 0;
    const first = await run(dataDir, {
      signal: controller.signal,
      afterBatch: (phase) => {
        if (phase === 'pseudo-labels' && ++labelBatches === 1) controller.abort();
      },
    });
    assert.equal(first.summary.interrupted, true);
    const partial = first.db.labels.length;
    assert.ok(
      partial > 0 && partial < first.db.expectedLabels,
      `${partial} of ${first.db.expectedLabels} written`,
    );

    const second = await run(dataDir);
    assert.equal(second.summary.interrupted, false);
    assert.equal(second.db.labels.length, second.db.expectedLabels);
    const written = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    assert.equal(
      written(first.summary.pseudoLabels.written) + written(second.summary.pseudoLabels.written),
      second.db.expectedLabels,
      'no label computed twice',
    );
    assert.equal(second.db.superseded, 0);
    const before = new Map(first.db.labels.map((l) => [`${l.sop}/${l.cls}`, l.created]));
    for (const l of second.db.labels) {
      const was = before.get(`${l.sop}/${l.cls}`);
      if (was !== undefined) assert.equal(l.created, was, 'a label of the first run is kept as written');
    }
  });

  it('reports and counts bad files and messages, skips non-image objects with a reason, and backfills the rest', async () => {
    const bad = join(dir, 'bad');
    rmSync(bad, { recursive: true, force: true });
    const dataDir = join(dir, 'db-bad');
    writeFileSync(join(dir, 'cohort', 'dicom', 'zz-broken.dcm'), Buffer.from('not a DICOM file at all'));
    // a 1-bit segmentation object next to the radiographs: not an image waiting for a report
    const seg = writeDicom({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.66.4',
      sopInstanceUid: '1.2.826.0.1.3680043.10.1.66',
      rows: 8,
      columns: 8,
      bitsAllocated: 8,
      pixelBytes: new Uint8Array(64),
    });
    writeFileSync(join(dir, 'cohort', 'dicom', 'zz-seg.dcm'), seg);
    const hl7 = join(dir, 'cohort', 'reports.hl7');
    appendFileSync(hl7, 'MSH|^~\\&|RIS|H1|||20240101||ORU^R01|BROKEN1|P|2.5.1\rPID|1||\r\n');
    const problems: string[] = [];
    try {
      const r = await run(dataDir, { onProblem: (line) => problems.push(line) });
      assert.equal(r.summary.images.recorded, cohort.images);
      assert.deepEqual(r.summary.images.failed, { 'not-dicom': 1 });
      assert.deepEqual(r.summary.images.skipped, { 'non-image:segmentation': 1 });
      assert.equal(r.summary.reports.stored, cohort.reports);
      assert.equal(
        Object.values(r.summary.reports.failed).reduce((a, b) => a + b, 0),
        1,
      );
      assert.ok(problems.some((p) => p.includes('zz-broken.dcm') && p.includes('not-dicom')));
      assert.equal(r.db.labels.length, r.db.expectedLabels);
    } finally {
      rmSync(join(dir, 'cohort', 'dicom', 'zz-broken.dcm'), { force: true });
      rmSync(join(dir, 'cohort', 'dicom', 'zz-seg.dcm'), { force: true });
    }
  });
});
