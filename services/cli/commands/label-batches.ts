/**
 * How `harvester label-reports` shares the labelling of a large input with helper threads. The
 * reports that mention a finding term (the only ones that cost anything to label) are cut into
 * batches as the input is read and each batch is sent to a helper at once, so the helpers label
 * while this thread is still reading. When the reading is done this thread takes batches from the
 * end, down to where the helpers have got. A batch is labelled by whoever claims it first (one
 * shared Int32 per batch, compareExchange): nothing is labelled twice or left out, however fast
 * or slow (or late to start) a helper is on a busy machine.
 */

/** Finding reports per batch: small enough to share the work evenly, large enough to be few messages. */
export const BATCH = 32;
/** Claim slots per shared page; a page is sent to the helpers before the first batch that uses it. */
const PAGE = 4096;
const FREE = 0;
export const BY_HELPER = 1;
export const BY_THIS_THREAD = 2;

/** One claim per batch, in pages of shared memory that both sides hold. */
export class BatchClaims {
  private readonly pages: Int32Array[] = [];

  /** Whether batch `b` has its page (else a new one must be added, and sent, first). */
  covers(b: number): boolean {
    return Math.floor(b / PAGE) < this.pages.length;
  }

  /** Adds the next page: a new one, or one received from the other side. */
  addPage(buffer: SharedArrayBuffer = new SharedArrayBuffer(PAGE * 4)): SharedArrayBuffer {
    this.pages.push(new Int32Array(buffer));
    return buffer;
  }

  /** True when `who` gets batch `b` (nobody had claimed it). */
  claim(b: number, who: number): boolean {
    return Atomics.compareExchange(this.pages[Math.floor(b / PAGE)]!, b % PAGE, FREE, who) === FREE;
  }
}

/** A message to a helper: a claims page, or a batch to label if it can still claim it. */
export type ToHelper = { page: SharedArrayBuffer } | { batch: number; ids: string[]; texts: string[] };
/** A helper's answer: the output lines of a batch it claimed, or the error that stopped it. */
export type FromHelper = { batch: number; lines: string[] };

/** The side of the sharing a helper thread runs: claim each batch in order, label it, answer. */
export function helperLoop(
  label: (id: string, text: string) => string,
  send: (m: FromHelper) => void,
): (m: ToHelper) => void {
  const claims = new BatchClaims();
  return (m) => {
    if ('page' in m) {
      claims.addPage(m.page);
      return;
    }
    // Lost: this thread took it (and every batch after it, taken from the end down).
    if (!claims.claim(m.batch, BY_HELPER)) return;
    const lines = new Array<string>(m.ids.length);
    for (let i = 0; i < m.ids.length; i++) lines[i] = label(m.ids[i]!, m.texts[i]!);
    send({ batch: m.batch, lines });
  };
}

/** Something a helper can be sent messages through and heard from (a Worker). */
export interface Helper {
  postMessage(m: ToHelper): void;
  on(event: 'message', listener: (m: FromHelper) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
}

/**
 * This thread's side: collects the finding reports in reading order, hands each full batch to a
 * helper, labels what the helpers have not started once the input is read, and gives back every
 * report's output line in order.
 */
export class SharedLabelling {
  private readonly claims = new BatchClaims();
  private readonly batches: Array<{ ids: string[]; texts: string[] }> = [];
  private ids: string[] = [];
  private texts: string[] = [];
  private readonly done: Array<string[] | undefined> = [];
  private failed: Error | null = null;
  private wake: (() => void) | null = null;
  private sent = 0;

  constructor(
    private readonly helpers: readonly Helper[],
    private readonly label: (id: string, text: string) => string,
  ) {
    for (const h of helpers) {
      h.on('message', (m) => {
        this.done[m.batch] = m.lines;
        this.wake?.();
      });
      h.on('error', (err) => {
        this.failed = err;
        this.wake?.();
      });
      // Gone without an error (it is only ended once every line is written): its batches never come.
      h.on('exit', (code) => {
        this.failed ??= new Error(`a label-reports helper thread stopped (exit code ${code})`);
        this.wake?.();
      });
    }
  }

  /** Adds the next finding report (in reading order). */
  add(id: string, text: string): void {
    this.ids.push(id);
    this.texts.push(text);
    if (this.ids.length === BATCH) this.close();
  }

  /** The input is read: labels, from the last batch down, those no helper has claimed. */
  finish(): void {
    if (this.ids.length > 0) this.close();
    for (let b = this.batches.length - 1; b >= 0 && this.claims.claim(b, BY_THIS_THREAD); b--) {
      const { ids, texts } = this.batches[b]!;
      const lines = new Array<string>(ids.length);
      for (let i = 0; i < ids.length; i++) lines[i] = this.label(ids[i]!, texts[i]!);
      this.done[b] = lines;
    }
  }

  /** The output lines of batch `b` (after finish()), waiting for its helper when it has it. */
  async lines(b: number): Promise<string[]> {
    for (;;) {
      const lines = this.done[b];
      if (lines !== undefined) {
        this.done[b] = undefined;
        return lines;
      }
      if (this.failed) throw this.failed;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }

  private close(): void {
    const b = this.batches.length;
    const batch = { ids: this.ids, texts: this.texts };
    this.batches.push(batch);
    this.ids = [];
    this.texts = [];
    if (this.helpers.length === 0) return;
    if (!this.claims.covers(b)) {
      const page = this.claims.addPage();
      for (const h of this.helpers) h.postMessage({ page });
    }
    this.helpers[this.sent++ % this.helpers.length]!.postMessage({ batch: b, ...batch });
  }
}
