/**
 * Scores the report rule engine on the hand-written challenge set
 * (test/fixtures/report-rules/challenge.jsonl: report snippets labelled by the Open-i labelling
 * rules, written without looking at the dev reports), to see how the rules generalise.
 *   npm run eval:challenge [-- --file FILE] [-- --rules LOCAL.json] [-- --batch b05[,b06]] [-- --errors]
 * Cases carry the batch they were written in ("batch"; the first 395 have none: "b01-04"); a
 * batch is scored on its own with --batch, and a one-line summary per batch ends the output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labelReport, loadRules } from '../services/shared/report-rules/index.ts';
import { parseLabelledCases, scoreLabels } from '../services/shared/report-rules/score-labels.ts';

const { values } = parseArgs({
  options: {
    file: {
      type: 'string',
      default: join(import.meta.dirname, '../test/fixtures/report-rules/challenge.jsonl'),
    },
    rules: { type: 'string' },
    errors: { type: 'boolean', default: false },
    batch: { type: 'string' },
  },
});
const rules = loadRules(values.rules);
const batchOf = (c: { batch?: unknown }): string => (typeof c.batch === 'string' ? c.batch : 'b01-04');
const allCases = parseLabelledCases(readFileSync(values.file!, 'utf8'));
const wanted = values.batch?.split(',').map((b) => b.trim());
const cases = wanted ? allCases.filter((c) => wanted.includes(batchOf(c))) : allCases;
if (cases.length === 0) {
  console.error(
    `no cases in batch ${values.batch} (have: ${[...new Set(allCases.map(batchOf))].join(', ')})`,
  );
  process.exit(2);
}
const preds = new Map(cases.map((c) => [c.id, labelReport(c.text, rules)]));
const score = scoreLabels(cases.map((gold) => ({ gold, pred: preds.get(gold.id)! })));

const f3 = (x: number): string => x.toFixed(3);
console.log(
  `Rule version ${rules.version}; ${score.cases} challenge cases from ${values.file}${wanted ? ` (batch ${wanted.join(', ')})` : ''}`,
);
console.log('');
console.log('| class | task | precision | recall | F1 | TP | FP | FN |');
console.log('|---|---|---|---|---|---|---|---|');
for (const cls of ['rib', 'clavicle', 'other'] as const) {
  for (const [task, m] of [
    ['positive vs rest', score[cls].positive],
    ['positive or uncertain vs negative', score[cls].positiveOrUncertain],
  ] as const) {
    console.log(
      `| ${cls} | ${task} | ${f3(m.precision)} | ${f3(m.recall)} | ${f3(m.f1)} | ${m.tp} | ${m.fp} | ${m.fn} |`,
    );
  }
}
console.log('');
for (const cls of ['rib', 'clavicle', 'other'] as const) {
  const s = score[cls];
  console.log(
    `Confusion, ${cls} (rows gold, columns predicted: positive / uncertain / negative); status accuracy ${f3(s.statusAccuracy)}`,
  );
  (['positive', 'uncertain', 'negative'] as const).forEach((g, i) =>
    console.log(`  ${g.padEnd(9)} ${s.confusion[i]!.map((c) => String(c).padStart(5)).join(' ')}`),
  );
}
console.log('');
for (const cls of ['rib', 'clavicle'] as const) {
  const s = score[cls];
  console.log(
    `${cls}: where status agrees and is not negative (${s.agreeing}): acuity agrees ${s.acuityAgrees}, side agrees ${s.sideAgrees}`,
  );
}
console.log(
  `rib numbers: ${score.ribNumbersAgree} of ${score.ribNumbersChecked} agree (cases with stated numbers)`,
);

console.log('');
console.log(
  '| batch | cases | rib pos F1 | rib pos-or-unc F1 | clavicle pos F1 | clavicle pos-or-unc F1 | other status acc. | status errors rib/clav/other |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const b of [...new Set(cases.map(batchOf))]) {
  const s = scoreLabels(
    cases.filter((c) => batchOf(c) === b).map((gold) => ({ gold, pred: preds.get(gold.id)! })),
  );
  const errs = (cls: 'rib' | 'clavicle' | 'other'): number =>
    s[cls].confusion.reduce((n, row, i) => n + row.reduce((m, v, j) => m + (i === j ? 0 : v), 0), 0);
  console.log(
    `| ${b} | ${s.cases} | ${f3(s.rib.positive.f1)} | ${f3(s.rib.positiveOrUncertain.f1)} | ${f3(s.clavicle.positive.f1)} | ${f3(s.clavicle.positiveOrUncertain.f1)} | ${f3(s.other.statusAccuracy)} | ${errs('rib')} / ${errs('clavicle')} / ${errs('other')} |`,
  );
}

if (values.errors) {
  console.log('');
  const byId = new Map(cases.map((c) => [c.id, c]));
  for (const m of score.mismatches) {
    console.log(`${m.id} ${m.cls}: gold ${m.gold} predicted ${m.predicted}`);
    console.log(`    ${byId.get(m.id)!.text.replace(/\n/g, ' | ')}`);
  }
}
