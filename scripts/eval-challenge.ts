/**
 * Scores the report rule engine on the hand-written challenge set
 * (test/fixtures/report-rules/challenge.jsonl: report snippets labelled by the Open-i labelling
 * rules, written without looking at the dev reports), to see how the rules generalise.
 *   npm run eval:challenge [-- --file FILE] [-- --rules LOCAL.json] [-- --errors]
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
  },
});
const rules = loadRules(values.rules);
const cases = parseLabelledCases(readFileSync(values.file!, 'utf8'));
const score = scoreLabels(cases.map((gold) => ({ gold, pred: labelReport(gold.text, rules) })));

const f3 = (x: number): string => x.toFixed(3);
console.log(`Rule version ${rules.version}; ${score.cases} challenge cases from ${values.file}`);
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

if (values.errors) {
  console.log('');
  const byId = new Map(cases.map((c) => [c.id, c]));
  for (const m of score.mismatches) {
    console.log(`${m.id} ${m.cls}: gold ${m.gold} predicted ${m.predicted}`);
    console.log(`    ${byId.get(m.id)!.text.replace(/\n/g, ' | ')}`);
  }
}
