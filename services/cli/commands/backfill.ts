import { loadBackfillConfig } from '../../app/backfill/config.ts';
import { formatBackfillSummary } from '../../app/backfill/format-summary.ts';
import { createLogger } from '../../shared/observability/logger.ts';
import { BackfillCliOptions, backfillWithConfig } from '../../app/backfill-archive.ts';

/** `harvester backfill`: Ctrl-C stops at the next batch boundary; running it again resumes. */
export async function backfillCommand(opts: BackfillCliOptions): Promise<void> {
  const env = { ...process.env, ...(opts.model ? { TEACHER_MODEL_PATH: opts.model } : {}) };
  const config = loadBackfillConfig(env);
  const logger = createLogger('backfill', process.env.LOG_LEVEL ?? 'warn');
  const controller = new AbortController();
  const onSigint = () => {
    process.stderr.write('\nbackfill: stopping after the current batch (Ctrl-C again to abort now)\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  let problems = 0;
  try {
    const { summary } = await backfillWithConfig(config, {
      ...opts,
      logger,
      signal: controller.signal,
      progress: opts.progress !== false && process.stderr.isTTY,
      onProblem: (line) => {
        problems++;
        if (problems <= 50) process.stderr.write(`backfill: ${line}\n`);
        else if (problems === 51) process.stderr.write('backfill: more problems follow; see the summary\n');
      },
    });
    process.stdout.write(formatBackfillSummary(summary) + '\n');
    if (summary.interrupted) process.exitCode = 130;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
