import type { MessageProducer, OutgoingMessage } from './producer.ts';

interface Waiting {
  messages: OutgoingMessage[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Publishes to one topic for many concurrent callers (gateway connections) and resolves each
 * caller only once the broker has acknowledged its messages. While one produce request is in
 * flight, new messages wait and then go together in the next request: one connection pays one
 * round trip per message, many connections share them (throughput grows with concurrency, and
 * order per caller is kept because a caller waits for its own acknowledgment).
 */
export class CoalescingPublisher {
  private waiting: Waiting[] = [];
  private inFlight = false;

  constructor(
    private readonly producer: MessageProducer,
    private readonly topic: string,
    /** The most messages in one produce request. */
    private readonly maxBatch = 500,
  ) {}

  /**
   * Resolves once the broker acknowledged `messages`. When `signal` aborts while they still wait
   * for a request (the broker is slow or down and the caller gave up), they are withdrawn and never
   * sent: what a sender will send again is not also published late.
   */
  publish(messages: OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const entry: Waiting = { messages, resolve, reject };
      this.waiting.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.waiting.indexOf(entry);
          if (at < 0) return; // already in a request: its outcome stands
          this.waiting.splice(at, 1);
          reject(signal.reason instanceof Error ? signal.reason : new Error('publish withdrawn'));
        },
        { once: true },
      );
      if (!this.inFlight) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inFlight = true;
    try {
      while (this.waiting.length > 0) {
        const batch: Waiting[] = [];
        let count = 0;
        while (
          this.waiting.length > 0 &&
          (batch.length === 0 || count + this.waiting[0]!.messages.length <= this.maxBatch)
        ) {
          const next = this.waiting.shift()!;
          batch.push(next);
          count += next.messages.length;
        }
        try {
          await this.producer.send(
            this.topic,
            batch.flatMap((w) => w.messages),
          );
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err as Error);
        }
      }
    } finally {
      this.inFlight = false;
    }
  }
}
