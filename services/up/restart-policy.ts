/**
 * When a crashed service is started again (pure): exponential back-off from `initialMs` up to
 * `maxMs`, starting over once a run has lasted `stableMs` (it was not crash-looping).
 */
export interface RestartPolicy {
  initialMs: number;
  maxMs: number;
  stableMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialMs: 1000, maxMs: 60_000, stableMs: 60_000 };

/** The next delay and crash count after a run of `ranMs` that ended with crash number `crashes` before it. */
export function nextRestart(
  crashes: number,
  ranMs: number,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): { delayMs: number; crashes: number } {
  const n = ranMs >= policy.stableMs ? 0 : crashes;
  return { delayMs: Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(n, 20)), crashes: n + 1 };
}
