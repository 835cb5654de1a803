/**
 * A `harvester label-reports` helper thread: labels the batches of finding reports it is sent and
 * can still claim, answering with their output lines (services/cli/commands/label-batches.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { defaultRules } from '../shared/report-rules/compile.ts';
import { labelReport } from '../shared/report-rules/label-report.ts';
import { helperLoop, type FromHelper, type ToHelper } from './commands/label-batches.ts';
import { outputLine } from './commands/label-output.ts';

const rulesPath = (workerData as { rules?: string }).rules;
const rules = rulesPath
  ? (await import('../shared/report-rules/load-rules.ts')).loadRules(rulesPath)
  : defaultRules();

const onMessage = helperLoop(
  (id, text) => outputLine(id, labelReport(text, rules)),
  (m: FromHelper) => parentPort!.postMessage(m),
);
parentPort!.on('message', (m: ToHelper) => onMessage(m));
