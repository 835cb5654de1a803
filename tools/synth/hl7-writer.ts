import type { ReportStatus } from '../../services/shared/vocabulary.ts';
/**
 * HL7 v2.5.1 ORU^R01 messages for radiology reports, as a RIS sends them: MSH, PID, PV1, ORC,
 * OBR (accession in OBR-3, procedure in OBR-4, observation time in OBR-7, status in OBR-25) and
 * one OBX TX segment per report line. Segments end with CR.
 */

export interface OruMessageInput {
  messageControlId: string;
  /** UTC epoch milliseconds */
  messageTime: number;
  sendingApplication: string;
  sendingFacility: string;
  patientId: string;
  patientFamily: string;
  patientGiven: string;
  birthDate: string;
  sex: 'M' | 'F';
  patientClass: 'E' | 'I' | 'O';
  placerOrder: string;
  accession: string;
  procedureCode: string;
  procedureText: string;
  observationTime: number;
  reportTime: number;
  /** XCN (id^family^given^^^prefix), already encoded: components are kept */
  orderingProvider: string;
  /** XCN, already encoded */
  interpreter: string;
  clinicalInfo: string;
  status: ReportStatus;
  lines: string[];
}

/** HL7 escapes for the default delimiters |^~\& (the escape character first). */
export function escapeHl7(text: string): string {
  return text.replace(/[\\|^~&\r\n]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\E\\';
      case '|':
        return '\\F\\';
      case '^':
        return '\\S\\';
      case '~':
        return '\\R\\';
      case '&':
        return '\\T\\';
      default:
        return '\\.br\\';
    }
  });
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** YYYYMMDDHHMMSS in UTC (the synthetic hospital runs on UTC; no wall clock involved). */
export function hl7Timestamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

function segment(fields: string[]): string {
  // Trailing empty fields are dropped, as senders do.
  let end = fields.length;
  while (end > 1 && fields[end - 1] === '') end--;
  return fields.slice(0, end).join('|');
}

export function buildOruMessage(m: OruMessageInput): string {
  const e = escapeHl7;
  const status = m.status;
  const obr = new Array<string>(26).fill('');
  obr[0] = 'OBR';
  obr[1] = '1';
  obr[2] = e(m.placerOrder);
  obr[3] = e(m.accession);
  obr[4] = `${e(m.procedureCode)}^${e(m.procedureText)}^CPT`;
  obr[7] = hl7Timestamp(m.observationTime);
  obr[13] = e(m.clinicalInfo);
  obr[16] = m.orderingProvider; // XCN components, already HL7-encoded
  obr[22] = hl7Timestamp(m.reportTime);
  obr[24] = 'RAD';
  obr[25] = status;
  const segs = [
    segment([
      'MSH',
      '^~\\&',
      e(m.sendingApplication),
      e(m.sendingFacility),
      'HARVESTER',
      'FH',
      hl7Timestamp(m.messageTime),
      '',
      'ORU^R01^ORU_R01',
      e(m.messageControlId),
      'P',
      '2.5.1',
    ]),
    segment([
      'PID',
      '1',
      '',
      `${e(m.patientId)}^^^${e(m.sendingFacility)}^MR`,
      '',
      `${e(m.patientFamily)}^${e(m.patientGiven)}`,
      '',
      m.birthDate,
      m.sex,
    ]),
    segment(['PV1', '1', m.patientClass, `RAD^^^${e(m.sendingFacility)}`, '', '', '', m.orderingProvider]),
    segment(['ORC', 'RE', e(m.placerOrder), e(m.accession), '', status === 'P' ? 'IP' : 'CM']),
    segment(obr),
  ];
  m.lines.forEach((line, i) => {
    segs.push(
      segment([
        'OBX',
        String(i + 1),
        'TX',
        `${e(m.procedureCode)}^${e(m.procedureText)}^CPT`,
        '1',
        e(line),
        '',
        '',
        '',
        '',
        '',
        status,
        '',
        '',
        hl7Timestamp(m.reportTime),
        '',
        m.interpreter,
      ]),
    );
  });
  return segs.join('\r') + '\r';
}
