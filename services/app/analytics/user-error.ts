/** An expected failure: the CLI prints its message on one line and exits 1. */
export function userError(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { expected: true });
}
