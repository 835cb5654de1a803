import { Command } from 'commander';
import { ConfigError } from '../shared/config/env.ts';
import { registerCommands } from './commands/index.ts';

// A closed pipe (`harvester ... | head`) ends the output quietly, for every command: the reader has
// what it asked for. Other stdout errors stay fatal.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

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

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Expected failures (bad config, bad input) print one clear line; anything else keeps its stack.
  if (err instanceof ConfigError || (err as { expected?: boolean }).expected) {
    console.error(`harvester: ${(err as Error).message}`);
  } else {
    console.error(err);
  }
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
}
