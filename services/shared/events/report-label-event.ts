/** The labels.report event (schemas/ReportLabel.avsc) as JavaScript values: the contract its producer and consumers share. */
export interface ReportLabelEvent {
  accession: string;
  sendingFacility: string;
  messageControlId: string;
  obrIndex: number;
  reportStatus: 'P' | 'F' | 'C';
  provisional: boolean;
  observedAt: number;
  patientPseudonym: string;
  procedureCode: string | null;
  ruleVersion: string;
  rib: ClassLabelEvent;
  clavicle: ClassLabelEvent;
  other: ClassLabelEvent;
  labelledAt: number;
  /** MSH-7 of the version (epoch ms); optional in the schema (added after the first version). */
  reportedAt?: number | null;
}

export interface ClassLabelEvent {
  status: string;
  acuity: string | null;
  side: string | null;
  ribs: number[];
  /** negation, hedge, history, hardware or conditional; null when positive or not mentioned (default). */
  cue?: string | null;
}
