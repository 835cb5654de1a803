import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { getTestStack } from '../support/stack.ts';
import type { TestSchema } from '../support/postgres.ts';
import { createAnalyticsSchema, insertDistillJobs } from '../support/analytics-data.ts';

// The analytics views on the known data set of test/support/analytics-data.ts (numbers counted by
// hand from the rows listed there), and what the harvester_analytics role can and cannot read.

const ANALYTICS_VIEWS = [
  'analytics_discordant_images',
  'analytics_label_prevalence',
  'analytics_label_volume_since_distill',
  'analytics_model_history',
  'analytics_model_metrics',
  'analytics_prevalence_monthly',
  'analytics_pseudo_label_score_histogram',
  'analytics_pseudo_label_scores',
  'analytics_record_vs_teacher',
  'analytics_report_labels',
];

/** Columns that identify a patient or a study, or hold report text. */
const IDENTIFYING_COLUMNS = [
  'accession',
  'patient_pseudonym',
  'patient_id',
  'report_text',
  'message_control_id',
  'report_message_control_id',
  'sop_instance_uid',
  'study_instance_uid',
  'series_instance_uid',
  'uri',
  'event_value',
  'observed_at',
  'arrived_at',
  'key',
];

const closeTo = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} is not ${expected}`);

describe('analytics views on a known data set', () => {
  let db: TestSchema;
  let pool: pg.Pool;

  before(async () => {
    db = await createAnalyticsSchema(await getTestStack());
    pool = db.pool;
  });
  after(() => db?.drop());

  it('analytics_prevalence_monthly: reports and statuses per UTC month and class, provisional left out', async () => {
    const { rows } = await pool.query(
      `SELECT to_char(month, 'YYYY-MM') AS month, class, reports::int, positive::int, uncertain::int,
              negative::int, positive_rate
       FROM analytics_prevalence_monthly ORDER BY month, class`,
    );
    assert.deepEqual(
      rows.map((r) => [r.month, r.class, r.reports, r.positive, r.uncertain, r.negative, r.positive_rate]),
      [
        ['2024-01', 'clavicle', 2, 1, 0, 1, 0.5],
        ['2024-01', 'other', 2, 0, 0, 2, 0],
        ['2024-01', 'rib', 2, 1, 0, 1, 0.5],
        // A3 was observed on 31 January at 23:30 -02:00, which is February in UTC
        ['2024-02', 'clavicle', 2, 0, 0, 2, 0],
        ['2024-02', 'other', 2, 1, 0, 1, 0.5],
        ['2024-02', 'rib', 2, 1, 1, 0, 0.5],
        ['2024-03', 'clavicle', 1, 0, 0, 1, 0],
        ['2024-03', 'other', 1, 0, 0, 1, 0],
        ['2024-03', 'rib', 1, 0, 0, 1, 0],
      ],
    );
  });

  it('analytics_report_labels: one de-identified row per final report label', async () => {
    const { rows } = await pool.query(
      `SELECT to_char(month, 'YYYY-MM') AS month, facility, view_position, status, result_status
       FROM analytics_report_labels WHERE class = 'rib' ORDER BY month, facility, view_position`,
    );
    assert.deepEqual(
      rows.map((r) => Object.values(r)),
      [
        ['2024-01', 'GENHOSP', 'PA', 'positive', 'F'],
        ['2024-01', 'GENHOSP', 'mixed', 'negative', 'F'],
        ['2024-02', 'NORTH', 'AP', 'uncertain', 'F'],
        ['2024-02', 'NORTH', 'PA', 'positive', 'C'],
        ['2024-03', 'GENHOSP', 'unknown', 'negative', 'F'],
      ],
    );
    const { rows: total } = await pool.query(`SELECT count(*)::int AS n FROM analytics_report_labels`);
    assert.equal(total[0].n, 15, 'five final reports, three classes each; the provisional one left out');
  });

  it('analytics_label_prevalence: every dimension, with the view position of each study', async () => {
    const { rows: rib } = await pool.query(
      `SELECT to_char(month, 'YYYY-MM') AS month, facility, view_position, status, acuity, side, labels::int
       FROM analytics_label_prevalence WHERE class = 'rib' ORDER BY month, facility, view_position`,
    );
    assert.deepEqual(
      rib.map((r) => [r.month, r.facility, r.view_position, r.status, r.acuity, r.side, r.labels]),
      [
        ['2024-01', 'GENHOSP', 'PA', 'positive', 'acute', 'left', 1],
        ['2024-01', 'GENHOSP', 'mixed', 'negative', null, null, 1],
        ['2024-02', 'NORTH', 'AP', 'uncertain', null, null, 1],
        ['2024-02', 'NORTH', 'PA', 'positive', 'healing', 'right', 1],
        ['2024-03', 'GENHOSP', 'unknown', 'negative', null, null, 1],
      ],
    );
    const { rows: byFacility } = await pool.query(
      `SELECT facility, sum(labels)::int AS labels FROM analytics_label_prevalence GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(
      byFacility.map((r) => [r.facility, r.labels]),
      [
        ['GENHOSP', 9],
        ['NORTH', 6],
      ],
    );
    const { rows: byView } = await pool.query(
      `SELECT view_position, sum(labels)::int AS labels FROM analytics_label_prevalence GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(
      byView.map((r) => [r.view_position, r.labels]),
      [
        ['AP', 3],
        ['PA', 6],
        ['mixed', 3],
        ['unknown', 3],
      ],
    );
    const { rows: positivesBySide } = await pool.query(
      `SELECT class, side, acuity, sum(labels)::int AS labels FROM analytics_label_prevalence
       WHERE status = 'positive' GROUP BY 1, 2, 3 ORDER BY 1, 2`,
    );
    assert.deepEqual(
      positivesBySide.map((r) => [r.class, r.side, r.acuity, r.labels]),
      [
        ['clavicle', 'right', 'old', 1],
        ['other', null, null, 1],
        ['rib', 'left', 'acute', 1],
        ['rib', 'right', 'healing', 1],
      ],
    );
  });

  it('analytics_record_vs_teacher: record-positive against teacher-positive (score > 0.5) per version', async () => {
    const { rows } = await pool.query(
      `SELECT model_version, class, to_char(month, 'YYYY-MM') AS month, teacher_threshold, images::int,
              record_positive::int, teacher_positive::int, both_positive::int,
              record_negative_teacher_positive::int, record_positive_teacher_negative::int,
              record_positive_rate, teacher_positive_rate
       FROM analytics_record_vs_teacher ORDER BY model_version, class, month`,
    );
    assert.deepEqual(
      rows.map((r) => [
        r.model_version,
        r.class,
        r.month,
        r.images,
        r.record_positive,
        r.teacher_positive,
        r.both_positive,
        r.record_negative_teacher_positive,
        r.record_positive_teacher_negative,
      ]),
      [
        ['v1', 'clavicle', '2024-01', 1, 0, 0, 0, 0, 0],
        ['v1', 'rib', '2024-01', 3, 1, 2, 1, 1, 0],
        ['v1', 'rib', '2024-02', 1, 1, 0, 0, 0, 1],
        ['v2', 'clavicle', '2024-01', 1, 1, 0, 0, 0, 1],
        ['v2', 'clavicle', '2024-02', 1, 0, 1, 0, 1, 0],
        ['v2', 'rib', '2024-01', 3, 1, 2, 1, 1, 0],
        ['v2', 'rib', '2024-02', 1, 1, 1, 1, 0, 0],
      ],
    );
    for (const r of rows) closeTo(r.teacher_threshold, 0.5, 'threshold');
    const v1rib = rows.find((r) => r.model_version === 'v1' && r.class === 'rib' && r.month === '2024-01')!;
    closeTo(v1rib.record_positive_rate, 1 / 3, 'v1 rib record-positive rate');
    closeTo(v1rib.teacher_positive_rate, 2 / 3, 'v1 rib teacher-positive rate');
  });

  it('analytics_record_vs_teacher follows the discordance threshold setting', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('UPDATE discordance_settings SET teacher_score_threshold = 0.9');
      const { rows } = await client.query(
        `SELECT model_version, sum(teacher_positive)::int AS teacher_positive FROM analytics_record_vs_teacher
         GROUP BY 1 ORDER BY 1`,
      );
      assert.deepEqual(
        rows.map((r) => [r.model_version, r.teacher_positive]),
        [
          ['v1', 0], // v1 has no score above 0.9
          ['v2', 2], // 0.95 and 0.92
        ],
      );
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('analytics_label_volume_since_distill: every label is new before the first job', async () => {
    const { rows } = await pool.query(
      `SELECT class, last_job_id, label_watermark, new_pseudo_labels::int, new_record_positive_pseudo_labels::int,
              new_report_labels::int
       FROM analytics_label_volume_since_distill ORDER BY class`,
    );
    assert.deepEqual(
      rows.map((r) => [
        r.class,
        r.last_job_id,
        r.label_watermark,
        r.new_pseudo_labels,
        r.new_record_positive_pseudo_labels,
        r.new_report_labels,
      ]),
      [
        ['clavicle', null, null, 3, 1, 5],
        ['rib', null, null, 8, 4, 5],
      ],
    );
  });

  it('analytics_label_volume_since_distill: counts from the last job that did not fail; single flight', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await insertDistillJobs(client);
      const volume = async () =>
        (
          await client.query(
            `SELECT class, last_job_status, to_char(label_watermark AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS watermark,
                    new_pseudo_labels::int, new_record_positive_pseudo_labels::int, new_report_labels::int
             FROM analytics_label_volume_since_distill ORDER BY class`,
          )
        ).rows.map((r) => [
          r.class,
          r.last_job_status,
          r.watermark,
          r.new_pseudo_labels,
          r.new_record_positive_pseudo_labels,
          r.new_report_labels,
        ]);
      // the failed job of 2024-03-15 does not count: labels since the succeeded one of 2024-02-15
      assert.deepEqual(await volume(), [
        ['clavicle', 'succeeded', '2024-02-15', 2, 1, 2],
        ['rib', 'succeeded', '2024-02-15', 4, 2, 2],
      ]);
      await client.query(
        `INSERT INTO distill_jobs (status, label_watermark, base_model_version) VALUES ('requested', '2024-03-15T00:00:00Z', 'v2')`,
      );
      assert.deepEqual(await volume(), [
        ['clavicle', 'requested', '2024-03-15', 1, 0, 0],
        ['rib', 'requested', '2024-03-15', 1, 0, 0],
      ]);
      await client.query('SAVEPOINT second');
      await assert.rejects(
        client.query(`INSERT INTO distill_jobs (status, label_watermark) VALUES ('requested', now())`),
        /distill_jobs_single_flight_idx/,
        'a second job in flight is refused',
      );
      await client.query('ROLLBACK TO SAVEPOINT second');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('analytics_pseudo_label_scores: counts and score distribution per version, class and record status', async () => {
    const { rows } = await pool.query(
      `SELECT model_version, class, record_status, labels::int, mean_score, min_score, p10_score, p25_score,
              median_score, p75_score, p90_score, max_score, mean_positive_fraction
       FROM analytics_pseudo_label_scores ORDER BY model_version, class, record_status`,
    );
    assert.deepEqual(
      rows.map((r) => [r.model_version, r.class, r.record_status, r.labels]),
      [
        ['v1', 'clavicle', 'negative', 1],
        ['v1', 'rib', 'negative', 2],
        ['v1', 'rib', 'positive', 2],
        ['v2', 'clavicle', 'negative', 1],
        ['v2', 'clavicle', 'positive', 1],
        ['v2', 'rib', 'negative', 2],
        ['v2', 'rib', 'positive', 2],
      ],
    );
    const v1pos = rows.find(
      (r) => r.model_version === 'v1' && r.class === 'rib' && r.record_status === 'positive',
    )!;
    // scores 0.45 and 0.85: percentiles interpolate linearly between them
    closeTo(v1pos.mean_score, 0.65, 'mean');
    closeTo(v1pos.min_score, 0.45, 'min');
    closeTo(v1pos.p10_score, 0.49, 'p10');
    closeTo(v1pos.p25_score, 0.55, 'p25');
    closeTo(v1pos.median_score, 0.65, 'median');
    closeTo(v1pos.p75_score, 0.75, 'p75');
    closeTo(v1pos.p90_score, 0.81, 'p90');
    closeTo(v1pos.max_score, 0.85, 'max');
    closeTo(v1pos.mean_positive_fraction, 0.25, 'mean positive fraction');
    const v2neg = rows.find(
      (r) => r.model_version === 'v2' && r.class === 'rib' && r.record_status === 'negative',
    )!;
    closeTo(v2neg.median_score, 0.5, 'v2 rib negative median of 0.25 and 0.75');
  });

  it('analytics_pseudo_label_score_histogram: ten bins of 0.1', async () => {
    const { rows } = await pool.query(
      `SELECT model_version, class, record_status, bin, score_from::float8, score_to::float8, labels::int
       FROM analytics_pseudo_label_score_histogram ORDER BY model_version, class, record_status, bin`,
    );
    assert.deepEqual(
      rows.map((r) => [r.model_version, r.class, r.record_status, r.bin, r.score_from, r.score_to, r.labels]),
      [
        ['v1', 'clavicle', 'negative', 1, 0, 0.1, 1],
        ['v1', 'rib', 'negative', 2, 0.1, 0.2, 1],
        ['v1', 'rib', 'negative', 7, 0.6, 0.7, 1],
        ['v1', 'rib', 'positive', 5, 0.4, 0.5, 1],
        ['v1', 'rib', 'positive', 9, 0.8, 0.9, 1],
        ['v2', 'clavicle', 'negative', 10, 0.9, 1, 1],
        ['v2', 'clavicle', 'positive', 4, 0.3, 0.4, 1],
        ['v2', 'rib', 'negative', 3, 0.2, 0.3, 1],
        ['v2', 'rib', 'negative', 8, 0.7, 0.8, 1],
        ['v2', 'rib', 'positive', 6, 0.5, 0.6, 1],
        ['v2', 'rib', 'positive', 10, 0.9, 1, 1],
      ],
    );
  });

  it('analytics_model_history and analytics_model_metrics: metrics per version, NULL where missing', async () => {
    const { rows } = await pool.query(
      `SELECT version, parent_version, status, eval_images, rib_auroc, rib_froc, clavicle_auroc, clavicle_froc,
              pseudo_labels::int
       FROM analytics_model_history ORDER BY created_at`,
    );
    assert.deepEqual(
      rows.map((r) => Object.values(r)),
      [
        ['v1', null, 'retired', 40, 0.8, 0.5, 0.7, null, 5],
        ['v2', 'v1', 'active', 40, 0.85, 0.6, 0.75, 0.45, 6],
        ['v3', 'v2', 'candidate', null, null, null, null, null, 0],
      ],
    );
    const { rows: long } = await pool.query(
      `SELECT version, class, auroc, froc FROM analytics_model_metrics ORDER BY created_at, class`,
    );
    assert.deepEqual(
      long.map((r) => Object.values(r)),
      [
        ['v1', 'clavicle', 0.7, null],
        ['v1', 'rib', 0.8, 0.5],
        ['v2', 'clavicle', 0.75, 0.45],
        ['v2', 'rib', 0.85, 0.6],
        ['v3', 'clavicle', null, null],
        ['v3', 'rib', null, null],
      ],
    );
  });

  it('analytics_discordant_images: record-negative, teacher-confident images without UIDs or accessions', async () => {
    const { rows } = await pool.query(
      `SELECT review_ref, facility, class, model_version, teacher_score, report_status, view_position,
              to_char(arrived_month, 'YYYY-MM') AS arrived_month
       FROM analytics_discordant_images ORDER BY teacher_score DESC, review_ref`,
    );
    assert.deepEqual(
      rows.map((r) => [
        r.facility,
        r.class,
        r.model_version,
        r.report_status,
        r.view_position,
        r.arrived_month,
      ]),
      [
        ['NORTH', 'clavicle', 'v2', 'C', 'PA', '2024-01'],
        ['GENHOSP', 'rib', 'v2', 'F', 'AP', '2024-01'],
        ['GENHOSP', 'rib', 'v1', 'F', 'AP', '2024-01'],
      ],
    );
    rows.forEach((r, i) => closeTo(r.teacher_score, [0.92, 0.75, 0.65][i]!, `score ${i}`));
    for (const r of rows) assert.match(r.review_ref, /^[0-9a-f]{16}$/);
    assert.equal(rows[1].review_ref, rows[2].review_ref, 'one image, one reference across versions');
    assert.notEqual(rows[0].review_ref, rows[1].review_ref);
    // a reviewer with the service role resolves the reference to the study
    const { rows: resolved } = await pool.query(
      `SELECT DISTINCT accession, sop_instance_uid FROM discordant_images_review WHERE review_ref = $1`,
      [rows[1].review_ref],
    );
    assert.deepEqual(resolved, [{ accession: 'A2', sop_instance_uid: '2.2' }]);
  });

  it('harvester_analytics reads the analytics views and nothing identifying', async () => {
    const client = await pool.connect();
    try {
      await client.query('SET ROLE harvester_analytics');
      for (const view of ANALYTICS_VIEWS) {
        const { rowCount } = await client.query(`SELECT * FROM ${view}`);
        assert.ok((rowCount ?? 0) > 0, `${view} returns rows to the analytics role`);
      }
      for (const relation of [
        'reports',
        'report_versions',
        'report_labels',
        'hl7_message_ledger',
        'images',
        'study_record_labels',
        'pseudo_labels',
        'pseudo_labels_superseded',
        'model_versions',
        'distill_jobs',
        'discordant_images',
        'discordant_images_review',
        'study_view_positions',
        'analytics_review_key',
      ]) {
        await assert.rejects(
          client.query(`SELECT * FROM ${relation} LIMIT 1`),
          (err: { code?: string }) => err.code === '42501',
          `${relation} is not readable by harvester_analytics`,
        );
      }
      await assert.rejects(
        client.query(`SELECT accession, report_text FROM reports`),
        (err: { code?: string }) => err.code === '42501',
      );
      await assert.rejects(
        client.query(`INSERT INTO distill_jobs (label_watermark) VALUES (now())`),
        (err: { code?: string }) => err.code === '42501',
        'the analytics role writes nothing',
      );
    } finally {
      await client.query('RESET ROLE');
      client.release();
    }
    // Every relation in the schema the role can read, and every column of those: none identifying.
    const { rows: readable } = await pool.query(
      `SELECT c.relname, array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
         AND (has_table_privilege('harvester_analytics', c.oid, 'SELECT')
              OR has_any_column_privilege('harvester_analytics', c.oid, 'SELECT'))
       GROUP BY c.relname ORDER BY c.relname`,
    );
    const names = readable.map((r) => r.relname as string);
    assert.deepEqual(
      names.filter((n) => n.startsWith('analytics_')),
      ANALYTICS_VIEWS,
      'the analytics views, all readable',
    );
    assert.deepEqual(
      names.filter((n) => !n.startsWith('analytics_')),
      ['pseudo_label_summary_deid', 'report_label_prevalence_monthly', 'report_labels_deid'],
      'besides them only the earlier de-identified views',
    );
    for (const { relname, columns } of readable) {
      const bad = (columns as string[]).filter((c) => IDENTIFYING_COLUMNS.includes(c));
      assert.deepEqual(bad, [], `${relname} exposes no identifying column`);
    }
  });
});
