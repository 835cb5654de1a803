/** Small character-level helpers over the report text; they avoid substring allocation. */

export function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 160;
}

/** Number of words (runs of letters/digits) that start within [from, to). */
export function wordsBetween(text: string, from: number, to: number): number {
  let n = 0;
  let prev = from > 0 ? isWordChar(text.charCodeAt(from - 1)) : false;
  for (let i = from; i < to; i++) {
    const w = isWordChar(text.charCodeAt(i));
    if (w && !prev) n++;
    prev = w;
  }
  return n;
}

/**
 * Abbreviations whose period does not end a sentence: `always` (side and position letters: "L.",
 * "post.", "Lt.") and `beforeLowercase` (only when a lower-case word or a digit follows: "fx. of the
 * left clavicle", but "Left rib fx. No pneumothorax." ends at "fx."). Lower-case, without the dot.
 */
export interface Abbreviations {
  always: ReadonlySet<string>;
  beforeLowercase: ReadonlySet<string>;
}

/**
 * A sentence ends at a line break, or at . ! ; : followed by whitespace (so "2.5 cm" stays whole)
 * unless the period closes an abbreviation, or at ? after a word (a leading "? fracture" is a
 * hedge, not an end).
 */
function isBoundaryAt(text: string, i: number, abbr?: Abbreviations): boolean {
  const c = text.charCodeAt(i);
  if (c === 10 || c === 13) return true;
  if (c === 46 || c === 33 || c === 59 || c === 58 || c === 63) {
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 32;
    if (!isSpace(next)) return false;
    if (c === 63) return i > 0 && isWordChar(text.charCodeAt(i - 1));
    if (c === 46 && abbr && i > 0 && isWordChar(text.charCodeAt(i - 1)))
      return !isAbbreviationEnd(text, i, abbr);
    return true;
  }
  return false;
}

function isAbbreviationEnd(text: string, dot: number, abbr: Abbreviations): boolean {
  let w = dot - 1;
  while (w >= 0 && dot - w <= 12 && isWordChar(text.charCodeAt(w))) w--;
  if (dot - w > 12) return false;
  const word = text.slice(w + 1, dot).toLowerCase();
  if (abbr.always.has(word)) return true;
  if (!abbr.beforeLowercase.has(word)) return false;
  let j = dot + 1;
  while (j < text.length && isSpace(text.charCodeAt(j))) j++;
  const n = text.charCodeAt(j);
  return (n >= 97 && n <= 122) || (n >= 48 && n <= 57);
}

/** [start, end) of the sentence containing pos; end includes the closing punctuation. */
export function sentenceBounds(text: string, pos: number, abbr?: Abbreviations): [number, number] {
  let s = pos;
  while (s > 0 && !isBoundaryAt(text, s - 1, abbr)) s--;
  while (s < pos && isSpace(text.charCodeAt(s))) s++;
  let e = pos;
  while (e < text.length && !isBoundaryAt(text, e, abbr)) e++;
  if (e < text.length) {
    const c = text.charCodeAt(e);
    if (c !== 10 && c !== 13) e++;
  }
  return [s, e];
}

/** Position of the last non-space character before pos, or -1. */
export function lastNonSpaceBefore(text: string, pos: number): number {
  let i = pos - 1;
  while (i >= 0 && isSpace(text.charCodeAt(i))) i--;
  return i;
}

/** Lower-case words of text[from, to), for the few places that need to look at words. */
export function wordsIn(text: string, from: number, to: number): string[] {
  const out: string[] = [];
  let i = from;
  while (i < to) {
    while (i < to && !isWordChar(text.charCodeAt(i))) i++;
    const s = i;
    while (i < to && isWordChar(text.charCodeAt(i))) i++;
    if (i > s) out.push(text.slice(s, i).toLowerCase());
  }
  return out;
}
