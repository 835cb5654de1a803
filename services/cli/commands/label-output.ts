import type { ClassLabel, Evidence, LabelReason, ReportLabels } from '../../shared/report-rules/index.ts';

/**
 * `harvester label-reports` output lines, written by hand rather than by JSON.stringify of the
 * label objects (the same text, key for key: test/unit/cli/label-output.test.ts): on a large
 * export the serialising is a good part of the time. Enum values (status, acuity, side, cue) need
 * no escaping; every other string goes through JSON.stringify.
 */

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

const word = (w: string | null): string => (w === null ? 'null' : `"${w}"`);

function spanJson(e: Evidence): string {
  return `{"start":${e.start},"end":${e.end},"text":${JSON.stringify(e.text)}}`;
}

function reasonJson(r: LabelReason): string {
  return (
    `{"status":"${r.status}","cue":${word(r.cue)},"finding":${spanJson(r.finding)},` +
    `"trigger":${r.trigger ? spanJson(r.trigger) : 'null'},"section":${r.section === null ? 'null' : JSON.stringify(r.section)},` +
    `"decided":${r.decided}}`
  );
}

function classJson(c: ClassLabel): string {
  if (c.status === 'negative' && c.reasons.length === 0 && c.evidence.length === 0) return NEGATIVE_JSON;
  return (
    `{"status":"${c.status}","acuity":${word(c.acuity)},"side":${word(c.side)},"ribs":[${c.ribs.join(',')}],` +
    `"evidence":[${c.evidence.map(spanJson).join(',')}],"cue":${word(c.cue)},"reasons":[${c.reasons.map(reasonJson).join(',')}]}`
  );
}

/** One `harvester label-reports` output line: {"id","rib","clavicle","other","ruleVersion"}. */
export function outputLine(id: string, l: ReportLabels): string {
  return `{"id":${JSON.stringify(id)},"rib":${classJson(l.rib)},"clavicle":${classJson(l.clavicle)},"other":${classJson(l.other)},"ruleVersion":${JSON.stringify(l.ruleVersion)}}`;
}
