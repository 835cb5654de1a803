/**
 * Rule engine speed: reports per second on one core over the dev reports (Open-i, 1,924),
 * labelled again and again for a few seconds after a warm-up; best and median of 5 rounds.
 *   npm run bench:rules [-- --data DIR] [-- --seconds N]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultRules, labelReport } from '../services/shared/report-rules/index.ts';
import { readCsvRecords, reportTextFromColumns } from '../services/shared/report-rules/report-csv.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: join(import.meta.dirname, '../../shared/data/openi-dev') },
    seconds: { type: 'string', default: '2' },
  },
});
const roundMs = Number(values.seconds) * 1000;

let header: string[] = [];
const texts: string[] = [];
for (const rec of readCsvRecords(readFileSync(join(values.data!, 'reports.csv'), 'utf8'))) {
  if ('error' in rec) throw new Error(rec.error);
  if (rec.row === 0) header = rec.fields.map((h) => h.toLowerCase());
  else texts.push(reportTextFromColumns((c) => rec.fields[header.indexOf(c)]));
}
const rules = defaultRules();
const chars = texts.reduce((n, t) => n + t.length, 0);

let sink = 0;
function pass(): void {
  for (const t of texts) sink += labelReport(t, rules).rib.evidence.length;
}
// Warm-up so the JIT has compiled the hot paths.
for (let i = 0; i < 50; i++) pass();

const rates: number[] = [];
for (let round = 0; round < 5; round++) {
  let n = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < roundMs) {
    pass();
    n += texts.length;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  rates.push(n / (elapsed / 1000));
}
rates.sort((a, b) => a - b);
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
console.log(
  `report rules ${rules.version}: ${texts.length} reports (mean ${Math.round(chars / texts.length)} chars), 5 rounds of ${values.seconds}s, one thread`,
);
console.log(`reports/s: median ${fmt(rates[2]!)}, best ${fmt(rates[4]!)}, worst ${fmt(rates[0]!)}`);
if (sink < 0) console.log(sink);
