import type { Kafka, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { STALL_MS } from './progress.ts';

export interface LoadMessage {
  /** What the audit looks the message up by (the HL7 MSH-10, a SOP Instance UID). */
  id: string;
  key: string | null;
  value: Buffer | string;
}

export interface SteadyLoadOptions {
  kafka: Kafka;
  topic: string;
  ratePerSecond: number;
  durationMs: number;
  /** The i-th message of the run. */
  message: (i: number) => LoadMessage;
  /**
   * How long the broker may acknowledge nothing before the load gives up (default twice the tests'
   * STALL_MS: an outage plus a broker restart on a busy machine).
   */
  stallMs?: number;
  tickMs?: number;
}

/**
 * Publishes floor(rate x duration) messages at a steady rate (fewer only if stopped early), like an interface engine: it keeps the
 * schedule through broker outages by retrying the unacknowledged messages (which may then land
 * twice in the topic, as with any at-least-once producer) and catching up afterwards. Bounded: it
 * gives up once the broker has acknowledged nothing for `stallMs`, however slow the machine.
 */
export class SteadyLoad {
  /** Ids of messages the broker acknowledged. */
  readonly acked: string[] = [];
  /** Failed send attempts (each retried). */
  failedSends = 0;
  private producer: Producer;
  private stopped = false;
  private next = 0;
  private pending: LoadMessage[] = [];
  readonly done: Promise<void>;

  constructor(private readonly options: SteadyLoadOptions) {
    this.producer = options.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 2, initialRetryTime: 200 },
    });
    this.done = this.run();
    // awaited by the caller later; until then a failure must not be an unhandled rejection
    this.done.catch(() => {});
  }

  /** Ends the run early (the messages already scheduled are still sent). */
  stop(): void {
    this.stopped = true;
  }

  private async run(): Promise<void> {
    const { ratePerSecond, durationMs, topic } = this.options;
    const tickMs = this.options.tickMs ?? 100;
    const start = Date.now();
    const stallMs = this.options.stallMs ?? 2 * STALL_MS;
    let lastAck = start;
    await this.producer.connect();
    try {
      for (;;) {
        // one clock reading decides both what is due and whether the run is over: read twice, a
        // send that outlasted the end of the run (a busy machine) ended it with the last messages
        // never scheduled, so a pair of loads of equal rate and duration sent different counts
        const elapsed = Math.min(Date.now() - start, durationMs);
        const due = this.stopped ? this.next : Math.floor((elapsed * ratePerSecond) / 1000);
        const lastTick = this.stopped || elapsed >= durationMs;
        while (this.next < due) this.pending.push(this.options.message(this.next++));
        if (this.pending.length > 0) {
          const batch = this.pending.slice(0, 500);
          try {
            await this.producer.send({
              topic,
              acks: -1,
              messages: batch.map((m) => ({ key: m.key, value: m.value })),
            });
            this.pending.splice(0, batch.length);
            for (const m of batch) this.acked.push(m.id);
            lastAck = Date.now();
          } catch {
            this.failedSends++;
            if (Date.now() - lastAck > stallMs) {
              throw new Error(
                `load: ${this.pending.length} messages unacknowledged, nothing acknowledged for ${Math.round(stallMs / 1000)} s`,
              );
            }
            await sleep(500);
            continue;
          }
        }
        if (lastTick && this.pending.length === 0) break;
        await sleep(tickMs);
      }
    } finally {
      await this.producer.disconnect().catch(() => {});
    }
  }

  get sent(): number {
    return this.next;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
