import type { ReportStatus } from '../vocabulary.ts';
/**
 * Which version of a report wins: the one rule for the whole system (the report-labeler's reports
 * row, the pseudo-labeler's study_record_labels and pseudo_labels). OBR-25 result status ranks
 * P (preliminary) < F (final) < C (corrected); between versions of the same status the one sent later
 * (MSH-7, reportedAt) wins, so a second correction supersedes the first even though both carry the
 * exam's time in OBR-7; MSH-10 and the OBR's index break remaining ties deterministically. The order
 * is total, so whatever order versions arrive in, every store converges on the same version.
 * Postgres applies the same order as the row comparison
 * (status_rank, reported_at, message_control_id COLLATE "C", obr_index).
 */
export type { ReportStatus };

export const REPORT_STATUS_RANKS: Readonly<Record<ReportStatus, number>> = { P: 1, F: 2, C: 3 };

export function isReportStatus(status: string): status is ReportStatus {
  return status === 'P' || status === 'F' || status === 'C';
}

export function reportStatusRank(status: ReportStatus): number {
  return REPORT_STATUS_RANKS[status];
}

/** What orders one report version against another. */
export interface ReportVersionOrder {
  status: ReportStatus;
  /** When the version was sent: MSH-7, else OBR-7, else the Kafka record time. */
  reportedAt: Date;
  messageControlId: string;
  obrIndex: number;
}

/** Negative when a precedes b, positive when a supersedes b, 0 for the same version. */
export function compareReportVersions(a: ReportVersionOrder, b: ReportVersionOrder): number {
  const byRank = reportStatusRank(a.status) - reportStatusRank(b.status);
  if (byRank !== 0) return byRank;
  const byTime = a.reportedAt.getTime() - b.reportedAt.getTime();
  if (byTime !== 0) return byTime;
  // Postgres compares text with the database collation; the columns use code-point order (COLLATE "C")
  if (a.messageControlId !== b.messageControlId) return a.messageControlId < b.messageControlId ? -1 : 1;
  return a.obrIndex - b.obrIndex;
}

/** The winning version among several (the first of equals), or undefined for none. */
export function latestReportVersion<T extends ReportVersionOrder>(versions: Iterable<T>): T | undefined {
  let best: T | undefined;
  for (const v of versions) if (best === undefined || compareReportVersions(v, best) > 0) best = v;
  return best;
}
