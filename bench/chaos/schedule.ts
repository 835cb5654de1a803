/**
 * The chaos soak's fault schedule (pure): which fault happens when, from a seed. Every schedule
 * holds at least one broker restart, one Postgres outage and one registry outage (when the window
 * has room for them); the other slots kill -9 a service drawn at random. Faults are spaced
 * `intervalSeconds` apart on average (a seeded jitter of up to a third either way), inside
 * [startSeconds, endSeconds); at least two outages apart on average. The soak starts a fault only
 * once the previous one has been undone, so two never overlap.
 */
import { Rng, seedFromString } from '../../tools/synth/prng.ts';

export type ChaosFault =
  | { kind: 'kill-9'; service: string }
  | { kind: 'restart-broker' }
  | { kind: 'stop-postgres'; seconds: number }
  | { kind: 'stop-registry'; seconds: number };

export interface ScheduledFault {
  /** Seconds after the start of the load. */
  at: number;
  fault: ChaosFault;
}

export interface ChaosScheduleOptions {
  seed: string;
  services: readonly string[];
  startSeconds: number;
  endSeconds: number;
  intervalSeconds: number;
  /** How long Postgres and the registry stay down. */
  outageSeconds: number;
}

const STREAM = 0xc4a05;

export function chaosSchedule(o: ChaosScheduleOptions): ScheduledFault[] {
  if (o.services.length === 0) throw new Error('chaos schedule: no services to kill');
  if (!(o.intervalSeconds > 0)) throw new Error('chaos schedule: the interval must be > 0');
  if (!(o.endSeconds > o.startSeconds)) throw new Error('chaos schedule: the window is empty');
  const rng = new Rng(seedFromString(o.seed), STREAM);
  // a fault and its recovery must fit between two slots: an outage plus time to come back
  const spacing = Math.max(o.intervalSeconds, o.outageSeconds * 2);
  const slots = Math.max(1, Math.floor((o.endSeconds - o.startSeconds) / spacing));
  const times = Array.from({ length: slots }, (_, i) => {
    const jitter = rng.range(-spacing / 3, spacing / 3);
    return Math.round(o.startSeconds + spacing * (i + 0.5) + jitter);
  });
  const infrastructure: ChaosFault[] = [
    { kind: 'restart-broker' },
    { kind: 'stop-postgres', seconds: o.outageSeconds },
    { kind: 'stop-registry', seconds: o.outageSeconds },
  ];
  // the three infrastructure faults go to distinct random slots, the rest are kills
  const order = times.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const faults: ChaosFault[] = times.map(() => ({
    kind: 'kill-9',
    service: o.services[rng.int(0, o.services.length - 1)]!,
  }));
  infrastructure.slice(0, slots).forEach((f, k) => {
    faults[order[k]!] = f;
  });
  return times.map((at, i) => ({ at, fault: faults[i]! }));
}

export function describeFault(f: ChaosFault): string {
  switch (f.kind) {
    case 'kill-9':
      return `kill -9 ${f.service}`;
    case 'restart-broker':
      return 'restart the Kafka broker';
    case 'stop-postgres':
      return `stop Postgres for ${f.seconds} s`;
    case 'stop-registry':
      return `stop the schema registry for ${f.seconds} s`;
  }
}
