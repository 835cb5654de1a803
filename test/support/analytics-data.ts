import type pg from 'pg';
import { migrateDatabase } from '../../services/shared/db/migrate.ts';
import { createTestSchema, type TestSchema } from './postgres.ts';
import type { TestStack } from './stack.ts';

/**
 * A small, known data set for the analytics views (test/integration/analytics-*.test.ts), written
 * straight into the tables the services own. Every expected number in those tests is counted by
 * hand from the rows below.
 *
 * Reports (final/corrected unless noted; labels rib / clavicle / other):
 *   A1 GENHOSP 2024-01-10 F  rib positive acute left   / negative / negative   images: PA
 *   A2 GENHOSP 2024-01-20 F  rib negative              / positive old right / negative   images: PA + AP (mixed)
 *   A3 NORTH   2024-01-31 23:30 -02:00 = 2024-02-01 01:30 UTC, F
 *                            rib uncertain             / negative / negative   images: AP
 *   A4 NORTH   2024-02-15 C  rib positive healing right / negative / positive images: PA
 *   A5 GENHOSP 2024-02-20 P (provisional: left out)  rib positive / negative / negative  images: AP
 *   A6 GENHOSP 2024-03-05 F  negative / negative / negative   no image yet
 * Report labels are updated the day after the observation (A3: 2024-02-02).
 *
 * Pseudo-labels (teacher score; discordance threshold 0.5):
 *   v1, created 2024-02-01: 1.1 rib pos 0.85, 2.1 rib neg 0.15, 2.2 rib neg 0.65, 4.1 rib pos 0.45,
 *                           1.1 clavicle neg 0.05
 *   v2, created 2024-03-10: 1.1 rib pos 0.95, 2.2 rib neg 0.75, 4.1 rib pos 0.55, 2.1 clavicle pos 0.35
 *       created 2024-03-20: 2.1 rib neg 0.25, 4.1 clavicle neg 0.92
 * Models: v1 retired, v2 active, v3 candidate without metrics.
 * Distill jobs (added by the tests that need them, see insertDistillJobs).
 */
export const ANALYTICS_FACILITIES = ['GENHOSP', 'NORTH'] as const;

export async function createAnalyticsSchema(stack: TestStack, prefix = 'analytics'): Promise<TestSchema> {
  const db = await createTestSchema(stack, prefix);
  await migrateDatabase({ database: stack.databaseUrl, schema: db.schema });
  await insertAnalyticsData(db.pool);
  return db;
}

interface ReportRow {
  facility: string;
  accession: string;
  observedAt: string;
  updatedAt: string;
  status: 'P' | 'F' | 'C';
  labels: Record<'rib' | 'clavicle' | 'other', [string, string | null, string | null]>;
}

const NEG: [string, null, null] = ['negative', null, null];

const REPORTS: ReportRow[] = [
  {
    facility: 'GENHOSP',
    accession: 'A1',
    observedAt: '2024-01-10T09:00:00Z',
    updatedAt: '2024-01-11T09:00:00Z',
    status: 'F',
    labels: { rib: ['positive', 'acute', 'left'], clavicle: NEG, other: NEG },
  },
  {
    facility: 'GENHOSP',
    accession: 'A2',
    observedAt: '2024-01-20T09:00:00Z',
    updatedAt: '2024-01-21T09:00:00Z',
    status: 'F',
    labels: { rib: NEG, clavicle: ['positive', 'old', 'right'], other: NEG },
  },
  {
    facility: 'NORTH',
    accession: 'A3',
    observedAt: '2024-01-31T23:30:00-02:00',
    updatedAt: '2024-02-02T01:30:00Z',
    status: 'F',
    labels: { rib: ['uncertain', null, null], clavicle: NEG, other: NEG },
  },
  {
    facility: 'NORTH',
    accession: 'A4',
    observedAt: '2024-02-15T09:00:00Z',
    updatedAt: '2024-02-16T09:00:00Z',
    status: 'C',
    labels: { rib: ['positive', 'healing', 'right'], clavicle: NEG, other: ['positive', null, null] },
  },
  {
    facility: 'GENHOSP',
    accession: 'A5',
    observedAt: '2024-02-20T09:00:00Z',
    updatedAt: '2024-02-21T09:00:00Z',
    status: 'P',
    labels: { rib: ['positive', 'acute', 'right'], clavicle: NEG, other: NEG },
  },
  {
    facility: 'GENHOSP',
    accession: 'A6',
    observedAt: '2024-03-05T09:00:00Z',
    updatedAt: '2024-03-06T09:00:00Z',
    status: 'F',
    labels: { rib: NEG, clavicle: NEG, other: NEG },
  },
];

const IMAGES: Array<[sop: string, accession: string, view: string]> = [
  ['1.1', 'A1', 'PA'],
  ['2.1', 'A2', 'PA'],
  ['2.2', 'A2', 'AP'],
  ['3.1', 'A3', 'AP'],
  ['4.1', 'A4', 'PA'],
  ['5.1', 'A5', 'AP'],
];

const PSEUDO_LABELS: Array<
  [sop: string, cls: string, model: string, record: string, score: number, createdAt: string]
> = [
  ['1.1', 'rib', 'v1', 'positive', 0.85, '2024-02-01T00:00:00Z'],
  ['2.1', 'rib', 'v1', 'negative', 0.15, '2024-02-01T00:00:00Z'],
  ['2.2', 'rib', 'v1', 'negative', 0.65, '2024-02-01T00:00:00Z'],
  ['4.1', 'rib', 'v1', 'positive', 0.45, '2024-02-01T00:00:00Z'],
  ['1.1', 'clavicle', 'v1', 'negative', 0.05, '2024-02-01T00:00:00Z'],
  ['1.1', 'rib', 'v2', 'positive', 0.95, '2024-03-10T00:00:00Z'],
  ['2.2', 'rib', 'v2', 'negative', 0.75, '2024-03-10T00:00:00Z'],
  ['4.1', 'rib', 'v2', 'positive', 0.55, '2024-03-10T00:00:00Z'],
  ['2.1', 'clavicle', 'v2', 'positive', 0.35, '2024-03-10T00:00:00Z'],
  ['2.1', 'rib', 'v2', 'negative', 0.25, '2024-03-20T00:00:00Z'],
  ['4.1', 'clavicle', 'v2', 'negative', 0.92, '2024-03-20T00:00:00Z'],
];

export const MODEL_METRICS = {
  v1: { images: 40, rib: { auroc: 0.8, froc: 0.5 }, clavicle: { auroc: 0.7, froc: null } },
  v2: { images: 40, rib: { auroc: 0.85, froc: 0.6 }, clavicle: { auroc: 0.75, froc: 0.45 } },
};

export async function insertAnalyticsData(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // reports.reported_at (when the version was sent) comes with a later migration; fill it when present
    const { rowCount: hasReportedAt } = await client.query(
      `SELECT 1 FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = 'reports' AND column_name = 'reported_at'`,
    );
    const reportedAt = hasReportedAt ? ', reported_at' : '';
    for (const r of REPORTS) {
      const { rows } = await client.query(
        `INSERT INTO reports (sending_facility, accession, result_status, status_rank, provisional, observed_at,
           message_control_id, obr_index, patient_pseudonym, procedure_code, report_text${reportedAt})
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, 'XR CHEST', $9${hasReportedAt ? ', $6' : ''}) RETURNING id`,
        [
          r.facility,
          r.accession,
          r.status,
          { P: 1, F: 2, C: 3 }[r.status],
          r.status === 'P',
          r.observedAt,
          `MSG-${r.accession}`,
          `PSEUDONYM-${r.accession}`,
          `REPORT TEXT OF ${r.accession}`,
        ],
      );
      for (const [cls, [status, acuity, side]] of Object.entries(r.labels)) {
        await client.query(
          `INSERT INTO report_labels (report_id, class, status, acuity, side, rule_version, result_status,
             provisional, updated_at)
           VALUES ($1, $2, $3, $4, $5, '1.0.0', $6, $7, $8)`,
          [rows[0].id, cls, status, acuity, side, r.status, r.status === 'P', r.updatedAt],
        );
      }
      if (r.status !== 'P') {
        await client.query(
          `INSERT INTO study_record_labels (accession, sending_facility, report_status, status_rank, provisional,
             observed_at, message_control_id, obr_index, rule_version, rib_status, clavicle_status)
           VALUES ($1, $2, $3, $4, false, $5, $6, 1, '1.0.0', $7, $8)`,
          [
            r.accession,
            r.facility,
            r.status,
            { P: 1, F: 2, C: 3 }[r.status],
            r.observedAt,
            `MSG-${r.accession}`,
            r.labels.rib[0],
            r.labels.clavicle[0],
          ],
        );
      }
    }
    for (const [sop, accession, view] of IMAGES) {
      await client.query(
        `INSERT INTO images (sop_instance_uid, study_instance_uid, series_instance_uid, accession, modality,
           view_position, body_part_examined, rows, columns, bits_allocated, bits_stored, pixel_representation,
           photometric_interpretation, transfer_syntax_uid, uri, arrived_at, event_topic, event_partition,
           event_offset, event_value)
         VALUES ($1, $2, $3, $4, 'DX', $5, 'CHEST', 512, 512, 16, 12, 0, 'MONOCHROME2', '1.2.840.10008.1.2.1',
           $6, '2024-01-15T00:00:00Z', 'dicom.arrived', 0, 0, '\\x00')`,
        [sop, `STUDY-${accession}`, `SERIES-${accession}`, accession, view, `file:///dicom/${sop}.dcm`],
      );
    }
    for (const [sop, cls, model, record, score, createdAt] of PSEUDO_LABELS) {
      const accession = IMAGES.find((i) => i[0] === sop)![1];
      const report = REPORTS.find((r) => r.accession === accession)!;
      await client.query(
        `INSERT INTO pseudo_labels (sop_instance_uid, class, model_version, accession, record_status, target_method,
           aals_t, aals_a0, aals_eps, target, target_height, target_width, teacher_score, target_max, target_mean,
           positive_fraction, report_status, report_status_rank, report_observed_at, report_message_control_id,
           report_obr_index, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0.4, 4, 1e-6, '\\x00000000', 2, 2, $7, $7, 0.1, $8, $9, $10, $11, $12, 1, $13)`,
        [
          sop,
          cls,
          model,
          accession,
          record,
          record === 'positive' ? 'aals' : 'zero',
          score,
          record === 'positive' ? 0.25 : 0,
          report.status,
          { P: 1, F: 2, C: 3 }[report.status],
          report.observedAt,
          `MSG-${accession}`,
          createdAt,
        ],
      );
    }
    await client.query(
      `INSERT INTO model_versions (version, parent_version, metrics, status, created_at) VALUES
         ('v1', NULL, $1, 'retired', '2024-01-01T00:00:00Z'),
         ('v2', 'v1', $2, 'active', '2024-03-01T00:00:00Z'),
         ('v3', 'v2', NULL, 'candidate', '2024-03-25T00:00:00Z')`,
      [JSON.stringify(MODEL_METRICS.v1), JSON.stringify(MODEL_METRICS.v2)],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Distillation history: job 1 succeeded with watermark 2024-02-15 (trained v2), job 2 failed with
 * watermark 2024-03-15 (a failed job does not move the watermark).
 */
export async function insertDistillJobs(db: { query: (sql: string) => Promise<unknown> }): Promise<void> {
  await db.query(
    `INSERT INTO distill_jobs (status, requested_at, started_at, finished_at, label_watermark, label_counts, attempt,
       base_model_version, output_model_version, error) VALUES
       ('succeeded', '2024-02-15T00:00:00Z', '2024-02-15T00:01:00Z', '2024-02-15T02:00:00Z', '2024-02-15T00:00:00Z',
        '{"rib": 4, "clavicle": 1}', 1, 'v1', 'v2', NULL),
       ('failed', '2024-03-15T00:00:00Z', '2024-03-15T00:01:00Z', '2024-03-15T00:05:00Z', '2024-03-15T00:00:00Z',
        '{"rib": 3, "clavicle": 1}', 2, 'v2', NULL, 'out of memory')`,
  );
}
