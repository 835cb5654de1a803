import type { Command } from 'commander';

/**
 * Every subcommand registers itself here; each lives in its own file under commands/ and is
 * imported lazily inside its action, so `harvester --help` starts fast.
 */
export function registerCommands(_program: Command): void {}
