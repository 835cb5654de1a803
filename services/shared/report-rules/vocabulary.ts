import type { Term } from './rules-file.ts';
import { FailureError } from '../errors.ts';

/**
 * One vocabulary compiled to a single regex (longest alternatives first, so "no evidence of"
 * wins over "no") plus a lookup from the matched text to its category.
 */
export interface Vocabulary<C> {
  /** Global, case-insensitive; callers set lastIndex. */
  re: RegExp;
  /**
   * The category of a match. Pass the text and the match position when patterns may use
   * lookaround ("XXXX" only before an acuity word): they are then tested in place.
   */
  categoryOf(matched: string, text?: string, at?: number): C | undefined;
  /** Every category a phrase is listed under (e.g. "versus" is a pre- and a post-trigger). */
  categoriesOf(matched: string, text?: string, at?: number): readonly C[];
}

const WORD_CHAR = 'A-Za-z0-9';

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function phraseSource(phrase: string): string {
  return phrase.trim().split(/\s+/).map(escapeRegex).join('\\s+');
}

interface Source {
  core: string;
  /** Word boundaries needed before / after (only on sides that are word characters: "?" has none). */
  pre: boolean;
  post: boolean;
  weight: number;
}

/**
 * The alternation, longest first, with the boundary checks shared by runs of alternatives:
 * `(?<!w)(?:a|b|c)(?!w)` instead of `(?<!w)a(?!w)|(?<!w)b(?!w)|...`. Same matches (a failed
 * lookahead backtracks into the next alternative), but the engine can pick candidates by their
 * first character instead of entering every alternative's lookbehind at each position.
 */
function alternationOf(sources: Source[]): string {
  const parts: string[] = [];
  let run: string[] = [];
  let kind = '';
  const flush = (): void => {
    if (run.length === 0) return;
    const [pre, post] = [kind[0] === '1', kind[1] === '1'];
    parts.push(`${pre ? `(?<![${WORD_CHAR}])` : ''}(?:${run.join('|')})${post ? `(?![${WORD_CHAR}])` : ''}`);
    run = [];
  };
  const seen = new Set<string>();
  for (const s of sources) {
    const key = `${s.pre ? 1 : 0}${s.post ? 1 : 0}|${s.core}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const k = key.slice(0, 2);
    if (k !== kind) {
      flush();
      kind = k;
    }
    run.push(s.core);
  }
  flush();
  return parts.join('|');
}

export function normaliseMatch(s: string): string {
  const lower = s.toLowerCase();
  // Most matches are one word or words separated by single spaces: no replace needed.
  return /[\t\n\r\f\v\u00a0]| {2}/.test(lower) ? lower.replace(/\s+/g, ' ') : lower;
}

export class VocabularyError extends FailureError {}

export function compileVocabulary<C>(
  entries: Array<{ category: C; terms: Term[] }>,
  where: string,
): Vocabulary<C> {
  const literal = new Map<string, C[]>();
  const patterns: Array<{ source: string; category: C; whole: RegExp; inPlace: RegExp }> = [];
  const sources: Source[] = [];
  for (const { category, terms } of entries) {
    for (const t of terms) {
      if (typeof t === 'string') {
        const key = normaliseMatch(t.trim());
        // The first category listed for a phrase wins categoryOf; lists are ordered by precedence.
        const cats = literal.get(key);
        if (!cats) literal.set(key, [category]);
        else if (!cats.includes(category)) cats.push(category);
        const phrase = t.trim();
        sources.push({
          core: phraseSource(phrase),
          pre: /^[A-Za-z0-9]/.test(phrase),
          post: /[A-Za-z0-9]$/.test(phrase),
          weight: key.length,
        });
      } else {
        let whole: RegExp;
        try {
          whole = new RegExp(`^(?:${t.pattern})$`, 'i');
          new RegExp(t.pattern, 'g');
        } catch (err) {
          throw new VocabularyError(
            `${where}: invalid pattern ${JSON.stringify(t.pattern)}: ${(err as Error).message}`,
          );
        }
        if (/\((?!\?)/.test(t.pattern.replace(/\\\\|\\\(/g, ''))) {
          throw new VocabularyError(
            `${where}: pattern ${JSON.stringify(t.pattern)} has a capturing group; use (?:...)`,
          );
        }
        const inPlace = new RegExp(`(?<![${WORD_CHAR}])(?:${t.pattern})(?![${WORD_CHAR}])`, 'iy');
        patterns.push({ source: t.pattern, category, whole, inPlace });
        sources.push({
          core: `(?:${t.pattern})`,
          pre: true,
          post: true,
          weight: withoutLookaround(t.pattern).length,
        });
      }
    }
  }
  if (sources.length === 0) {
    // Matches nothing, so an empty list disables a category cleanly.
    return { re: /(?!)/g, categoryOf: () => undefined, categoriesOf: () => [] };
  }
  sources.sort((a, b) => b.weight - a.weight);
  const re = new RegExp(alternationOf(sources), 'gi');
  return {
    re,
    categoryOf(matched: string, text?: string, at?: number): C | undefined {
      const hit = literal.get(normaliseMatch(matched));
      if (hit !== undefined) return hit[0];
      for (const p of patterns) if (patternMatches(p, matched, text, at)) return p.category;
      return undefined;
    },
    categoriesOf(matched: string, text?: string, at?: number): readonly C[] {
      // A listed phrase takes the categories it is listed under; patterns decide the rest.
      const hit = literal.get(normaliseMatch(matched));
      if (hit !== undefined) return hit;
      const out: C[] = [];
      for (const p of patterns) {
        if (!out.includes(p.category) && patternMatches(p, matched, text, at)) out.push(p.category);
      }
      return out;
    },
  };
}

/**
 * The pattern without its lookaround groups, whose length orders it among the alternatives: a
 * lookbehind consumes nothing, so "(?<!no\\s)XXXX" must not go before "XXXX\\s+represents".
 */
export function withoutLookaround(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
      continue;
    }
    if (c === '(' && /^\(\?<?[=!]/.test(pattern.slice(i, i + 4))) {
      let depth = 0;
      for (; i < pattern.length; i++) {
        const d = pattern[i]!;
        if (d === '\\') i++;
        else if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
      }
      continue;
    }
    out += c;
  }
  return out;
}

function patternMatches(
  p: { whole: RegExp; inPlace: RegExp },
  matched: string,
  text: string | undefined,
  at: number | undefined,
): boolean {
  if (text === undefined || at === undefined) return p.whole.test(matched);
  p.inPlace.lastIndex = at;
  const m = p.inPlace.exec(text);
  return m !== null && m[0].length === matched.length;
}
