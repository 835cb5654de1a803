import { relative } from 'node:path';
import { runDemo } from '../../demo/index.ts';
import { ExpectedError } from '../../shared/errors.ts';

export interface DemoCliOptions {
  studies: string;
  out: string;
  epochs: string;
  progress?: boolean;
}

function count(name: string, raw: string, min: number): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) {
    throw new ExpectedError(`${name} must be an integer of at least ${min} (got "${raw}")`);
  }
  return v;
}

/** `harvester demo`: prints where the report is when it is written. */
export async function demoCommand(opts: DemoCliOptions): Promise<void> {
  const started = performance.now();
  const result = await runDemo({
    out: opts.out,
    studies: count('--studies', opts.studies, 20),
    epochs: count('--epochs', opts.epochs, 0),
    progress: opts.progress !== false && process.stderr.isTTY,
  });
  const seconds = (performance.now() - started) / 1000;
  const path = relative(process.cwd(), result.reportPath) || result.reportPath;
  process.stdout.write(
    `\nDemo finished in ${seconds.toFixed(0)} s. Report: ${path}\n` +
      `  open it in a browser: xdg-open ${path}   (or file://${result.reportPath})\n` +
      `  embedded database: ${relative(process.cwd(), result.databaseDir) || result.databaseDir} (PGlite)\n`,
  );
}
