/** Exponential back-off delays: initial, doubling, capped at max. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
}

/**
 * Sleeps `ms`, calling `tick` about every `tickMs` (the consumer heartbeat, so the group does not
 * evict us while a dependency is down) and returning early once `keepGoing` turns false.
 */
export async function sleepWithTicks(
  ms: number,
  tick: () => Promise<void>,
  keepGoing: () => boolean,
  tickMs = 1000,
): Promise<void> {
  const until = Date.now() + ms;
  while (keepGoing()) {
    const left = until - Date.now();
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, tickMs)));
    await tick();
  }
}
