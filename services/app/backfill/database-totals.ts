import type pg from 'pg';
import type { Counts } from './counts.ts';

/** What the database holds after a backfill (all sources, not only this run). */
export interface DatabaseTotals {
  reports: number;
  /** Current report labels by "class/status", e.g. "rib/positive". */
  labels: Counts;
  images: number;
  imagesFailed: number;
  /** Usable images whose study has no report label yet. */
  imagesWaitingForReport: number;
  /** Pseudo-labels of the teacher version by "class/target method". */
  pseudoLabels: Counts;
}

const counts = (rows: Array<{ k: string; n: string }>): Counts =>
  Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));

export async function databaseTotals(db: pg.Pool, modelVersion: string): Promise<DatabaseTotals> {
  const [reports, labels, images, pseudo] = await Promise.all([
    db.query<{ n: string }>('SELECT count(*) AS n FROM reports'),
    db.query<{ k: string; n: string }>(
      `SELECT class || '/' || status AS k, count(*) AS n FROM report_labels GROUP BY 1 ORDER BY 1`,
    ),
    db.query<{ total: string; failed: string; waiting: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE failed_reason IS NOT NULL) AS failed,
         count(*) FILTER (WHERE failed_reason IS NULL AND NOT EXISTS
           (SELECT 1 FROM study_record_labels s WHERE s.accession = i.accession)) AS waiting
       FROM images i`,
    ),
    db.query<{ k: string; n: string }>(
      `SELECT class || '/' || target_method AS k, count(*) AS n FROM pseudo_labels
       WHERE model_version = $1 GROUP BY 1 ORDER BY 1`,
      [modelVersion],
    ),
  ]);
  return {
    reports: Number(reports.rows[0]!.n),
    labels: counts(labels.rows),
    images: Number(images.rows[0]!.total),
    imagesFailed: Number(images.rows[0]!.failed),
    imagesWaitingForReport: Number(images.rows[0]!.waiting),
    pseudoLabels: counts(pseudo.rows),
  };
}
