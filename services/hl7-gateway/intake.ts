import { decodeHl7, UnknownEncodingError } from '../shared/hl7-transport/charset.ts';
import {
  hl7MessageKey,
  NotHl7Error,
  readMshHeader,
  type MshHeader,
} from '../shared/hl7-transport/msh-header.ts';
import { HL7_ERRORS, UNKNOWN_HEADER, type AckCode, type AckedHeader, type AckError } from './ack.ts';

/** What the gateway accepts (from its configuration). */
export interface IntakeRules {
  /** MSH-9 message^event pairs accepted, e.g. ORU^R01; an entry without an event accepts any. */
  acceptedTypes: ReadonlyArray<{ code: string; event?: string }>;
  maxMessageBytes: number;
}

export type IntakeDecision =
  | { accept: true; header: MshHeader; key: string }
  | {
      accept: false;
      header: AckedHeader;
      code: Exclude<AckCode, 'AA'>;
      reason: RefusalReason;
      error: AckError;
    };

/** Counter labels of refused messages. */
export type RefusalReason =
  | 'not-hl7'
  | 'not-mllp'
  | 'too-large'
  | 'wrong-message-type'
  | 'no-control-id'
  | 'unsupported-charset'
  | 'malformed-batch';

export function refusal(
  header: AckedHeader,
  reason: RefusalReason,
  error: AckError,
  code: 'AE' | 'AR' = 'AR',
): IntakeDecision & { accept: false } {
  return { accept: false, header, code, reason, error };
}

/** Parses "ORU^R01,ORM" into accepted types. */
export function parseAcceptedTypes(list: string): Array<{ code: string; event?: string }> {
  return list
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      const [code, event] = t.split('^');
      return event
        ? { code: code!.toUpperCase(), event: event.toUpperCase() }
        : { code: code!.toUpperCase() };
    });
}

/**
 * Decides whether one HL7 message can go to the raw topic. Refused (AR, with the table 0357
 * condition): not HL7, over the size limit, a type the labelers do not read, no MSH-10 (the key and
 * the labelers' idempotency need it), a character set the labelers cannot decode faithfully.
 */
export function checkMessage(raw: Buffer, rules: IntakeRules): IntakeDecision {
  let header: MshHeader;
  try {
    header = readMshHeader(raw);
  } catch (err) {
    if (!(err instanceof NotHl7Error)) throw err;
    return refusal(UNKNOWN_HEADER, 'not-hl7', {
      condition: HL7_ERRORS.segmentSequence,
      detail: `not an HL7 v2 message: ${err.message}`,
    });
  }
  if (raw.length > rules.maxMessageBytes) {
    return refusal(header, 'too-large', {
      condition: HL7_ERRORS.applicationError,
      detail: `message of ${raw.length} bytes is over the gateway's limit of ${rules.maxMessageBytes} bytes`,
    });
  }
  const code = header.messageCode.toUpperCase();
  const event = header.triggerEvent.toUpperCase();
  const typeAccepted = rules.acceptedTypes.some((t) => t.code === code && (!t.event || t.event === event));
  if (!typeAccepted) {
    const codeKnown = rules.acceptedTypes.some((t) => t.code === code);
    return refusal(header, 'wrong-message-type', {
      condition: codeKnown ? HL7_ERRORS.unsupportedEventCode : HL7_ERRORS.unsupportedMessageType,
      detail: `message type ${code || '(empty)'}^${event || '(empty)'} is not accepted here (accepted: ${rules.acceptedTypes
        .map((t) => (t.event ? `${t.code}^${t.event}` : t.code))
        .join(', ')})`,
    });
  }
  if (!header.messageControlId.trim()) {
    return refusal(header, 'no-control-id', {
      condition: HL7_ERRORS.requiredFieldMissing,
      detail: 'MSH-10 (message control id) is empty',
    });
  }
  try {
    decodeHl7(raw, header.characterSet);
  } catch (err) {
    if (!(err instanceof UnknownEncodingError)) throw err;
    return refusal(header, 'unsupported-charset', {
      condition: HL7_ERRORS.tableValueNotFound,
      detail: `MSH-18: ${err.message}`,
    });
  }
  return { accept: true, header, key: hl7MessageKey(header) };
}

/** One MLLP payload: a single message, or a batch (FHS/BHS ... BTS/FTS) of them. */
export type Payload =
  { kind: 'message'; bytes: Buffer } | { kind: 'batch'; header: AckedHeader; messages: Buffer[] };

const ENVELOPE = new Set(['FHS', 'FTS', 'BHS', 'BTS']);

/**
 * Splits a payload that starts with FHS or BHS into its messages (each MSH up to the next MSH or
 * envelope segment, bytes unchanged); anything else is one message. Segment terminators may be CR,
 * LF or CRLF; a message keeps the terminators it was sent with.
 */
export function splitPayload(bytes: Buffer): Payload {
  const start = bytes.subarray(0, 3).toString('latin1');
  if (start !== 'FHS' && start !== 'BHS') return { kind: 'message', bytes };
  const text = bytes.toString('latin1');
  const segments: Array<{ name: string; from: number; to: number }> = [];
  const re = /[^\r\n]+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    segments.push({ name: m[0].slice(0, 3), from: m.index, to: m.index + m[0].length });
  }
  const header = envelopeHeader(text.slice(segments[0]!.from, segments[0]!.to));
  const messages: Buffer[] = [];
  let current: { from: number; to: number } | null = null;
  const close = () => {
    if (current) messages.push(bytes.subarray(current.from, terminatorEnd(text, current.to)));
    current = null;
  };
  for (const s of segments) {
    if (ENVELOPE.has(s.name)) close();
    else if (s.name === 'MSH') {
      close();
      current = { from: s.from, to: s.to };
    } else if (current) current.to = s.to;
  }
  close();
  return { kind: 'batch', header, messages };
}

function terminatorEnd(text: string, end: number): number {
  if (text[end] === '\r' && text[end + 1] === '\n') return end + 2;
  if (text[end] === '\r' || text[end] === '\n') return end + 1;
  return end;
}

/** BHS/FHS fields 3-6 and 11 have the MSH's layout for what a batch ACK needs. */
function envelopeHeader(segment: string): AckedHeader {
  const fieldSeparator = segment[3] ?? '|';
  const fields = segment.split(fieldSeparator);
  const field = (n: number) => fields[n - 1] ?? '';
  return {
    ...UNKNOWN_HEADER,
    fieldSeparator,
    encodingCharacters: field(2) || UNKNOWN_HEADER.encodingCharacters,
    sendingApplication: field(3),
    sendingFacility: field(4),
    receivingApplication: field(5),
    receivingFacility: field(6),
    messageControlId: field(11),
  };
}
