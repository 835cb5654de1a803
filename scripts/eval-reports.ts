/**
 * Scores the report rule engine against hand-labelled reports (default: the Open-i dev half):
 * precision/recall/F1 for rib and clavicle, positive vs rest and positive-or-uncertain vs negative,
 * plus confusion matrices and acuity/side agreement.
 *   npm run eval:reports [-- --data DIR] [-- --rules LOCAL.json] [-- --errors]
 */
import type { LabelStatus } from '../services/shared/vocabulary.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labelReport, loadRules, type ReportLabels } from '../services/shared/report-rules/index.ts';
import { readCsvRecords, reportTextFromColumns } from '../services/shared/report-rules/report-csv.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: join(import.meta.dirname, '../../shared/data/openi-dev') },
    rules: { type: 'string' },
    errors: { type: 'boolean', default: false },
    split: { type: 'string' },
  },
});
const dataDir = values.data!;
const rules = loadRules(values.rules);

interface Gold {
  uid: string;
  rib: { status: LabelStatus; acuity: string | null; side: string | null };
  clavicle: { status: LabelStatus; acuity: string | null; side: string | null };
  other: { status: LabelStatus };
}

const gold = new Map<string, Gold>();
for (const line of readFileSync(join(dataDir, 'labels.jsonl'), 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const g = JSON.parse(line) as Gold & { uid: number | string };
  gold.set(String(g.uid), { ...g, uid: String(g.uid) });
}

const csv = readFileSync(join(dataDir, 'reports.csv'), 'utf8');
let header: string[] = [];
const rows: Array<{ uid: string; text: string }> = [];
for (const rec of readCsvRecords(csv)) {
  if ('error' in rec) throw new Error(`reports.csv line ${rec.line}: ${rec.error}`);
  if (rec.row === 0) {
    header = rec.fields.map((h) => h.trim().toLowerCase());
    continue;
  }
  const get = (c: string): string | undefined => rec.fields[header.indexOf(c)];
  rows.push({ uid: get('uid') ?? '', text: reportTextFromColumns(get) });
}

// --split even|odd scores half of the rows (by position) to check generalisation while developing.
const selected = values.split
  ? rows.filter((_, i) => (values.split === 'even' ? i % 2 === 0 : i % 2 === 1))
  : rows;

type Cls = 'rib' | 'clavicle' | 'other';
const STATUSES: LabelStatus[] = ['positive', 'uncertain', 'negative'];
const results: Array<{ uid: string; text: string; pred: ReportLabels; gold: Gold }> = [];
for (const r of selected) {
  const g = gold.get(r.uid);
  if (!g) throw new Error(`no label for uid ${r.uid}`);
  results.push({ uid: r.uid, text: r.text, pred: labelReport(r.text, rules), gold: g });
}

function prf(
  cls: Cls,
  isPos: (s: LabelStatus) => boolean,
): { p: number; r: number; f: number; tp: number; fp: number; fn: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const x of results) {
    const p = isPos(x.pred[cls].status);
    const g = isPos(x.gold[cls].status);
    if (p && g) tp++;
    else if (p) fp++;
    else if (g) fn++;
  }
  const p = tp + fp ? tp / (tp + fp) : 1;
  const r = tp + fn ? tp / (tp + fn) : 1;
  return { p, r, f: p + r ? (2 * p * r) / (p + r) : 0, tp, fp, fn };
}

const f3 = (x: number): string => x.toFixed(3);
console.log(
  `Rule version ${rules.version}; ${results.length} reports from ${dataDir}${values.split ? ` (split ${values.split})` : ''}`,
);
console.log('');
console.log('| class | task | precision | recall | F1 | TP | FP | FN |');
console.log('|---|---|---|---|---|---|---|---|');
for (const cls of ['rib', 'clavicle', 'other'] as const) {
  for (const [task, fn] of [
    ['positive vs rest', (s: LabelStatus) => s === 'positive'],
    ['positive or uncertain vs negative', (s: LabelStatus) => s !== 'negative'],
  ] as const) {
    const m = prf(cls, fn);
    console.log(`| ${cls} | ${task} | ${f3(m.p)} | ${f3(m.r)} | ${f3(m.f)} | ${m.tp} | ${m.fp} | ${m.fn} |`);
  }
}
console.log('');
for (const cls of ['rib', 'clavicle', 'other'] as const) {
  console.log(`Confusion, ${cls} (rows gold, columns predicted: positive / uncertain / negative)`);
  for (const g of STATUSES) {
    const counts = STATUSES.map(
      (p) => results.filter((x) => x.gold[cls].status === g && x.pred[cls].status === p).length,
    );
    console.log(`  ${g.padEnd(9)} ${counts.map((c) => String(c).padStart(5)).join(' ')}`);
  }
}
console.log('');
for (const cls of ['rib', 'clavicle'] as const) {
  const both = results.filter(
    (x) => x.gold[cls].status !== 'negative' && x.pred[cls].status === x.gold[cls].status,
  );
  const acu = both.filter((x) => x.pred[cls].acuity === x.gold[cls].acuity).length;
  const side = both.filter((x) => x.pred[cls].side === x.gold[cls].side).length;
  console.log(
    `${cls}: where status agrees and is not negative (${both.length}): acuity agrees ${acu}, side agrees ${side}`,
  );
}

if (values.errors) {
  console.log('');
  for (const x of results) {
    for (const cls of ['rib', 'clavicle', 'other'] as const) {
      const p = x.pred[cls];
      const g = x.gold[cls] as { status: LabelStatus; acuity?: string | null; side?: string | null };
      const statusWrong = p.status !== g.status;
      const attrWrong =
        !statusWrong &&
        cls !== 'other' &&
        p.status !== 'negative' &&
        (p.acuity !== g.acuity || p.side !== g.side);
      if (statusWrong || attrWrong) {
        console.log(
          `uid ${x.uid} ${cls}: gold ${g.status}/${g.acuity ?? '-'}/${g.side ?? '-'} predicted ${p.status}/${p.acuity ?? '-'}/${p.side ?? '-'} ribs ${JSON.stringify(p.ribs)}`,
        );
        for (const e of p.evidence) console.log(`    evidence: ${e.text}`);
        if (p.evidence.length === 0) console.log(`    text: ${x.text.replace(/\n/g, ' | ')}`);
      }
    }
  }
}
