import { FailureError } from '../errors.ts';
/**
 * Reads the few MSH fields that transport needs (message key, character set) straight from the raw
 * bytes, before the message is decoded: MSH is ASCII in every HL7 v2 character set we accept, and a
 * message whose header cannot be read this way is not one we can route.
 */
export interface MshHeader {
  fieldSeparator: string;
  componentSeparator: string;
  /** MSH-2 as sent (component, repetition, escape, subcomponent characters). */
  encodingCharacters: string;
  /** MSH-3, all components as sent. */
  sendingApplication: string;
  /** MSH-4, all components as sent. */
  sendingFacility: string;
  /** MSH-5 and MSH-6, as sent (an ACK swaps them with MSH-3 and MSH-4). */
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-9 components: message code (ORU), trigger event (R01), '' when absent. */
  messageCode: string;
  triggerEvent: string;
  /** MSH-7 as sent (an HL7 timestamp), '' when absent. */
  messageDateTime: string;
  /** MSH-10. */
  messageControlId: string;
  /** MSH-11 (first component: P, T, D) and MSH-12 (first component, e.g. 2.5.1), '' when absent. */
  processingId: string;
  versionId: string;
  /** MSH-18 (first repetition), '' when absent. */
  characterSet: string;
}

/** Why a record is not an HL7 v2 message at all. */
export class NotHl7Error extends FailureError {}

// MSH is within the first kilobyte of any sane message; bounding the scan keeps binary input cheap.
const HEADER_SCAN_BYTES = 4096;

export function readMshHeader(raw: Buffer): MshHeader {
  let start = 0;
  // tolerate MLLP framing (VT ... FS CR) and leading whitespace from files
  while (
    start < raw.length &&
    (raw[start] === 0x0b || raw[start] === 0x0a || raw[start] === 0x0d || raw[start] === 0x20)
  ) {
    start++;
  }
  if (raw.length - start < 8 || raw.toString('latin1', start, start + 3) !== 'MSH') {
    throw new NotHl7Error('does not start with an MSH segment');
  }
  const head = raw.toString('latin1', start, Math.min(raw.length, start + HEADER_SCAN_BYTES));
  const segmentEnd = head.search(/[\r\n]/);
  const msh = segmentEnd >= 0 ? head.slice(0, segmentEnd) : head;
  const fieldSeparator = msh[3]!;
  const encodingChars = msh.slice(
    4,
    msh.indexOf(fieldSeparator, 4) >= 0 ? msh.indexOf(fieldSeparator, 4) : undefined,
  );
  if (/[A-Za-z0-9\s]/.test(fieldSeparator) || encodingChars.length < 3) {
    throw new NotHl7Error('MSH has no valid field separator and encoding characters');
  }
  // MSH-1 is the separator itself, so after splitting, fields[n - 1] is MSH-n (fields[1] = MSH-2).
  const fields = msh.split(fieldSeparator);
  const field = (n: number) => fields[n - 1] ?? '';
  const repetition = encodingChars[1]!;
  const firstComponent = (n: number) => field(n).split(encodingChars[0]!)[0]!.trim();
  const messageType = field(9).split(encodingChars[0]!);
  return {
    fieldSeparator,
    componentSeparator: encodingChars[0]!,
    encodingCharacters: encodingChars,
    sendingApplication: field(3),
    sendingFacility: field(4),
    receivingApplication: field(5),
    receivingFacility: field(6),
    messageCode: (messageType[0] ?? '').trim(),
    triggerEvent: (messageType[1] ?? '').trim(),
    messageDateTime: field(7).split(encodingChars[0]!)[0]!.trim(),
    messageControlId: field(10),
    processingId: firstComponent(11),
    versionId: firstComponent(12),
    characterSet: field(18).split(repetition)[0]!.trim(),
  };
}

/** The Kafka key of a raw HL7 message on hl7.oru.raw: MSH-4 and MSH-10 joined by '|'. */
export function hl7MessageKey(header: Pick<MshHeader, 'sendingFacility' | 'messageControlId'>): string {
  // '|' is HL7's default field separator, so it cannot occur inside a field's value
  return `${header.sendingFacility}|${header.messageControlId}`;
}
