/**
 * Which version of a report wins: the system-wide order of services/shared/events/report-version-order.ts
 * (status P < F < C, then MSH-7, then MSH-10, then OBR index). Postgres applies the same order in the
 * upsert (reports.status_rank, reported_at, message_control_id, obr_index).
 */
import {
  compareReportVersions,
  isReportStatus,
  reportStatusRank,
  type ReportStatus,
  type ReportVersionOrder,
} from '../shared/events/report-version-order.ts';

export type { ReportStatus };
export type VersionOrder = ReportVersionOrder;

export function isKeptStatus(status: string): status is ReportStatus {
  return isReportStatus(status);
}

export function statusRank(status: ReportStatus): number {
  return reportStatusRank(status);
}

/** P is stored but marked provisional: a final report is expected to follow. */
export function isProvisional(status: ReportStatus): boolean {
  return status === 'P';
}

/** Negative when a precedes b, positive when a supersedes b, 0 for the same version. */
export const compareVersions = compareReportVersions;

export function supersedes(candidate: VersionOrder, current: VersionOrder): boolean {
  return compareVersions(candidate, current) > 0;
}
