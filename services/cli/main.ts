import { Command } from 'commander';
import { registerCommands } from './commands/index.ts';
import { runProgram } from './run-program.ts';

const program = new Command();
program
  .name('harvester')
  .description(
    'fracture-harvester: hospital HL7 reports and DICOM arrivals in, fracture training labels out\n' +
      '(report rules, teacher inference, AALS pseudo-labels, student distillation).',
  )
  .version('0.1.0')
  .showHelpAfterError();

registerCommands(program);
await runProgram(program);
