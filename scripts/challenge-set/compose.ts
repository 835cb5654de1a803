/**
 * Writes one batch of the challenge set (JSON lines on stdout) from the hand-written templates in
 * this folder. Labels come from what each template says, by the labelling rules of
 * shared/data/openi-dev/README.md and services/shared/report-rules/README.md; the rule engine is
 * never imported. A batch is appended to test/fixtures/report-rules/challenge.jsonl and committed
 * before `npm run eval:challenge` is first run on it.
 *   npx tsx scripts/challenge-set/compose.ts --batch b05 [--count 260] [--seed 5]
 */
import { parseArgs } from 'node:util';
import { hedgeBatch } from './batch-hedges.ts';
import { historyBatch } from './batch-history.ts';
import { mixedBatch } from './batch-mixed.ts';
import { reportBatch } from './batch-reports.ts';
import { scopeBatch } from './batch-scope.ts';
import { sectionsBatch } from './batch-sections.ts';
import { Rng, type LabelledCase } from './phrases.ts';

const BATCHES: Record<string, (rng: Rng, batch: string, count: number) => LabelledCase[]> = {
  b05: hedgeBatch,
  b06: historyBatch,
  b07: sectionsBatch,
  b08: scopeBatch,
  b09: mixedBatch,
  b10: reportBatch,
  b11: reportBatch,
  b12: reportBatch,
  b13: reportBatch,
  b14: reportBatch,
  b15: reportBatch,
};

const { values } = parseArgs({
  options: {
    batch: { type: 'string' },
    count: { type: 'string', default: '260' },
    seed: { type: 'string' },
  },
});
const make = BATCHES[values.batch ?? ''];
if (!make) {
  console.error(`--batch must be one of ${Object.keys(BATCHES).join(', ')}`);
  process.exit(2);
}
const seed = Number(values.seed ?? values.batch!.replace(/\D/g, ''));
const cases = make(new Rng(seed * 7919 + 17), values.batch!, Number(values.count));
const seen = new Set<string>();
for (const c of cases) {
  // The same text twice would count one decision twice.
  if (seen.has(c.text)) continue;
  seen.add(c.text);
  process.stdout.write(JSON.stringify(c) + '\n');
}
