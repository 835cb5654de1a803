import type { ClassLabelLike } from './extract.ts';
import type { ReportVersion } from './extract.ts';

/** The ReportLabel Avro record (schemas/ReportLabel.avsc) as JavaScript values. */
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

function classLabel(label: ClassLabelLike): ClassLabelEvent {
  // evidence (report excerpts) stays in Postgres: events carry no report text
  return {
    status: label.status,
    acuity: label.acuity ?? null,
    side: label.side ?? null,
    ribs: [...(label.ribs ?? [])],
    cue: label.cue ?? null,
  };
}

export function reportLabelEvent(version: ReportVersion, labelledAt: Date): ReportLabelEvent {
  return {
    accession: version.accession,
    sendingFacility: version.sendingFacility,
    messageControlId: version.messageControlId,
    obrIndex: version.obrIndex,
    reportStatus: version.status,
    provisional: version.provisional,
    observedAt: version.observedAt.getTime(),
    patientPseudonym: version.patientPseudonym,
    procedureCode: version.procedureCode || null,
    ruleVersion: version.labels.ruleVersion,
    rib: classLabel(version.labels.rib),
    clavicle: classLabel(version.labels.clavicle),
    other: classLabel(version.labels.other),
    labelledAt: labelledAt.getTime(),
    reportedAt: version.reportedAt.getTime(),
  };
}
