import type { DetectorClass, LabelStatus } from '../shared/vocabulary.ts';
import type { ReportLabelEvent } from '../shared/events/report-label-event.ts';
import type { DicomArrivedEvent } from '../shared/events/dicom-arrived.ts';
import { isReportStatus, reportStatusRank } from '../shared/events/report-version-order.ts';
import type { StudyLabel } from './join-decision.ts';
import { UnusableEventError } from '../shared/events/decode-event.ts';

export type { DicomArrivedEvent, ReportLabelEvent };

/** The PseudoLabelCreated Avro record (schemas/PseudoLabelCreated.avsc). */
export interface PseudoLabelCreatedEvent {
  sopInstanceUid: string;
  accession: string;
  class: DetectorClass;
  modelVersion: string;
  recordLabel: LabelStatus;
  reportStatus: string | null;
  aals: { t: number; a0: number; eps: number };
  stats: {
    height: number;
    width: number;
    teacherMax: number;
    targetMean: number;
    targetMax: number;
    positiveFraction: number;
  };
  createdAt: number;
}

/** A DicomArrived record with where it came from (kept with the image for a later DLQ). */
export interface ImageArrival {
  event: DicomArrivedEvent;
  topic: string;
  partition: number;
  offset: string;
  value: Buffer;
}

export { decodeEvent, UnusableEventError } from '../shared/events/decode-event.ts';

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

/** Checks what the join needs of a DicomArrived (Avro already guarantees the types). */
export function checkDicomArrived(event: unknown): DicomArrivedEvent {
  const e = event as Partial<DicomArrivedEvent> | null;
  if (!e || typeof e !== 'object') throw new UnusableEventError('invalid-event', 'not a DicomArrived record');
  for (const field of [
    'sopInstanceUid',
    'studyInstanceUid',
    'seriesInstanceUid',
    'accession',
    'uri',
  ] as const) {
    if (!nonEmpty(e[field])) throw new UnusableEventError('invalid-event', `DicomArrived.${field} is empty`);
  }
  if (!(Number(e.rows) > 0 && Number(e.columns) > 0)) {
    throw new UnusableEventError('invalid-event', 'DicomArrived rows and columns must be positive');
  }
  return e as DicomArrivedEvent;
}

const STATUSES = new Set(['positive', 'negative', 'uncertain']);

/** A ReportLabel event as the join's StudyLabel; throws UnusableEventError when it cannot be used. */
export function studyLabelFromEvent(
  event: unknown,
): StudyLabel & { sendingFacility: string; ruleVersion: string } {
  const e = event as Partial<ReportLabelEvent> | null;
  if (!e || typeof e !== 'object') throw new UnusableEventError('invalid-event', 'not a ReportLabel record');
  if (!nonEmpty(e.accession)) throw new UnusableEventError('invalid-event', 'ReportLabel.accession is empty');
  const status = e.reportStatus ?? '';
  if (!isReportStatus(status))
    throw new UnusableEventError('invalid-event', 'ReportLabel.reportStatus is not P, F or C');
  for (const cls of ['rib', 'clavicle'] as const) {
    if (!STATUSES.has(e[cls]?.status ?? '')) {
      throw new UnusableEventError('invalid-event', `ReportLabel.${cls}.status is missing`);
    }
  }
  const observedAt = new Date(Number(e.observedAt));
  return {
    accession: e.accession,
    sendingFacility: e.sendingFacility ?? '',
    ruleVersion: e.ruleVersion ?? '',
    status,
    statusRank: reportStatusRank(status),
    provisional: Boolean(e.provisional),
    observedAt,
    // events written before ReportLabel carried reportedAt: OBR-7, as the report-labeler's own fallback
    reportedAt: e.reportedAt == null ? observedAt : new Date(Number(e.reportedAt)),
    messageControlId: e.messageControlId ?? '',
    obrIndex: Number(e.obrIndex ?? 0),
    labels: { rib: e.rib!.status as LabelStatus, clavicle: e.clavicle!.status as LabelStatus },
  };
}
