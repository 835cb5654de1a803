const ORDINAL_WORDS: Record<string, number> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  eleventh: 11,
  twelfth: 12,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
};
const RANGE = new Set(['-', '–', 'to', 'through', 'thru']);
const LIST = new Set([',', 'and', 'or', '&', '/']);
/** Words that may stand between the numbers and "rib": sides and positions. */
const POSITION = new Set([
  'left',
  'right',
  'bilateral',
  'sided',
  'the',
  'anterior',
  'posterior',
  'lateral',
  'medial',
  'posterolateral',
  'anterolateral',
  'posteromedial',
  'anteromedial',
  'axillary',
  'inferior',
  'superior',
  'lower',
  'upper',
  'mid',
  'middle',
  'distal',
  'proximal',
  'healed',
  'healing',
  'old',
  'acute',
  'chronic',
  'displaced',
  'nondisplaced',
  'non',
  'minimally',
  'mildly',
  'adjacent',
  'consecutive',
]);
const TOKEN = /[A-Za-z]+|\d+(?:st|nd|rd|th)?|[,&/–-]/g;

const WORD_NUMBERS = new Map(Object.entries(ORDINAL_WORDS));
const SUFFIXES = new Set(['', 'st', 'nd', 'rd', 'th']);

/** 1-12 from "5", "5th", "fifth", "five" (lower-case); called for every word in a window, so no regex. */
function numberOf(tok: string): number | undefined {
  const c0 = tok.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    let n = c0 - 48;
    let i = 1;
    const c1 = tok.charCodeAt(1);
    if (c1 >= 48 && c1 <= 57) {
      n = n * 10 + (c1 - 48);
      i = 2;
    }
    if (!SUFFIXES.has(tok.slice(i))) return undefined;
    return n >= 1 && n <= 12 ? n : undefined;
  }
  return tok.length <= 8 ? WORD_NUMBERS.get(tok) : undefined;
}

/** "5th", "5", "fifth", "five": a word that can number a rib (lower-case input). */
export function isRibNumberWord(w: string): boolean {
  return numberOf(w) !== undefined;
}

function tokens(s: string): string[] {
  return s.toLowerCase().match(TOKEN) ?? [];
}

function collect(seq: string[]): number[] {
  // seq is in reading order: numbers joined by list words or range words.
  const out = new Set<number>();
  let prev: number | undefined;
  let pendingRange = false;
  for (const tok of seq) {
    const n = numberOf(tok);
    if (n !== undefined) {
      if (pendingRange && prev !== undefined && n > prev && n - prev <= 11) {
        for (let k = prev; k <= n; k++) out.add(k);
      } else out.add(n);
      prev = n;
      pendingRange = false;
    } else if (RANGE.has(tok)) pendingRange = true;
  }
  return [...out];
}

/**
 * Rib numbers written around a "rib(s)" mention: "left 4th-6th ribs", "5th and 6th ribs",
 * "sixth rib", "ribs 5 and 6", "rib 7", "posterior 10 rib". `before` is the text just before the
 * mention, `after` the text just after it (both within the sentence).
 */
export function ribNumbersAround(before: string, after: string): number[] {
  const back = tokens(before);
  const seq: string[] = [];
  let sawNumber = false;
  for (let i = back.length - 1; i >= 0; i--) {
    const tok = back[i]!;
    if (numberOf(tok) !== undefined) {
      seq.unshift(tok);
      sawNumber = true;
    } else if (RANGE.has(tok) || LIST.has(tok)) {
      if (!sawNumber && !(tok === '-' || tok === ',')) break;
      seq.unshift(tok);
    } else if (POSITION.has(tok)) {
      // "10th left posterior rib", "2nd and posterior 6th ribs"
      continue;
    } else break;
  }
  const fwd = tokens(after);
  const seqAfter: string[] = [];
  for (let i = 0; i < fwd.length; i++) {
    const tok = fwd[i]!;
    const n = numberOf(tok);
    if (n !== undefined) {
      if (
        /^\d/.test(tok) &&
        /^(mm|cm|m|x|percent|views?|images?|years?|months?|weeks?|days?|hours?)$/.test(fwd[i + 1] ?? '')
      )
        break;
      seqAfter.push(tok);
    } else if ((RANGE.has(tok) || LIST.has(tok)) && seqAfter.length > 0) seqAfter.push(tok);
    // "ribs, 4 through 8", "ribs on the left, 5th-7th": a comma or position word may come first.
    else if (seqAfter.length === 0 && (tok === ',' || POSITION.has(tok)) && i < 4) continue;
    else break;
  }
  const nums = new Set([...collect(seq), ...collect(seqAfter)]);
  return [...nums].sort((a, b) => a - b);
}
