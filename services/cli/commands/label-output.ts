import type { ClassLabel, ReportLabels } from '../../shared/report-rules/index.ts';

/** A class label nothing mentioned, as JSON (most lines): built once. */
const NEGATIVE_JSON = JSON.stringify({
  status: 'negative',
  acuity: null,
  side: null,
  ribs: [],
  evidence: [],
  cue: null,
  reasons: [],
});

function classJson(c: ClassLabel): string {
  if (c.status === 'negative' && c.reasons.length === 0 && c.evidence.length === 0) return NEGATIVE_JSON;
  return JSON.stringify({
    status: c.status,
    acuity: c.acuity,
    side: c.side,
    ribs: c.ribs,
    evidence: c.evidence,
    cue: c.cue,
    reasons: c.reasons,
  });
}

/** One `harvester label-reports` output line: {"id","rib","clavicle","other","ruleVersion"}. */
export function outputLine(id: string, l: ReportLabels): string {
  return `{"id":${JSON.stringify(id)},"rib":${classJson(l.rib)},"clavicle":${classJson(l.clavicle)},"other":${classJson(l.other)},"ruleVersion":${JSON.stringify(l.ruleVersion)}}`;
}
