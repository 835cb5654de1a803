import type { Term } from './term.ts';
import { ExpectedError } from '../errors.ts';

/**
 * The published trigger classes (NegEx, ConText, RadLex certainty, the ACR hedging scale) as the
 * rules file lists them: what a trigger says about a finding in its scope, and the direction of
 * that scope. The engine's trigger lists are where each class and direction reads from.
 */
export const LEXICON_CLASSES = [
  'negation',
  'hedge',
  'historical',
  'hypothetical',
  'experiencer',
  'pseudo',
  'termination',
] as const;
export type LexiconClass = (typeof LEXICON_CLASSES)[number];
export const SCOPE_DIRECTIONS = ['forward', 'backward', 'bidirectional'] as const;
export type ScopeDirection = (typeof SCOPE_DIRECTIONS)[number];

export interface LexiconEntry {
  class: LexiconClass;
  /** forward: the trigger scopes over what follows it; backward: over the noun phrase before it. */
  direction?: ScopeDirection | undefined;
  source?: string | undefined;
  terms: Term[];
}

/** The engine's trigger lists a lexicon entry feeds. */
export type TriggerList =
  | 'negationPre'
  | 'negationPost'
  | 'hedgePre'
  | 'hedgePost'
  | 'history'
  | 'notAsserted'
  | 'pseudo'
  | 'terminators';

/**
 * Which directions a class may have: negations and hedges are read on either side of a finding
 * (NegEx pre/post triggers); history, hypothetical and experiencer triggers only before it
 * (ConText); a pseudo-trigger is no trigger and a termination term ends every scope that would
 * cross it, so neither has a direction.
 */
const DIRECTIONS: Record<LexiconClass, readonly ScopeDirection[] | null> = {
  negation: SCOPE_DIRECTIONS,
  hedge: SCOPE_DIRECTIONS,
  historical: ['forward'],
  hypothetical: ['forward'],
  // Another person's finding asserts nothing about this study: read as a not-asserted context.
  experiencer: ['forward'],
  pseudo: null,
  termination: null,
};

const LISTS: Record<LexiconClass, Partial<Record<ScopeDirection | 'none', TriggerList[]>>> = {
  negation: {
    forward: ['negationPre'],
    backward: ['negationPost'],
    bidirectional: ['negationPre', 'negationPost'],
  },
  hedge: { forward: ['hedgePre'], backward: ['hedgePost'], bidirectional: ['hedgePre', 'hedgePost'] },
  historical: { forward: ['history'] },
  hypothetical: { forward: ['notAsserted'] },
  experiencer: { forward: ['notAsserted'] },
  pseudo: { none: ['pseudo'] },
  termination: { none: ['terminators'] },
};

/** Why an entry's class and direction do not go together, or null when they do. */
export function lexiconEntryProblem(e: Pick<LexiconEntry, 'class' | 'direction'>): string | null {
  const allowed = DIRECTIONS[e.class];
  if (allowed === undefined) return `unknown class "${String(e.class)}"`;
  if (allowed === null) {
    return e.direction === undefined
      ? null
      : `a ${e.class} entry has no direction (it ${e.class === 'pseudo' ? 'is no trigger' : 'ends every scope that crosses it'})`;
  }
  if (e.direction === undefined) return `a ${e.class} entry needs a direction (${allowed.join(' or ')})`;
  return allowed.includes(e.direction)
    ? null
    : `a ${e.class} trigger is read only ${allowed.join('/')} of the finding, not ${e.direction}`;
}

/** The lexicon's terms per trigger list, in entry order. Throws on an entry lexiconEntryProblem rejects. */
export function lexiconTriggerLists(entries: readonly LexiconEntry[]): Record<TriggerList, Term[]> {
  const out: Record<TriggerList, Term[]> = {
    negationPre: [],
    negationPost: [],
    hedgePre: [],
    hedgePost: [],
    history: [],
    notAsserted: [],
    pseudo: [],
    terminators: [],
  };
  entries.forEach((e, i) => {
    const problem = lexiconEntryProblem(e);
    if (problem !== null) throw new LexiconError(`lexicon.${i}: ${problem}`);
    for (const list of LISTS[e.class][e.direction ?? 'none']!) out[list].push(...e.terms);
  });
  return out;
}

/**
 * The lexicon without `terms` on the side that feeds `list` (a local rules file's
 * "remove": {"triggers.hedgePre": [...]} drops a term wherever it would become a pre-hedge). A
 * bidirectional entry keeps the term for its other side, as an entry of that direction.
 */
export function withoutLexiconTerms(
  entries: readonly LexiconEntry[],
  list: string,
  terms: readonly unknown[],
): LexiconEntry[] {
  const drop = new Set(terms.map((t) => JSON.stringify(t)));
  const out: LexiconEntry[] = [];
  for (const e of entries) {
    const lists = LISTS[e.class]?.[e.direction ?? 'none'];
    if (!lists?.includes(list as TriggerList)) {
      out.push(e);
      continue;
    }
    const kept = e.terms.filter((t) => !drop.has(JSON.stringify(t)));
    const dropped = e.terms.filter((t) => drop.has(JSON.stringify(t)));
    if (kept.length > 0) out.push({ ...e, terms: kept });
    if (dropped.length > 0 && e.direction === 'bidirectional') {
      const other = list.endsWith('Pre') ? 'backward' : 'forward';
      out.push({ ...e, direction: other, terms: dropped });
    }
  }
  return out;
}

/** A lexicon entry whose class and direction do not go together (compile turns it into a RulesError). */
export class LexiconError extends ExpectedError {}
