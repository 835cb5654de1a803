/**
 * The join of an image with its study's record label, per detector class: pure, so every arrival
 * order (image first, report first, duplicates, a correction) is decided by one tested function.
 * The inputs are what Postgres holds now; the output says what to do for each class.
 */
import type { DetectorClass, LabelStatus } from '../shared/vocabulary.ts';
import { compareReportVersions, type ReportStatus } from '../shared/events/report-version-order.ts';

export type { ReportStatus };

/** What to do with a class the report calls uncertain (PAPER.md: excluded by default). */
export const UNCERTAIN_POLICIES = ['skip', 'as-negative', 'as-positive'] as const;
export type UncertainPolicy = (typeof UNCERTAIN_POLICIES)[number];

/** A report version's identity and precedence (the system-wide order, shared with the report-labeler). */
export interface ReportRef {
  status: ReportStatus;
  statusRank: number;
  /** OBR-7, the exam time: the same for every version of one exam, so it does not order them. */
  observedAt: Date;
  /** When the version was sent (MSH-7): orders versions of the same status. */
  reportedAt: Date;
  messageControlId: string;
  obrIndex: number;
}

/** The current record label of a study (study_record_labels). */
export interface StudyLabel extends ReportRef {
  accession: string;
  provisional: boolean;
  labels: Record<DetectorClass, LabelStatus>;
}

/** The stored pseudo-label of one (image, class) for the running teacher version. */
export interface ExistingPseudoLabel {
  report: ReportRef;
  eventPublished: boolean;
}

export interface JoinPolicy {
  uncertain: UncertainPolicy;
  acceptProvisional: boolean;
}

export type ClassAction =
  /** No usable report yet: the image waits in Postgres until one arrives. */
  | { kind: 'wait'; reason: 'no-report' | 'provisional' }
  /** Already labelled from this report version (a redelivery): publish only if not yet published. */
  | { kind: 'current'; publish: boolean }
  /** Run the teacher: a positive target (sharpened map) or an all-zero target. */
  | { kind: 'compute'; recordStatus: LabelStatus; target: 'positive' | 'negative'; supersedes: boolean }
  /** The label is uncertain and uncertain classes are skipped: nothing to store. */
  | { kind: 'skip' }
  /** The report changed to uncertain (skipped): the stored label goes to the history. */
  | { kind: 'withdraw' };

/** Negative when a precedes b, positive when a supersedes b, 0 for the same report version. */
export function compareReportRefs(a: ReportRef, b: ReportRef): number {
  return compareReportVersions(a, b);
}

/** The target a record status gets under the policy, or null when the class is skipped. */
export function targetKind(status: LabelStatus, uncertain: UncertainPolicy): 'positive' | 'negative' | null {
  if (status === 'positive') return 'positive';
  if (status === 'negative') return 'negative';
  if (uncertain === 'as-positive') return 'positive';
  if (uncertain === 'as-negative') return 'negative';
  return null;
}

/** What to do for one class of one image, given the study's label and the stored pseudo-label. */
export function decideClass(
  cls: DetectorClass,
  study: StudyLabel | null,
  existing: ExistingPseudoLabel | null,
  policy: JoinPolicy,
): ClassAction {
  if (!study) return { kind: 'wait', reason: 'no-report' };
  if (study.provisional && !policy.acceptProvisional) return { kind: 'wait', reason: 'provisional' };
  // a stored label from this version or a later one (the report row only moves forward) stands
  if (existing && compareReportRefs(existing.report, study) >= 0) {
    return { kind: 'current', publish: !existing.eventPublished };
  }
  const status = study.labels[cls];
  const target = targetKind(status, policy.uncertain);
  if (target === null) return existing ? { kind: 'withdraw' } : { kind: 'skip' };
  return { kind: 'compute', recordStatus: status, target, supersedes: existing !== null };
}

/** decideClass for every detector class of an image. */
export function decideImage(
  study: StudyLabel | null,
  existing: Partial<Record<DetectorClass, ExistingPseudoLabel>>,
  policy: JoinPolicy,
): Record<DetectorClass, ClassAction> {
  return {
    rib: decideClass('rib', study, existing.rib ?? null, policy),
    clavicle: decideClass('clavicle', study, existing.clavicle ?? null, policy),
  };
}
