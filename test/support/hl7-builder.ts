/**
 * Builds HL7 v2.5.1 ORU^R01 radiology report messages for tests and benchmarks: one OBR group per
 * report, report text in TX OBX segments, segments separated by CR. Values are escaped, so report
 * text may contain any character.
 */
export interface OruSpec {
  messageControlId: string;
  sendingFacility?: string;
  patientId?: string;
  /** Empty string builds a message without an accession (for DLQ tests). */
  accession: string;
  /** OBR-25: P, F, C, X ... */
  status: string;
  /** OBR-4 code and text; the default is a PA/lateral chest radiograph. */
  procedureCode?: string;
  procedureText?: string;
  /** OBR-7 as an HL7 timestamp, e.g. 20240105103000+0000. */
  observedAt?: string;
  /** MSH-7 (when the message was sent); defaults to observedAt. */
  messageTime?: string;
  text: string;
  /** MSH-18 character set, e.g. 8859/1 or UNICODE UTF-8. */
  characterSet?: string;
}

export const CHEST_PROCEDURE = { code: '71046', text: 'XR CHEST 2 VIEWS' };
export const NON_CHEST_PROCEDURE = { code: '73630', text: 'XR FOOT 3+ VIEWS' };

function escapeHl7(value: string): string {
  return value
    .replace(/\\/g, '\\E\\')
    .replace(/\|/g, '\\F\\')
    .replace(/\^/g, '\\S\\')
    .replace(/~/g, '\\R\\')
    .replace(/&/g, '\\T\\');
}

export function buildOruMessage(spec: OruSpec): string {
  const facility = spec.sendingFacility ?? 'GENHOSP';
  const observedAt = spec.observedAt ?? '20240105103000+0000';
  const code = spec.procedureCode ?? CHEST_PROCEDURE.code;
  const procText = spec.procedureText ?? CHEST_PROCEDURE.text;
  const segments = [
    `MSH|^~\\&|RIS|${facility}|HARVESTER|RESEARCH|${spec.messageTime ?? observedAt}||ORU^R01^ORU_R01|${spec.messageControlId}|P|2.5.1||||||${spec.characterSet ?? ''}`,
    `PID|1||${spec.patientId ?? 'MRN0001'}^^^${facility}^MR||DOE^JANE||19700101|F`,
    `OBR|1|${spec.accession}|${spec.accession}|${code}^${escapeHl7(procText)}^CPT|||${observedAt}|||||||||||||||${observedAt}|CR|${spec.status}`,
    ...spec.text
      .split('\n')
      .map(
        (line, i) =>
          `OBX|${i + 1}|TX|${code}^${escapeHl7(procText)}^CPT||${escapeHl7(line)}||||||${spec.status}`,
      ),
  ];
  return segments.join('\r') + '\r';
}

export const FINDINGS = {
  ribPositive:
    'FINDINGS: Acute fracture of the left 6th rib. Lungs are clear.\nIMPRESSION: Acute left 6th rib fracture.',
  clavicleOld:
    'FINDINGS: Old healed fracture of the right clavicle. No acute fracture.\nIMPRESSION: No acute abnormality.',
  normal: 'FINDINGS: The lungs are clear. No fracture is seen.\nIMPRESSION: Normal chest radiograph.',
  uncertain:
    'FINDINGS: Possible fracture of the right 4th rib, cannot be excluded.\nIMPRESSION: Possible right rib fracture.',
};
