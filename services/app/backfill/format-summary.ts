import type { BackfillSummary } from './backfill.ts';
import { total, type Counts } from './counts.ts';

const list = (counts: Counts): string => {
  const entries = Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '' : ` (${entries.map(([k, v]) => `${k} ${v}`).join(', ')})`;
};

/** The end-of-run summary: what this run did, then what the database holds. */
export function formatBackfillSummary(s: BackfillSummary): string {
  const r = s.reports;
  const i = s.images;
  const p = s.pseudoLabels;
  const t = s.totals;
  const lines = [
    `backfill ${s.interrupted ? 'INTERRUPTED (run the same command again to resume)' : 'finished'} in ${s.seconds.toFixed(1)} s; teacher ${s.modelVersion}`,
    'this run:',
    `  HL7 messages   ${r.messages} in ${r.files} file(s): ${r.stored} stored (${r.versions} report versions), ` +
      `${total(r.skipped)} skipped${list(r.skipped)}, ${total(r.failed)} failed${list(r.failed)}, ` +
      `${r.alreadyDone} already done`,
    `  DICOM files    ${i.files}: ${i.recorded} recorded, ${total(i.skipped)} skipped${list(i.skipped)}, ` +
      `${total(i.failed)} failed${list(i.failed)}, ${i.alreadyDone} already done`,
    `  pseudo-labels  ${total(p.written)} written${list(p.written)} for ${p.inferred} image(s) of ${p.studies} study(ies); ` +
      `${total(p.failed)} image(s) failed${list(p.failed)}` +
      (p.superseded + p.withdrawn + p.stale > 0
        ? `; ${p.superseded} superseded, ${p.withdrawn} withdrawn, ${p.stale} not written (newer label stored)`
        : ''),
    'in the database:',
    `  reports        ${t.reports}; labels by class/status${list(t.labels)}`,
    `  images         ${t.images} (${t.imagesFailed} failed, ${t.imagesWaitingForReport} waiting for a report)`,
    `  pseudo-labels  ${total(t.pseudoLabels)} of ${s.modelVersion}${list(t.pseudoLabels)}`,
  ];
  return lines.join('\n');
}
