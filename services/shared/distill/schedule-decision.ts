/**
 * When to ask for a distillation (issue 8): from the new pseudo-labels per class since the last
 * job's watermark, the time since that job was requested, and the policy. Pure: the scheduler
 * reads the view and the clock, this decides.
 */

export interface DistillSchedulePolicy {
  /** New pseudo-labels of one class that trigger a job (any class reaching it is enough). */
  minNewLabelsPerClass: number;
  /** At most one job per this many hours (0: no limit). */
  minIntervalHours: number;
  /** At least one job per this many hours when anything is new (null: only by volume). */
  maxIntervalHours: number | null;
}

export interface LabelVolume {
  /** New pseudo-labels per class since the last non-failed job's watermark. */
  newLabels: Record<string, number>;
  /** When the last non-failed job was requested; null before the first job. */
  lastRequestedAt: Date | null;
}

export type ScheduleDecision =
  | { request: true; reason: 'label-volume' | 'max-interval'; classes: string[] }
  | { request: false; why: 'nothing-new' | 'below-threshold' | 'min-interval'; waitMs?: number };

const HOUR_MS = 3_600_000;

export function checkSchedulePolicy(policy: DistillSchedulePolicy): void {
  if (!(Number.isInteger(policy.minNewLabelsPerClass) && policy.minNewLabelsPerClass >= 1)) {
    throw new RangeError('minNewLabelsPerClass must be an integer >= 1');
  }
  if (!(policy.minIntervalHours >= 0)) throw new RangeError('minIntervalHours must be >= 0');
  if (policy.maxIntervalHours !== null && !(policy.maxIntervalHours > 0)) {
    throw new RangeError('maxIntervalHours must be > 0 (or unset)');
  }
  if (policy.maxIntervalHours !== null && policy.maxIntervalHours < policy.minIntervalHours) {
    throw new RangeError('maxIntervalHours must not be below minIntervalHours');
  }
}

/**
 * Request when a class has at least minNewLabelsPerClass new labels, or when anything is new and
 * the last job is older than maxIntervalHours; never sooner than minIntervalHours after the last.
 */
export function decideDistillRequest(
  volume: LabelVolume,
  now: Date,
  policy: DistillSchedulePolicy,
): ScheduleDecision {
  const counts = Object.entries(volume.newLabels);
  const anyNew = counts.some(([, n]) => n > 0);
  if (!anyNew) return { request: false, why: 'nothing-new' };
  const sinceLast = volume.lastRequestedAt ? now.getTime() - volume.lastRequestedAt.getTime() : Infinity;
  const minGap = policy.minIntervalHours * HOUR_MS;
  if (sinceLast < minGap) return { request: false, why: 'min-interval', waitMs: minGap - sinceLast };
  const reached = counts.filter(([, n]) => n >= policy.minNewLabelsPerClass).map(([cls]) => cls);
  if (reached.length > 0) return { request: true, reason: 'label-volume', classes: reached.sort() };
  if (policy.maxIntervalHours !== null && sinceLast >= policy.maxIntervalHours * HOUR_MS) {
    return {
      request: true,
      reason: 'max-interval',
      classes: counts
        .filter(([, n]) => n > 0)
        .map(([cls]) => cls)
        .sort(),
    };
  }
  return { request: false, why: 'below-threshold' };
}
