import type { Command } from 'commander';
import { ConfigError } from '../shared/config/config-error.ts';

/**
 * Runs a harvester program (the full CLI or a fast entry) the same way: a closed pipe ends the
 * output quietly, expected failures print one line, anything else keeps its stack.
 */
export async function runProgram(program: Command): Promise<void> {
  // A closed pipe (`harvester ... | head`) ends the output quietly, for every command: the reader
  // has what it asked for. Other stdout errors stay fatal.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
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
}
