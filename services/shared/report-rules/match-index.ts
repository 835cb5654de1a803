/**
 * "Next match of this regex at or after position p" over one text, in O(log n) per query once the
 * text has been scanned: window scans (acuity, side, cue, triggers, anatomy) then no longer run
 * exec to the end of a long text for every finding, which made labelling quadratic.
 *
 * Exact: the result equals `re.lastIndex = p; re.exec(text)`. A forward scan from 0 finds the
 * matches G; no match starts in [G[k-1].end, G[k].start), so exec from p there returns G[k]. Only
 * a p strictly inside some G[k-1] needs sticky attempts at the few positions up to its end.
 */
export interface Match {
  start: number;
  end: number;
  text: string;
}

const stickyOf = new WeakMap<RegExp, RegExp>();

function sticky(re: RegExp): RegExp {
  let s = stickyOf.get(re);
  if (!s) {
    s = new RegExp(re.source, re.flags.replace('g', '') + 'y');
    stickyOf.set(re, s);
  }
  return s;
}

export class MatchIndex {
  private readonly all: Match[] = [];

  constructor(
    private readonly text: string,
    private readonly re: RegExp,
  ) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      this.all.push({ start: m.index, end: m.index + m[0].length, text: m[0] });
      if (m[0].length === 0) re.lastIndex++;
    }
  }

  /** The match `exec` would return with lastIndex = p, or null. */
  next(p: number): Match | null {
    const all = this.all;
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid]!.start < p) lo = mid + 1;
      else hi = mid;
    }
    const prev = all[lo - 1];
    if (prev && prev.end > p) {
      const s = sticky(this.re);
      for (let q = p; q < prev.end; q++) {
        s.lastIndex = q;
        const m = s.exec(this.text);
        if (m !== null) return { start: q, end: q + m[0].length, text: m[0] };
      }
    }
    return all[lo] ?? null;
  }
}
