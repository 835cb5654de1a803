import { relabelWithModel } from '../../app/relabel/relabel-with-model.ts';
import { ExpectedError } from '../../shared/errors.ts';

export interface RelabelCliOptions {
  model: string;
  since?: string;
  batchStudies?: string;
}

/** `harvester relabel --model VERSION [--since DATE]` with the pseudo-labeler's environment. */
export async function relabelCommand(opts: RelabelCliOptions): Promise<void> {
  const since = opts.since ? new Date(opts.since) : null;
  if (since && Number.isNaN(since.getTime()))
    throw new ExpectedError(`--since ${opts.since} is not a date (e.g. 2025-01-31)`);
  const batchStudies = Number(opts.batchStudies ?? '50');
  if (!(Number.isInteger(batchStudies) && batchStudies >= 1))
    throw new ExpectedError('--batch-studies must be an integer >= 1');
  const summary = await relabelWithModel({ model: opts.model, since, batchStudies });
  process.stdout.write(`${JSON.stringify({ model: opts.model, ...summary })}\n`);
}
