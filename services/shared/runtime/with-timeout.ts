/**
 * Runs `start(signal)` and rejects with `error()` when it has not settled within `ms`; the signal
 * aborts then, so work that has not begun can be withdrawn (work already under way goes on).
 */
export function withTimeout<T>(
  start: (signal: AbortSignal) => Promise<T>,
  ms: number,
  error: () => Error,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    start(controller.signal),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        const reason = error();
        controller.abort(reason);
        reject(reason);
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
