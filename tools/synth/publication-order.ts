/**
 * Releases report messages in publication-time order while studies are generated in
 * acquisition order: a small min-heap holds the ones not yet due (corrections come days later),
 * so memory stays bounded by how many reports are pending, not by the cohort.
 */
export class PublicationQueue<T extends { time: number }> {
  private heap: { item: T; seq: number }[] = [];
  private seq = 0;

  push(item: T): void {
    const h = this.heap;
    h.push({ item, seq: this.seq++ });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [h[i], h[p]] = [h[p] as (typeof h)[number], h[i] as (typeof h)[number]];
      i = p;
    }
  }

  /** Everything due strictly before `time`, oldest first (ties keep insertion order). */
  *releaseBefore(time: number): Generator<T> {
    while (this.heap.length > 0 && (this.heap[0] as { item: T }).item.time < time) yield this.pop();
  }

  *drain(): Generator<T> {
    while (this.heap.length > 0) yield this.pop();
  }

  get size(): number {
    return this.heap.length;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a] as { item: T; seq: number };
    const y = this.heap[b] as { item: T; seq: number };
    return x.item.time < y.item.time || (x.item.time === y.item.time && x.seq < y.seq);
  }

  private pop(): T {
    const h = this.heap;
    const top = h[0] as { item: T };
    const last = h.pop() as (typeof h)[number];
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as (typeof h)[number], h[i] as (typeof h)[number]];
        i = m;
      }
    }
    return top.item;
  }
}
