// Query times of the analytics views on about 1 million report labels.
//
//   eval "$(deploy/local/stack env)"; npm run bench:analytics
//   BENCH_LABELS=200000 BENCH_RUNS=5 npm run bench:analytics -- --plans var/analytics-plans.txt
//
// Generates a synthetic label history with generate_series in a scratch schema of DATABASE_URL
// (migrated with the real migrations, dropped at the end unless --keep), runs ANALYZE, then times
// every view as the stats command and the dashboard query it: one warm-up, then BENCH_RUNS runs,
// wall time in ms measured in this process. --plans FILE writes EXPLAIN (ANALYZE, BUFFERS) of each.
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { ANALYTICS_SESSION_SETTINGS } from '../services/app/analytics/analytics-database.ts';
import { migrateDatabase } from '../services/shared/db/migrate.ts';

const LABELS = Number(process.env.BENCH_LABELS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const KEEP = process.argv.includes('--keep');
const plansIndex = process.argv.indexOf('--plans');
const PLANS_FILE = plansIndex > 0 ? process.argv[plansIndex + 1] : undefined;
const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) {
  console.error('set DATABASE_URL (eval "$(deploy/local/stack env)")');
  process.exit(1);
}

const REPORTS = Math.ceil(LABELS / 3); // one label per class: rib, clavicle, other
const schema = `bench_analytics_${process.pid}`;

// Deterministic pseudo-random numbers in [0, 1) from an integer and a salt, in SQL.
const rnd = (expr: string, salt: number) =>
  `(abs(hashint4((${expr})::int # ${salt * 7919})::bigint) % 1000000) / 1000000.0`;

const GENERATE = [
  // reports: 4 facilities, 24 months, 3% provisional, 5% corrected
  `INSERT INTO reports (sending_facility, accession, result_status, status_rank, provisional, observed_at,
     message_control_id, obr_index, patient_pseudonym, procedure_code, report_text, first_received_at, updated_at)
   SELECT (ARRAY['GENHOSP','NORTH','SOUTH','CHILDRENS'])[1 + (g % 4)], 'ACC' || g,
          s.st, CASE s.st WHEN 'P' THEN 1 WHEN 'F' THEN 2 ELSE 3 END, s.st = 'P',
          timestamptz '2023-01-01' + (${rnd('g', 1)} * interval '730 days'),
          'MSG' || g, 1, 'PSN' || (g % 90000), 'XR CHEST', 'synthetic report text', now(), now()
   FROM generate_series(1, ${REPORTS}) g
   CROSS JOIN LATERAL (SELECT CASE WHEN ${rnd('g', 2)} < 0.03 THEN 'P' WHEN ${rnd('g', 2)} < 0.08 THEN 'C' ELSE 'F' END AS st) s`,
  // labels: rib 4% positive 2% uncertain, clavicle 1.5% / 0.5%, other 1% / 0.5%
  `INSERT INTO report_labels (report_id, class, status, acuity, side, rule_version, result_status, provisional, updated_at)
   SELECT r.id, c.class, st.status,
          CASE WHEN st.status = 'positive' THEN (ARRAY['acute','healing','old'])[1 + (r.id % 3)] END,
          CASE WHEN st.status = 'positive' AND c.class <> 'other' THEN (ARRAY['left','right'])[1 + ((r.id / 3) % 2)] END,
          '1.0.0', r.result_status, r.provisional, r.observed_at + interval '1 hour'
   FROM reports r
   CROSS JOIN (VALUES ('rib', 0.04, 0.02, 3), ('clavicle', 0.015, 0.005, 4), ('other', 0.01, 0.005, 5)) AS c (class, pos, unc, salt)
   CROSS JOIN LATERAL (SELECT CASE WHEN ${rnd('r.id * 3 + c.salt', 9)} < c.pos THEN 'positive'
                                   WHEN ${rnd('r.id * 3 + c.salt', 9)} < c.pos + c.unc THEN 'uncertain'
                                   ELSE 'negative' END AS status) st`,
  `INSERT INTO study_record_labels (accession, sending_facility, report_status, status_rank, provisional, observed_at,
     message_control_id, obr_index, rule_version, rib_status, clavicle_status)
   SELECT r.accession, r.sending_facility, r.result_status, r.status_rank, r.provisional, r.observed_at,
          r.message_control_id, 1, '1.0.0', rib.status, cla.status
   FROM reports r
   JOIN report_labels rib ON rib.report_id = r.id AND rib.class = 'rib'
   JOIN report_labels cla ON cla.report_id = r.id AND cla.class = 'clavicle'`,
  // images: one per study, a second one for 10% of them; PA 70%, AP 30%
  `INSERT INTO images (sop_instance_uid, study_instance_uid, series_instance_uid, accession, modality, view_position,
     body_part_examined, rows, columns, bits_allocated, bits_stored, pixel_representation, photometric_interpretation,
     transfer_syntax_uid, uri, arrived_at, event_topic, event_partition, event_offset, event_value)
   SELECT '1.2.3.' || r.id || '.' || n, '1.2.3.' || r.id, '1.2.3.' || r.id || '.1', r.accession, 'DX',
          CASE WHEN ${rnd('r.id * 2 + n', 6)} < 0.7 THEN 'PA' ELSE 'AP' END, 'CHEST', 2048, 2048, 16, 12, 0,
          'MONOCHROME2', '1.2.840.10008.1.2.1', 'file:///dicom/' || r.id || '.' || n || '.dcm',
          r.observed_at, 'dicom.arrived', 0, r.id, '\\x00'
   FROM reports r
   CROSS JOIN generate_series(1, 2) n
   WHERE n = 1 OR r.id % 10 = 0`,
  // pseudo-labels (rib, clavicle) of non-uncertain final studies: teacher v2 on all, v1 on the first 30%
  `INSERT INTO pseudo_labels (sop_instance_uid, class, model_version, accession, record_status, target_method, aals_t,
     aals_a0, aals_eps, target, target_height, target_width, teacher_score, target_max, target_mean, positive_fraction,
     report_status, report_status_rank, report_observed_at, report_message_control_id, report_obr_index, created_at)
   SELECT i.sop_instance_uid, l.class, v.version, i.accession, l.status,
          CASE WHEN l.status = 'positive' THEN 'aals' ELSE 'zero' END, 0.4, 4, 1e-6, '\\x00', 1, 1,
          CASE WHEN l.status = 'positive' THEN 0.3 + 0.7 * ${rnd('r.id', 7)} ELSE power(${rnd('r.id', 8)}, 16) END,
          0.5, 0.01, 0.01, r.result_status, r.status_rank, r.observed_at, r.message_control_id, 1,
          r.observed_at + v.delay
   FROM images i
   JOIN reports r ON r.accession = i.accession
   JOIN report_labels l ON l.report_id = r.id AND l.class IN ('rib', 'clavicle') AND l.status <> 'uncertain'
   CROSS JOIN (VALUES ('v1', interval '2 hours'), ('v2', interval '3 hours')) AS v (version, delay)
   WHERE NOT r.provisional AND (v.version = 'v2' OR r.id % 10 < 3)`,
  `INSERT INTO model_versions (version, parent_version, metrics, status, created_at) VALUES
     ('v1', NULL, '{"images": 400, "rib": {"auroc": 0.81, "froc": 0.52}, "clavicle": {"auroc": 0.74, "froc": 0.41}}', 'retired', '2023-01-01'),
     ('v2', 'v1', '{"images": 400, "rib": {"auroc": 0.86, "froc": 0.61}, "clavicle": {"auroc": 0.79, "froc": 0.48}}', 'active', '2023-06-01'),
     ('v3', 'v2', NULL, 'candidate', '2024-12-01')`,
  `INSERT INTO distill_jobs (status, requested_at, started_at, finished_at, label_watermark, output_model_version)
   VALUES ('succeeded', '2024-10-01', '2024-10-01', '2024-10-01 02:00', '2024-10-01', 'v2')`,
];

interface Query {
  view: string;
  what: string;
  sql: string;
  params?: unknown[];
}

// The queries as the stats command and the dashboard run them (services/app/analytics/queries.ts).
const QUERIES: Query[] = [
  {
    view: 'analytics_label_prevalence',
    what: 'all rows (every dimension)',
    sql: 'SELECT * FROM analytics_label_prevalence',
  },
  {
    view: 'analytics_report_labels',
    what: 'stats --by view',
    sql: `SELECT view_position, class, count(*), count(*) FILTER (WHERE status = 'positive')
          FROM analytics_report_labels GROUP BY 1, 2`,
  },
  {
    view: 'analytics_report_labels',
    what: 'stats --by month',
    sql: `SELECT month, class, count(*), count(*) FILTER (WHERE status = 'positive')
          FROM analytics_report_labels GROUP BY 1, 2`,
  },
  {
    view: 'analytics_report_labels',
    what: 'stats --by facility --since 2024-07',
    sql: `SELECT facility, class, count(*), count(*) FILTER (WHERE status = 'positive')
          FROM analytics_report_labels WHERE month >= $1::date GROUP BY 1, 2`,
    params: ['2024-07-01'],
  },
  {
    view: 'analytics_prevalence_monthly',
    what: 'all rows (dashboard)',
    sql: 'SELECT * FROM analytics_prevalence_monthly',
  },
  { view: 'analytics_record_vs_teacher', what: 'all rows', sql: 'SELECT * FROM analytics_record_vs_teacher' },
  {
    view: 'analytics_label_volume_since_distill',
    what: 'after a job',
    sql: 'SELECT * FROM analytics_label_volume_since_distill',
  },
  {
    view: 'analytics_pseudo_label_scores',
    what: 'all rows',
    sql: 'SELECT * FROM analytics_pseudo_label_scores',
  },
  {
    view: 'analytics_pseudo_label_score_histogram',
    what: 'one version (dashboard)',
    sql: `SELECT * FROM analytics_pseudo_label_score_histogram WHERE model_version = 'v2'`,
  },
  { view: 'analytics_model_history', what: 'all rows', sql: 'SELECT * FROM analytics_model_history' },
  { view: 'analytics_model_metrics', what: 'all rows', sql: 'SELECT * FROM analytics_model_metrics' },
  {
    view: 'analytics_discordant_images',
    what: 'top 50 (dashboard)',
    sql: `SELECT * FROM analytics_discordant_images ORDER BY teacher_score DESC, review_ref LIMIT 50`,
  },
  {
    view: 'analytics_discordant_images',
    what: 'count (dashboard)',
    sql: `SELECT count(*) FROM analytics_discordant_images`,
  },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1, options: `-c search_path=${schema}` });
  // the sessions of harvester stats and the dashboard (the role aside: the scratch schema is not granted)
  const timed = new pg.Pool({
    connectionString: DATABASE_URL,
    max: 1,
    options: [...ANALYTICS_SESSION_SETTINGS, `-c search_path=${schema}`].join(' '),
  });
  try {
    await migrateDatabase({ database: DATABASE_URL!, schema });
    const t0 = performance.now();
    // reports.reported_at (when the version was sent) comes with a later migration; fill it when present
    const { rowCount: hasReportedAt } = await pool.query(
      `SELECT 1 FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = 'reports' AND column_name = 'reported_at'`,
    );
    if (hasReportedAt) await pool.query(`ALTER TABLE reports ALTER COLUMN reported_at SET DEFAULT now()`);
    for (const sql of GENERATE) await pool.query(sql);
    await pool.query('VACUUM ANALYZE');
    const generateS = (performance.now() - t0) / 1000;
    const counts = (
      await pool.query(
        `SELECT (SELECT count(*) FROM report_labels)::int AS labels, (SELECT count(*) FROM reports)::int AS reports,
                (SELECT count(*) FROM images)::int AS images, (SELECT count(*) FROM pseudo_labels)::int AS pseudo,
                version() AS version`,
      )
    ).rows[0];
    console.log(
      `data: ${counts.labels.toLocaleString('en-US')} report labels, ${counts.reports.toLocaleString('en-US')} reports, ` +
        `${counts.images.toLocaleString('en-US')} images, ${counts.pseudo.toLocaleString('en-US')} pseudo-labels ` +
        `(generated in ${generateS.toFixed(1)} s)`,
    );
    console.log(
      `${(counts.version as string).split(' on ')[0]}; ${RUNS} runs after one warm-up; wall time in ms\n`,
    );
    console.log('| view | query | rows | median ms | min ms | max ms |');
    console.log('|---|---|---:|---:|---:|---:|');
    const plans: string[] = [];
    for (const q of QUERIES) {
      await timed.query(q.sql, q.params); // warm-up
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < RUNS; i++) {
        const start = performance.now();
        const result = await timed.query(q.sql, q.params);
        times.push(performance.now() - start);
        rows = result.rowCount ?? 0;
      }
      console.log(
        `| ${q.view} | ${q.what} | ${rows.toLocaleString('en-US')} | ${median(times).toFixed(0)} | ` +
          `${Math.min(...times).toFixed(0)} | ${Math.max(...times).toFixed(0)} |`,
      );
      if (PLANS_FILE) {
        const { rows: plan } = await timed.query(`EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`, q.params);
        plans.push(`-- ${q.view}: ${q.what}\n${plan.map((r) => r['QUERY PLAN']).join('\n')}\n`);
      }
    }
    if (PLANS_FILE) {
      writeFileSync(PLANS_FILE, plans.join('\n'));
      console.log(`\nplans in ${PLANS_FILE}`);
    }
  } finally {
    await timed.end();
    await pool.end();
    if (!KEEP) await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    else console.log(`kept schema ${schema}`);
    await admin.end();
  }
}

await main();
