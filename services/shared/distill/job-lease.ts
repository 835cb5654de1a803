/**
 * What to do with an unfinished distillation job (issue 8: a crashed job is detected and retried
 * or failed). Pure: the scheduler passes each requested/running job and the clock.
 *
 * - running, heartbeat older than leaseMs: the worker (or its node) died -> retry when attempts
 *   are left, else fail;
 * - requested, its event published longer than claimTimeoutMs ago and still unclaimed: the event
 *   was lost or no worker is listening -> publish it again;
 * - requested and not yet published: publish;
 * - otherwise alive.
 */

export interface UnfinishedJob {
  status: 'requested' | 'running';
  attempt: number;
  maxAttempts: number;
  heartbeatAt: Date | null;
  startedAt: Date | null;
  eventPublishedAt: Date | null;
}

export interface LeasePolicy {
  /** A running job without a heartbeat for this long is considered dead. */
  leaseMs: number;
  /** A published request nobody claimed for this long is published again. */
  claimTimeoutMs: number;
}

export type JobAction = 'alive' | 'publish' | 'republish' | 'retry' | 'fail';

export function classifyUnfinishedJob(job: UnfinishedJob, now: Date, policy: LeasePolicy): JobAction {
  const t = now.getTime();
  if (job.status === 'running') {
    const lastSign = job.heartbeatAt ?? job.startedAt;
    if (lastSign && t - lastSign.getTime() <= policy.leaseMs) return 'alive';
    return afterFailedAttempt(job.attempt, job.maxAttempts);
  }
  if (job.eventPublishedAt === null) return 'publish';
  if (t - job.eventPublishedAt.getTime() > policy.claimTimeoutMs) return 'republish';
  return 'alive';
}

/** After attempt `attempt` (1-based) failed: another try, or give up. */
export function afterFailedAttempt(attempt: number, maxAttempts: number): 'retry' | 'fail' {
  return attempt < maxAttempts ? 'retry' : 'fail';
}
