import path from 'node:path';
import { runUp, type UpUntil } from '../../up/index.ts';
import { ExpectedError } from '../../shared/errors.ts';

export interface UpCliOptions {
  feed?: string;
  studies?: string;
  seed?: string;
  rate?: string;
  until?: string;
  keepStack?: boolean;
  dir?: string;
}

/** `harvester up`: the streaming system under one supervisor until Ctrl-C (or --until). */
export async function upCommand(opts: UpCliOptions): Promise<void> {
  if (opts.feed !== undefined && opts.feed !== 'synthetic')
    throw new ExpectedError(
      `--feed must be synthetic (got "${opts.feed}"); feed real data with harvester feed or the gateways`,
    );
  const studies = Number(opts.studies ?? 600);
  if (!Number.isInteger(studies) || studies < 20)
    throw new ExpectedError('--studies must be an integer >= 20');
  const rate = Number(opts.rate ?? 0);
  if (!(rate >= 0)) throw new ExpectedError('--rate must be a number of messages per second >= 0');
  const untils: UpUntil[] = ['fed', 'labelled', 'first-decision'];
  if (opts.until !== undefined && !untils.includes(opts.until as UpUntil))
    throw new ExpectedError(`--until must be one of ${untils.join(', ')}`);
  if ((opts.until === 'fed' || opts.until === 'labelled') && opts.feed !== 'synthetic')
    throw new ExpectedError(`--until ${opts.until} needs --feed synthetic`);

  const controller = new AbortController();
  const onSignal = () => {
    process.stderr.write('\nharvester up: stopping (Ctrl-C again to quit at once)\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const live = process.stdout.isTTY === true;
  const summary = await runUp({
    feed: opts.feed as 'synthetic' | undefined,
    studies,
    seed: opts.seed ?? '1',
    rate,
    until: opts.until as UpUntil | undefined,
    keepStack: opts.keepStack === true,
    dir: path.resolve(opts.dir ?? 'var/up'),
    print: (text) => process.stdout.write(live ? text : `${text}\n`),
    live,
    signal: controller.signal,
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  const p = summary.progress;
  console.log(
    `harvester up: ran ${Math.round(summary.seconds)} s` +
      (p
        ? `; ${p.reports} reports, ${p.images} images, ${p.pseudoLabels} pseudo-labels, ${p.jobs.length} jobs, ` +
          `${p.decisions.length} gate decisions, active teacher ${p.activeTeacher ?? 'none'}`
        : '') +
      (summary.firstDecisionSeconds !== null
        ? `; first gate decision after ${Math.round(summary.firstDecisionSeconds)} s`
        : ''),
  );
  const restarted = Object.entries(summary.restarts).filter(([, n]) => n > 0);
  if (restarted.length > 0) console.log(`restarts: ${restarted.map(([s, n]) => `${s} ${n}`).join(', ')}`);
}
