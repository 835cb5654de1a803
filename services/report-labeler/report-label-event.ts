/** Builds the labels.report event of a stored report version (no report text travels). */
import type { ClassLabelEvent, ReportLabelEvent } from '../shared/events/report-label-event.ts';
import type { ClassLabelLike, ReportVersion } from './extract.ts';

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
