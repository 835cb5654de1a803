import type { Term } from './rules-file.ts';
import { withoutLookaround } from './vocabulary.ts';

/**
 * Lower-case substrings at least one of which every match of the given terms contains ("fract",
 * "fx", "callus" ...), or null when a pattern has none that can be read off safely. A report that
 * contains none of them cannot match, and most reports are decided by this test alone (a few
 * native substring searches instead of the finding regex over the whole text).
 */
export function requiredSubstrings(terms: readonly Term[]): string[] | null {
  const single: string[] = [];
  const phrases: string[] = [];
  for (const t of terms) {
    if (typeof t === 'string') {
      const words = t.trim().toLowerCase().split(/\s+/);
      if (words.length === 1) single.push(words[0]!);
      else phrases.push(words.join(' '));
    } else {
      const lit = literalRun(t.pattern);
      if (lit === null) return null;
      single.push(lit);
    }
  }
  const anchors: string[] = [];
  // Shortest first, so a term containing an anchor already taken adds nothing ("fractures").
  for (const w of single.sort((a, b) => a.length - b.length)) {
    if (!anchors.some((a) => w.includes(a))) anchors.push(w);
  }
  for (const p of phrases) {
    if (anchors.some((a) => p.includes(a))) continue;
    const longest = p.split(' ').sort((a, b) => b.length - a.length)[0]!;
    anchors.push(longest);
  }
  return anchors;
}

/**
 * The longest run of plain letters a pattern always matches: outside any group, alternation or
 * character class, and not made optional by a quantifier. Null when there is none of 3+ letters.
 */
function literalRun(pattern: string): string | null {
  const p = withoutLookaround(pattern);
  let best = '';
  let run = '';
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    const next = p[i + 1];
    if (c === '\\') {
      run = '';
      i++;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return null;
    if (depth === 0 && /[A-Za-z]/.test(c) && next !== '?' && next !== '*' && next !== '{') {
      run += c.toLowerCase();
      if (run.length > best.length) best = run;
      continue;
    }
    if (c === '[') {
      while (i < p.length && p[i] !== ']') i += p[i] === '\\' ? 2 : 1;
    }
    run = '';
  }
  return best.length >= 3 ? best : null;
}
