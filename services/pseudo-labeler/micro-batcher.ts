/**
 * Groups single inference requests into batches: a batch runs when maxBatchSize items are queued
 * or the oldest queued item has waited maxWaitMs, whichever comes first. One batch runs at a time
 * (the ONNX session already uses every core it is given). A failed batch rejects its own items
 * only; later items still run.
 */
export interface MicroBatcherOptions {
  maxBatchSize: number;
  maxWaitMs: number;
  /** Called whenever the number of items queued or running changes. */
  onDepth?: (depth: number) => void;
  /** Called after each batch with its size and how long it ran. */
  onBatch?: (size: number, seconds: number) => void;
}

interface Pending<I, O> {
  item: I;
  enqueuedAt: number;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private roomWaiters: Array<{ limit: number; resolve: () => void }> = [];

  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly options: MicroBatcherOptions,
  ) {
    if (!(options.maxBatchSize >= 1)) throw new Error('maxBatchSize must be at least 1');
    if (!(options.maxWaitMs >= 0)) throw new Error('maxWaitMs must be at least 0');
  }

  /** Items queued or in the running batch. */
  get depth(): number {
    return this.queue.length + this.running;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, enqueuedAt: Date.now(), resolve, reject });
      this.depthChanged();
      this.schedule();
    });
  }

  /** Resolves once depth is below `limit` (the caller's bound on decoded images held in memory). */
  waitForRoom(limit: number): Promise<void> {
    if (this.depth < limit) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ limit, resolve }));
  }

  private schedule(): void {
    if (this.running > 0 || this.queue.length === 0) return;
    if (this.queue.length >= this.options.maxBatchSize) {
      this.clearTimer();
      void this.runNext();
      return;
    }
    if (this.timer) return;
    const waited = Date.now() - this.queue[0]!.enqueuedAt;
    const left = Math.max(0, this.options.maxWaitMs - waited);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running === 0) void this.runNext();
    }, left);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async runNext(): Promise<void> {
    const batch = this.queue.splice(0, this.options.maxBatchSize);
    if (batch.length === 0) return;
    this.running = batch.length;
    const started = process.hrtime.bigint();
    try {
      const outputs = await this.runBatch(batch.map((p) => p.item));
      if (outputs.length !== batch.length) {
        throw new Error(`batch of ${batch.length} returned ${outputs.length} results`);
      }
      batch.forEach((p, i) => p.resolve(outputs[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.options.onBatch?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
      this.running = 0;
      this.depthChanged();
      this.schedule();
    }
  }

  private depthChanged(): void {
    const depth = this.depth;
    this.options.onDepth?.(depth);
    if (this.roomWaiters.length > 0) {
      const still: typeof this.roomWaiters = [];
      for (const w of this.roomWaiters) {
        if (depth < w.limit) w.resolve();
        else still.push(w);
      }
      this.roomWaiters = still;
    }
  }
}
