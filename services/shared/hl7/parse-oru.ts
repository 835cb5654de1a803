import { Message, type HL7Node } from 'node-hl7-client';
import { Hl7ParseError } from './errors.ts';
import { decodeHl7Escapes, type Hl7Delimiters } from './escapes.ts';
import { RawSegment } from './raw-segment.ts';
import { hl7TimestampToIso } from './timestamp.ts';

/** One radiology report: one OBR group of an ORU^R01 message. */
export interface OruReport {
  messageControlId: string;
  sendingFacility: string;
  /** To be pseudonymised before storage; never logged. */
  patientId: string;
  accession: string;
  procedureCode: string | null;
  procedureText: string | null;
  /** OBR-7 as ISO 8601 at the precision sent. */
  observedAt: string | null;
  /** OBR-25: P, F, C, X ... */
  resultStatus: string;
  text: string;
  hl7Version: string;
  /** 0-based position of the OBR among the message's OBR segments. */
  obrIndex: number;
}

/** Observation value types that carry report text. */
const TEXT_TYPES = new Set(['TX', 'FT', 'ST']);
/** OBX-11 statuses whose value must not be used: deleted, or posted as wrong. */
const WITHDRAWN_OBX = new Set(['D', 'W']);
const SEGMENT_NAME = /^[A-Z][A-Z0-9]{2}$/;

interface Group {
  obr: RawSegment;
  segmentIndex: number;
  obx: Array<{ seg: RawSegment; segmentIndex: number }>;
}

/** The MSH fields every report of a message carries. */
interface MessageHeader {
  messageControlId: string;
  sendingFacility: string;
  hl7Version: string;
}

type FieldReader = (seg: RawSegment, field: number, component?: number) => string;

/** The message with MLLP bytes and line ends normalised, its delimiters, every line checked as a segment. */
function checkedSegmentText(message: string): { text: string; delimiters: Hl7Delimiters } {
  // eslint-disable-next-line no-control-regex -- MLLP block bytes left around a message
  const text = message.replace(/^[\s\x0b]+|[\s\x1c]+$/g, '').replace(/\r\n|\n/g, '\r');
  if (!text.startsWith('MSH')) {
    const name = text.slice(0, 3);
    if (text.length === 0) throw new Hl7ParseError('empty message');
    throw new Hl7ParseError(`message must begin with an MSH segment, found "${printable(name)}"`, {
      segmentIndex: 0,
    });
  }
  if (text.length < 8)
    throw new Hl7ParseError('MSH segment is truncated', { segment: 'MSH', segmentIndex: 0 });
  const delimiters: Hl7Delimiters = {
    field: text[3]!,
    component: text[4]!,
    repetition: text[5]!,
    escape: text[6]!,
    subcomponent: text[7]!,
  };
  const lines = text.split('\r');
  for (let i = 0; i < lines.length; i++) {
    const name = lines[i]!.slice(0, 3);
    if (!SEGMENT_NAME.test(name) || (lines[i]!.length > 3 && lines[i]![3] !== delimiters.field)) {
      throw new Hl7ParseError(`not an HL7 segment: starts with "${printable(lines[i]!.slice(0, 8))}"`, {
        segmentIndex: i,
      });
    }
  }

  return { text, delimiters };
}

function segmentsOf(text: string, delimiters: Hl7Delimiters): RawSegment[] {
  try {
    // node-hl7-client validates the message structure and yields its segments.
    const parsed = new Message({ text });
    return (parsed as unknown as { toArray(): HL7Node[] })
      .toArray()
      .map((seg) => new RawSegment(seg.toRaw(), delimiters));
  } catch (err) {
    throw new Hl7ParseError(`HL7 parser rejected the message: ${(err as Error).message}`);
  }
}

/** MSH-9 must be ORU^R01; MSH-10 and a 2.x MSH-12 are required. */
function messageHeader(msh: RawSegment, str: FieldReader): MessageHeader {
  const messageType = `${msh.component(9, 1)}^${msh.component(9, 2)}`;
  if (messageType !== 'ORU^R01') {
    throw new Hl7ParseError(`not an ORU^R01 message (MSH-9 is ${printable(messageType)})`, {
      segment: 'MSH',
      segmentIndex: 0,
      field: 'MSH-9',
    });
  }
  const messageControlId = str(msh, 10);
  if (!messageControlId) {
    throw new Hl7ParseError('message control id is empty', {
      segment: 'MSH',
      segmentIndex: 0,
      field: 'MSH-10',
    });
  }
  const hl7Version = str(msh, 12);
  if (!/^2\.\d+(?:\.\d+)?$/.test(hl7Version)) {
    throw new Hl7ParseError(`unsupported HL7 version "${printable(hl7Version)}" (2.x expected)`, {
      segment: 'MSH',
      segmentIndex: 0,
      field: 'MSH-12',
    });
  }
  // HD: namespace id, else universal id.
  const sendingFacility = str(msh, 4, 1) || str(msh, 4, 2);

  return { messageControlId, sendingFacility, hl7Version };
}

/** The patient id (PID-3, else PID-2) and the OBR groups with their OBX segments. */
function patientAndGroups(segments: RawSegment[], str: FieldReader): { patientId: string; groups: Group[] } {
  let patientId = '';
  const groups: Group[] = [];
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    switch (seg.name) {
      case 'PID':
        if (!patientId) patientId = str(seg, 3) || str(seg, 2);
        break;
      case 'OBR':
        groups.push({ obr: seg, segmentIndex: i, obx: [] });
        break;
      case 'OBX':
        // OBX before any OBR belongs to no report.
        groups[groups.length - 1]?.obx.push({ seg, segmentIndex: i });
        break;
    }
  }
  if (!patientId) {
    throw new Hl7ParseError('patient id is empty (PID-3, or PID-2 in older versions)', {
      segment: 'PID',
      field: 'PID-3',
    });
  }
  if (groups.length === 0)
    throw new Hl7ParseError('no OBR segment: an ORU^R01 needs at least one', { segment: 'OBR' });

  return { patientId, groups };
}

/** One OBR group as a report: accession, time, status, procedure and the text of its OBX. */
function reportOfGroup(
  g: Group,
  obrIndex: number,
  header: MessageHeader,
  patientId: string,
  str: FieldReader,
  delimiters: Hl7Delimiters,
): OruReport {
  const where = { segment: 'OBR', segmentIndex: g.segmentIndex };
  const accession = str(g.obr, 3) || str(g.obr, 2);
  if (!accession) {
    throw new Hl7ParseError('accession number is empty (OBR-3, falling back to OBR-2)', {
      ...where,
      field: 'OBR-3',
    });
  }
  const rawTime = str(g.obr, 7);
  let observedAt: string | null = null;
  if (rawTime) {
    const iso = hl7TimestampToIso(rawTime);
    if (iso === undefined) {
      throw new Hl7ParseError(`observation time "${printable(rawTime)}" is not an HL7 timestamp`, {
        ...where,
        field: 'OBR-7',
      });
    }
    observedAt = iso;
  }
  const parts: string[] = [];
  let firstObxStatus = '';
  for (const { seg } of g.obx) {
    const type = str(seg, 2).toUpperCase();
    if (!TEXT_TYPES.has(type)) continue;
    const status = str(seg, 11).toUpperCase();
    if (WITHDRAWN_OBX.has(status)) continue;
    if (!firstObxStatus) firstObxStatus = status;
    for (const rep of seg.repetitions(5)) parts.push(decodeHl7Escapes(rep, delimiters));
  }
  // OBR-25 is required in ORU; some senders only fill OBX-11, which has the same codes.
  const resultStatus = (str(g.obr, 25) || firstObxStatus).toUpperCase();
  if (!resultStatus) {
    throw new Hl7ParseError('result status is empty (OBR-25, and no OBX-11 to fall back on)', {
      ...where,
      field: 'OBR-25',
    });
  }
  const procedureCode = str(g.obr, 4, 1) || null;
  const procedureText = str(g.obr, 4, 2) || null;
  return {
    messageControlId: header.messageControlId,
    sendingFacility: header.sendingFacility,
    patientId,
    accession,
    procedureCode,
    procedureText,
    observedAt,
    resultStatus,
    text: parts.join('\n'),
    hl7Version: header.hl7Version,
    obrIndex,
  };
}

/**
 * Extracts the reports of an ORU^R01 message (HL7 v2.3 to v2.5.1; later 2.x versions use the same
 * fields). Several OBR groups give several reports; report text is every TX/FT/ST OBX of the
 * group in order, escapes decoded, repetitions and segments joined by newlines.
 * Throws Hl7ParseError saying what is wrong and where.
 */
export function parseOruMessage(message: string): OruReport[] {
  const { text, delimiters } = checkedSegmentText(message);
  const segments = segmentsOf(text, delimiters);
  const str: FieldReader = (seg, field, component = 1) =>
    decodeHl7Escapes(seg.component(field, component), delimiters).trim();
  const header = messageHeader(segments[0]!, str);
  const { patientId, groups } = patientAndGroups(segments, str);
  return groups.map((g, obrIndex) => reportOfGroup(g, obrIndex, header, patientId, str, delimiters));
}

/** Shows a short excerpt of structural text (never field values with patient data) safely. */
function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 20);
}
