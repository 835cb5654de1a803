import { hl7TimestampToIso, splitHl7, type Hl7Garbage, type OruReport } from '../shared/hl7/index.ts';
import { decodeHl7, UnknownEncodingError } from '../shared/hl7-transport/charset.ts';
import { NotHl7Error, readMshHeader, type MshHeader } from '../shared/hl7-transport/msh-header.ts';
import { pseudonymisePatientId } from '../shared/privacy/pseudonymise.ts';
import { isKeptStatus, isProvisional, statusRank, type ReportStatus } from './status-precedence.ts';

/** One Kafka record as the labeler sees it (transport-neutral). */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Record timestamp (ms since epoch): the fallback observation time when a report has none. */
  timestamp: number;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export interface ClassLabelLike {
  status: string;
  acuity: string | null | undefined;
  side: string | null | undefined;
  ribs: readonly number[] | null | undefined;
  evidence: unknown;
  /** The cue that made it negative or uncertain (report rules 1.2.0 on). */
  cue?: string | null;
  /** Every mention with its cue and trigger (report rules 1.2.0 on). */
  reasons?: unknown;
}

/** What the report rule engine gives (services/shared/report-rules ReportLabels, structurally). */
export interface ReportLabelsLike {
  rib: ClassLabelLike;
  clavicle: ClassLabelLike;
  other: ClassLabelLike;
  ruleVersion: string;
}

/** The domain functions extraction uses, injected so this module stays pure and testable. */
export interface ExtractionDeps {
  parseOruMessage(message: string): OruReport[];
  isChestRadiograph(procedureCode: string, procedureText: string): boolean;
  labelReport(text: string): ReportLabelsLike;
  hmacKey: string;
  maxMessageBytes: number;
  /** Longest report text labelled (default DEFAULT_MAX_REPORT_CHARS); longer ones are dead-lettered. */
  maxReportChars?: number;
}

/**
 * The rule engine's time grows with (findings in a sentence) x (sentence length): a corrupt or
 * hostile report of 1 MB of "fracture fracture ..." would hold the consumer for an hour (the fuzz
 * tests found it). Real radiograph reports are a few kB; 16 kB keeps the worst case near a second.
 */
export const DEFAULT_MAX_REPORT_CHARS = 16_384;

/** A report version ready to store: pseudonymised, labelled, with its precedence fields. */
export interface ReportVersion {
  /** Offset of the Kafka record it came from (redelivery detection). */
  sourceOffset: string;
  sendingFacility: string;
  messageControlId: string;
  obrIndex: number;
  accession: string;
  status: ReportStatus;
  statusRank: number;
  provisional: boolean;
  /** OBR-7, the exam's observation time (else the record time). */
  observedAt: Date;
  /** When this version was sent: MSH-7 (else OBR-7, else the record time); orders same-status versions. */
  reportedAt: Date;
  patientPseudonym: string;
  procedureCode: string;
  procedureText: string;
  hl7Version: string;
  text: string;
  labels: ReportLabelsLike;
}

export type DlqReason =
  | 'empty'
  | 'oversize'
  | 'not-hl7'
  | 'unknown-encoding'
  | 'parse-error'
  | 'no-accession'
  | 'no-patient-id'
  | 'report-too-long'
  | 'label-error'
  | 'multiple-messages';

/**
 * Lines of a record that are not HL7 segments (a garbage tail from a sender or a file): cut out
 * and reported on a dead letter of their own; the message without them is still labelled.
 */
export interface RecordGarbage {
  lines: Hl7Garbage[];
  detail: string;
}

export type Extraction = (
  | { outcome: 'stored'; header: MshHeader; versions: ReportVersion[] }
  | { outcome: 'skipped'; header: MshHeader; reason: string }
  | { outcome: 'dlq'; header?: MshHeader; reason: DlqReason; detail: string }
) & { garbage?: RecordGarbage };

function errorDetail(err: unknown): string {
  // error messages from our parsers name fields and positions, never values; cap the length anyway
  return `${(err as Error).name ?? 'Error'}: ${String((err as Error).message ?? err)}`.slice(0, 300);
}

function toDate(value: string | null, fallbackMs: number): Date {
  if (value) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return new Date(fallbackMs);
}

/**
 * Turns one raw record into what to do with it: store its chest radiograph report versions, skip it
 * (valid, but nothing we label), or dead-letter it with a reason. Never throws for bad input.
 */
export function extractRecord(record: RawRecord, deps: ExtractionDeps): Extraction {
  const value = record.value;
  if (!value || value.length === 0) return { outcome: 'dlq', reason: 'empty', detail: 'record has no value' };
  if (value.length > deps.maxMessageBytes) {
    return {
      outcome: 'dlq',
      reason: 'oversize',
      detail: `${value.length} bytes exceeds the limit of ${deps.maxMessageBytes}`,
    };
  }
  // One record is one message. Lines that are not HL7 segments (a garbage tail) are cut out by the
  // one splitter and reported on their own; the message is labelled without them.
  const split = splitHl7(value);
  if (split.messages.length > 1) {
    return {
      outcome: 'dlq',
      reason: 'multiple-messages',
      detail: `record holds ${split.messages.length} HL7 messages (MSH on lines ${split.messages.map((m) => m.line).join(', ')}); one record must be one message`,
    };
  }
  if (split.garbage.length === 0 || split.messages.length === 0) return extractMessage(record, value, deps);
  const garbage: RecordGarbage = {
    lines: split.garbage,
    detail: split.garbage
      .slice(0, 5)
      .map((g) => `line ${g.line} (offset ${g.offset}): ${g.problem}`)
      .concat(split.garbage.length > 5 ? [`and ${split.garbage.length - 5} more`] : [])
      .join('; '),
  };
  const result = extractMessage(record, split.messages[0]!.bytes, deps);
  return { ...result, garbage };
}

function extractMessage(record: RawRecord, raw: Buffer, deps: ExtractionDeps): Extraction {
  let header: MshHeader;
  let text: string;
  try {
    header = readMshHeader(raw);
  } catch (err) {
    if (err instanceof NotHl7Error) return { outcome: 'dlq', reason: 'not-hl7', detail: err.message };
    throw err;
  }
  try {
    text = decodeHl7(raw, header.characterSet);
  } catch (err) {
    if (err instanceof UnknownEncodingError) {
      return { outcome: 'dlq', header, reason: 'unknown-encoding', detail: err.message };
    }
    throw err;
  }
  let reports: OruReport[];
  try {
    reports = deps.parseOruMessage(text);
  } catch (err) {
    const detail = errorDetail(err);
    // Hl7ParseError says which field was wrong; the two missing identifiers get reasons of their own
    const field = (err as { location?: { field?: string } }).location?.field;
    const reason: DlqReason =
      field === 'OBR-3' || field === 'OBR-2'
        ? 'no-accession'
        : field === 'PID-3'
          ? 'no-patient-id'
          : 'parse-error';
    return { outcome: 'dlq', header, reason, detail };
  }
  if (reports.length === 0)
    return { outcome: 'dlq', header, reason: 'parse-error', detail: 'no OBR in message' };
  if (reports.some((r) => !r.accession?.trim())) {
    return {
      outcome: 'dlq',
      header,
      reason: 'no-accession',
      detail: 'an OBR has no accession number (OBR-18/OBR-3)',
    };
  }
  if (reports.some((r) => !r.patientId?.trim())) {
    return { outcome: 'dlq', header, reason: 'no-patient-id', detail: 'PID-3 is empty' };
  }

  const chest = reports.filter((r) => deps.isChestRadiograph(r.procedureCode ?? '', r.procedureText ?? ''));
  if (chest.length === 0) return { outcome: 'skipped', header, reason: 'not-chest-radiograph' };
  const kept = chest.filter((r) => isKeptStatus(r.resultStatus));
  if (kept.length === 0) {
    return { outcome: 'skipped', header, reason: `result-status-${chest[0]!.resultStatus || 'empty'}` };
  }

  const maxReportChars = deps.maxReportChars ?? DEFAULT_MAX_REPORT_CHARS;
  const tooLong = kept.find((r) => r.text.length > maxReportChars);
  if (tooLong) {
    return {
      outcome: 'dlq',
      header,
      reason: 'report-too-long',
      detail: `report text of ${tooLong.text.length} characters exceeds the limit of ${maxReportChars}`,
    };
  }
  const versions: ReportVersion[] = [];
  for (const r of kept) {
    let labels: ReportLabelsLike;
    try {
      labels = deps.labelReport(r.text);
    } catch (err) {
      return { outcome: 'dlq', header, reason: 'label-error', detail: errorDetail(err) };
    }
    const status = r.resultStatus as ReportStatus;
    versions.push({
      sourceOffset: record.offset,
      sendingFacility: r.sendingFacility || header.sendingFacility,
      messageControlId: r.messageControlId || header.messageControlId,
      obrIndex: r.obrIndex,
      accession: r.accession.trim(),
      status,
      statusRank: statusRank(status),
      provisional: isProvisional(status),
      observedAt: toDate(r.observedAt, record.timestamp),
      reportedAt: toDate(hl7TimestampToIso(header.messageDateTime) ?? r.observedAt, record.timestamp),
      patientPseudonym: pseudonymisePatientId(r.patientId, deps.hmacKey),
      procedureCode: r.procedureCode ?? '',
      procedureText: r.procedureText ?? '',
      hl7Version: r.hl7Version ?? '',
      text: r.text,
      labels,
    });
  }
  return { outcome: 'stored', header, versions };
}
