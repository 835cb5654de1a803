/**
 * Which version of a report wins. OBR-25 result status ranks P (preliminary) < F (final) <
 * C (corrected); between versions of the same status the one sent later (MSH-7) wins, so a second
 * correction supersedes the first; MSH-10 and the OBR's index break remaining ties deterministically. The order is total, so whatever order
 * versions arrive in, the stored report converges on the same version. Postgres applies the same
 * order in the upsert (reports.status_rank, reported_at, message_control_id, obr_index).
 */
export type ReportStatus = 'P' | 'F' | 'C';

const RANKS: Record<ReportStatus, number> = { P: 1, F: 2, C: 3 };

export function isKeptStatus(status: string): status is ReportStatus {
  return status === 'P' || status === 'F' || status === 'C';
}

export function statusRank(status: ReportStatus): number {
  return RANKS[status];
}

/** P is stored but marked provisional: a final report is expected to follow. */
export function isProvisional(status: ReportStatus): boolean {
  return status === 'P';
}

export interface VersionOrder {
  status: ReportStatus;
  /** When the version was sent: MSH-7, else OBR-7, else the Kafka record time. */
  reportedAt: Date;
  messageControlId: string;
  obrIndex: number;
}

/** Negative when a precedes b, positive when a supersedes b, 0 for the same version. */
export function compareVersions(a: VersionOrder, b: VersionOrder): number {
  const byRank = statusRank(a.status) - statusRank(b.status);
  if (byRank !== 0) return byRank;
  const byTime = a.reportedAt.getTime() - b.reportedAt.getTime();
  if (byTime !== 0) return byTime;
  // Postgres compares text with the database collation; use code-point order there too (COLLATE "C")
  if (a.messageControlId !== b.messageControlId) return a.messageControlId < b.messageControlId ? -1 : 1;
  return a.obrIndex - b.obrIndex;
}

export function supersedes(candidate: VersionOrder, current: VersionOrder): boolean {
  return compareVersions(candidate, current) > 0;
}
