import type { MshHeader } from '../shared/hl7-transport/msh-header.ts';

/** HL7 acknowledgment codes (table 0008, original mode). */
export type AckCode = 'AA' | 'AE' | 'AR';

/** HL7 table 0357 error conditions the gateway reports in ERR-3. */
export const HL7_ERRORS = {
  segmentSequence: { code: '100', text: 'Segment sequence error' },
  requiredFieldMissing: { code: '101', text: 'Required field missing' },
  tableValueNotFound: { code: '103', text: 'Table value not found' },
  unsupportedMessageType: { code: '200', text: 'Unsupported message type' },
  unsupportedEventCode: { code: '201', text: 'Unsupported event code' },
  applicationError: { code: '207', text: 'Application internal error' },
} as const;

export type Hl7ErrorCondition = (typeof HL7_ERRORS)[keyof typeof HL7_ERRORS];

export interface AckError {
  condition: Hl7ErrorCondition;
  /** Why, for the sender's interface analyst (no patient data: it is logged on their side). */
  detail: string;
}

/** What an ACK needs of the message it answers; defaults stand in when the MSH was unreadable. */
export type AckedHeader = Pick<
  MshHeader,
  | 'fieldSeparator'
  | 'encodingCharacters'
  | 'sendingApplication'
  | 'sendingFacility'
  | 'receivingApplication'
  | 'receivingFacility'
  | 'triggerEvent'
  | 'messageControlId'
  | 'processingId'
  | 'versionId'
>;

export const UNKNOWN_HEADER: AckedHeader = {
  fieldSeparator: '|',
  encodingCharacters: '^~\\&',
  sendingApplication: '',
  sendingFacility: '',
  receivingApplication: '',
  receivingFacility: '',
  triggerEvent: '',
  messageControlId: '',
  processingId: 'P',
  versionId: '2.5.1',
};

/** HL7 timestamp YYYYMMDDHHMMSS+0000 in UTC. */
export function hl7Timestamp(now: Date): string {
  return `${now.toISOString().replace(/[-:T]/g, '').slice(0, 14)}+0000`;
}

/** Escapes text for a field with the message's own separators (HL7 escape sequences). */
function escapeText(text: string, header: AckedHeader): string {
  const [component, repetition, escape, subcomponent] = header.encodingCharacters;
  const map: Record<string, string> = {
    [escape ?? '\\']: 'E',
    [header.fieldSeparator]: 'F',
    [component ?? '^']: 'S',
    [repetition ?? '~']: 'R',
    [subcomponent ?? '&']: 'T',
  };
  const e = escape ?? '\\';
  return [...text.replace(/[\r\n]+/g, ' ')].map((c) => (map[c] ? `${e}${map[c]}${e}` : c)).join('');
}

/**
 * An original-mode ACK for one message: MSH (sender and receiver swapped, MSH-9 ACK^<event>^ACK),
 * MSA (code, the message's MSH-10, text), and for AE/AR an ERR with the table 0357 condition and
 * the detail. Segments end with CR; the caller frames it.
 */
export function buildAck(
  header: AckedHeader,
  code: AckCode,
  ackControlId: string,
  now: Date,
  error?: AckError,
): string {
  const f = header.fieldSeparator;
  const c = header.encodingCharacters[0] ?? '^';
  const msh = [
    'MSH',
    header.encodingCharacters,
    header.receivingApplication,
    header.receivingFacility,
    header.sendingApplication,
    header.sendingFacility,
    hl7Timestamp(now),
    '',
    ['ACK', header.triggerEvent, 'ACK'].join(c),
    ackControlId,
    header.processingId || 'P',
    header.versionId || '2.5.1',
  ].join(f);
  const text = error ? escapeText(error.detail, header).slice(0, 200) : '';
  const msa = ['MSA', code, header.messageControlId, ...(text ? [text] : [])].join(f);
  const segments = [msh, msa];
  if (error) {
    const condition = [error.condition.code, error.condition.text, 'HL70357'].join(c);
    // ERR-2 location left empty, ERR-3 condition, ERR-4 severity E, ERR-8 user message
    segments.push(['ERR', '', '', condition, 'E', '', '', '', text].join(f));
  }
  return `${segments.join('\r')}\r`;
}

/**
 * The answer to a batch (BHS ... BTS): a batch of ACKs, one per message in order, as HL7 v2 batch
 * protocol allows, so a sender can match each message's outcome.
 */
export function buildBatchAck(
  batchHeader: AckedHeader,
  acks: string[],
  batchControlId: string,
  now: Date,
): string {
  const f = batchHeader.fieldSeparator;
  const bhs = [
    'BHS',
    batchHeader.encodingCharacters,
    batchHeader.receivingApplication,
    batchHeader.receivingFacility,
    batchHeader.sendingApplication,
    batchHeader.sendingFacility,
    hl7Timestamp(now),
    '',
    '',
    '',
    batchControlId,
    batchHeader.messageControlId,
  ].join(f);
  return `${bhs}\r${acks.join('')}${['BTS', String(acks.length)].join(f)}\r`;
}
