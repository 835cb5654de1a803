/**
 * `harvester label-reports` alone: the entry bin/harvester.js runs from a cached bundle, so a run
 * over a large export is not dominated by loading the whole CLI through tsx (bin/bundled.js).
 */
import { Command } from 'commander';
import { registerLabelReports } from './commands/label-reports-command.ts';
import { runProgram } from './run-program.ts';

const program = new Command().name('harvester').version('0.1.0').showHelpAfterError();
registerLabelReports(program);
await runProgram(program);
