import { ExpectedError } from '../../shared/errors.ts';
/** An expected failure: the CLI prints its message on one line and exits 1. */
export function userError(message: string, cause?: unknown): Error {
  return new ExpectedError(message, { cause });
}
