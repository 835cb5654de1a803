/**
 * Rule engine scaling with the number of findings in one sentence (and in one long text): time to
 * label one text, best of a few runs, one thread. Linear growth means doubling findings doubles ms.
 *   npm run bench:rules:scaling [-- --max 4000]
 */
import { parseArgs } from 'node:util';
import { defaultRules, labelReport } from '../services/shared/report-rules/index.ts';

const { values } = parseArgs({ options: { max: { type: 'string', default: '4000' } } });
const max = Number(values.max);
const rules = defaultRules();

/** One sentence, n findings: plain, and mixed with bones, sides, acuity and triggers. */
const shapes: Array<[string, (n: number) => string]> = [
  ['fracture x n', (n) => 'fracture '.repeat(n)],
  [
    'mixed phrase x n',
    (n) => 'healed left 5th rib fracture and no acute fracture of the right clavicle, '.repeat(n / 2),
  ],
  ['n sentences (mixed)', (n) => 'Old left 6th rib fracture. No acute clavicle fracture. '.repeat(n / 2)],
];

function timeMs(text: string): number {
  let best = Infinity;
  const runs = text.length > 100_000 ? 1 : 3;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    labelReport(text, rules);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

// Warm-up so the JIT has compiled the hot paths before the first row.
for (const [, make] of shapes) labelReport(make(250), rules);
const sizes = [250, 500, 1000, 2000, 4000].filter((n) => n <= max);
console.log(`report rules ${rules.version}: ms to label one text (best of 3, one run above 100 kB)`);
console.log(`| findings | ${shapes.map(([name]) => name).join(' | ')} |`);
console.log(`|---|${shapes.map(() => '---|').join('')}`);
for (const n of sizes) {
  console.log(`| ${n} | ${shapes.map(([, make]) => timeMs(make(n)).toFixed(1)).join(' | ')} |`);
}
