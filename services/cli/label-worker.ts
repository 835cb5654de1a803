/**
 * A `harvester label-reports` helper thread: labels the slice of reports it is sent and answers
 * with their output lines, in chunks so the main thread can write while it works.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { defaultRules } from '../shared/report-rules/compile.ts';
import { labelReport } from '../shared/report-rules/label-report.ts';
import { outputLine } from './commands/label-output.ts';

const rulesPath = (workerData as { rules?: string }).rules;
const rules = rulesPath
  ? (await import('../shared/report-rules/load-rules.ts')).loadRules(rulesPath)
  : defaultRules();
const CHUNK = 2000;

parentPort!.on('message', ({ ids, texts }: { ids: string[]; texts: string[] }) => {
  for (let from = 0; from < ids.length; from += CHUNK) {
    let out = '';
    const to = Math.min(ids.length, from + CHUNK);
    for (let i = from; i < to; i++) out += outputLine(ids[i]!, labelReport(texts[i]!, rules)) + '\n';
    parentPort!.postMessage({ out, done: to === ids.length });
  }
  if (ids.length === 0) parentPort!.postMessage({ out: '', done: true });
});
