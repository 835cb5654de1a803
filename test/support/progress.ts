import { statSync } from 'node:fs';

/** How long the reliability tests wait without any progress before calling it a stall. */
export const STALL_MS = Number(process.env.FH_TEST_STALL_SECONDS ?? 120) * 1000;

export interface ProgressWait<T> {
  /** What is awaited, for the failure message. */
  what: string;
  /** Measures where things stand (row counts, a log's size ...); any change counts as progress. */
  measure: () => Promise<T> | T;
  /** True once the measured state is the awaited one. */
  done: (state: T) => boolean;
  /** Fails only after this long without any change in the measured state (default STALL_MS). */
  stallMs?: number;
  pollMs?: number;
}

/**
 * Waits until `done`, however long that takes on a busy machine, as long as something moves: it
 * fails only when the measured state has not changed for `stallMs` (a service that stopped making
 * progress), never because the work as a whole took longer than on a faster machine. A measure
 * that throws (a database being restarted) counts as no change.
 */
export async function waitForProgress<T>(wait: ProgressWait<T>): Promise<T> {
  const stallMs = wait.stallMs ?? STALL_MS;
  const pollMs = wait.pollMs ?? 200;
  let last: string | undefined;
  let lastState: T | undefined;
  let changedAt = Date.now();
  const started = changedAt;
  for (;;) {
    let state: T | undefined;
    try {
      state = await wait.measure();
    } catch {
      state = undefined;
    }
    if (state !== undefined) {
      if (wait.done(state)) return state;
      const key = JSON.stringify(state);
      if (key !== last) {
        last = key;
        lastState = state;
        changedAt = Date.now();
      }
    }
    if (Date.now() - changedAt > stallMs) {
      throw new Error(
        `no progress for ${Math.round(stallMs / 1000)} s waiting for ${wait.what} ` +
          `(after ${Math.round((Date.now() - started) / 1000)} s; last state ${JSON.stringify(lastState)})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** The size of a file in bytes (0 when missing): a service's log growing is a sign of life. */
export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
