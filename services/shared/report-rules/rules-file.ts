import { z } from 'zod';
import {
  LEXICON_CLASSES,
  lexiconEntryProblem,
  SCOPE_DIRECTIONS,
  withoutLexiconTerms,
  type LexiconEntry,
} from './lexicon.ts';
import type { Term } from './term.ts';

export type { Term };

/** A vocabulary entry: a phrase (case-insensitive, word boundaries, any whitespace) or a regex. */
const term: z.ZodType<Term> = z.union([
  z.string().min(1, 'a term must not be empty'),
  z.object({ pattern: z.string().min(1, 'a pattern must not be empty') }).strict(),
]);
const termList = z.array(term);
const status = z.enum(['positive', 'uncertain']);
const acuity = z.enum(['acute', 'healing', 'old']);

/**
 * A published trigger class (NegEx, ConText, RadLex, the ACR hedging scale): its terms, what they
 * say about a finding in their scope, and the direction of that scope (lexicon.ts).
 */
const lexiconEntry = z
  .object({
    class: z.enum(LEXICON_CLASSES),
    direction: z.enum(SCOPE_DIRECTIONS).optional(),
    /** Where the terms come from. */
    source: z.string().optional(),
    terms: termList.min(1),
  })
  .strict()
  .superRefine((e, ctx) => {
    const problem = lexiconEntryProblem(e);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, path: ['direction'] });
  });

const findingGroup = z
  .object({
    kind: z.string().min(1),
    terms: termList.min(1),
    maxStatus: status,
    /** The cue a status capped by maxStatus is reported with (a deformity from old injury: history). */
    cappedCue: z.enum(['hedge', 'history']).optional(),
    acuity: acuity.optional(),
    defaultAcuity: acuity.optional(),
    requiresCue: z.string().optional(),
    anatomyFromPreviousSentence: z.boolean().optional(),
  })
  .strict();

/** The rules file format (fracture-rules.json and local extensions merged on top). */
export const rulesFileSchema = z
  .object({
    name: z.string().optional(),
    version: z.string().min(1, 'set "version": every result carries it'),
    description: z.string().optional(),
    sections: z
      .object({
        /** Report body: findings, and text before any header when that is asserted. */
        asserted: termList,
        /** The radiologist's conclusion; it outranks the body (README: the precedence rule). */
        conclusion: termList.default([]),
        /** Later additions; they outrank the conclusion. */
        addendum: termList.default([]),
        ignored: termList,
        textBeforeFirstHeader: z.enum(['asserted', 'ignored']),
      })
      .strict(),
    findings: z.array(findingGroup).min(1),
    cues: z.record(z.string(), termList),
    anatomy: z
      .object({
        rib: termList,
        clavicle: termList,
        other: termList,
        none: termList,
        /** Hardware and devices: a fracture of one is not a bone's (reported with the hardware cue). */
        device: termList.default([]),
      })
      .strict(),
    triggers: z
      .object({
        negationPre: termList,
        negationPost: termList,
        hedgePre: termList,
        /** Hedges that count only right before the finding: nothing but modifiers and bone names between. */
        hedgeAdjacent: termList.default([]),
        /** History-of phrases: uncertain like hedges, reported with the history cue. */
        history: termList.default([]),
        /**
         * Recommendation phrases: a hedged mention after one, naming its bone in the same sentence,
         * is a screening recommendation, not a suspicion ("recommend rib views to exclude fracture").
         */
        recommendation: termList.default([]),
        hedgePost: termList,
        pseudo: termList,
        notAsserted: termList,
        terminators: termList,
        /**
         * Words that, right after a comma, go on with the list a pre-trigger scopes over
         * ("negative for acute osseous injury, including rib fractures").
         */
        listContinuations: z.array(z.string().min(1)).default([]),
      })
      .strict(),
    /** The published trigger classes with their scope directions; added to the trigger lists. */
    lexicon: z.array(lexiconEntry).default([]),
    attributes: z
      .object({
        side: z.object({ left: termList, right: termList, bilateral: termList }).strict(),
        acuity: z.object({ acute: termList, healing: termList, old: termList }).strict(),
        acuityPriority: z.array(acuity).length(3),
        modifiers: z.array(z.string().min(1)),
        /** Words that make a negation partial ("no acute/displaced fracture"): it replaces nothing. */
        negationQualifiers: z.array(z.string().min(1)).default([]),
        /** Words that mark a mention as a finding of its own ("additional", "another"). */
        anotherFinding: z.array(z.string().min(1)).default([]),
        /**
         * Words that place a device at a fracture of the bone it fixes ("plate and screws across a
         * healed fracture"): the fracture is the bone's, not the device's.
         */
        fixationRelations: z.array(z.string().min(1)).default([]),
      })
      .strict(),
    windows: z
      .object({
        anatomyWords: z.number().int().min(1).max(100),
        sideWordsBefore: z.number().int().min(0).max(100),
        sideWordsAfter: z.number().int().min(0).max(100),
        acuityWordsBefore: z.number().int().min(0).max(100),
        acuityWordsAfter: z.number().int().min(0).max(100),
        postTriggerWords: z.number().int().min(0).max(100),
      })
      .strict(),
    unattributedFracture: z.enum(['other', 'ignore']),
    /**
     * Phrases that continue a finding's noun phrase before its predicate ("... ribs seen on the prior
     * study are no longer visualized"): post-triggers are counted from their end.
     */
    nounPhraseTails: termList.default([]),
    /** Abbreviations whose period does not end a sentence (words without the dot). */
    abbreviations: z
      .object({
        /** Always inside a sentence: "L.", "post.", "Lt.". */
        always: z.array(z.string().min(1)).default([]),
        /** Inside a sentence when a lower-case word or a digit follows: "fx. of the clavicle". */
        beforeLowercase: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({ always: [], beforeLowercase: [] }),
  })
  .strict();

export type RulesFile = z.infer<typeof rulesFileSchema>;

/**
 * Merges a local rules file on top of a base: objects merge key by key, arrays of terms are
 * appended (so a hospital adds "fx" without repeating the vocabulary), finding groups with the
 * same kind get the local terms appended and the local settings; scalars are replaced.
 * A local file may remove base terms with "remove": { "<dotted.path>": [terms] }; removing from
 * "triggers.<list>" also removes the term from the lexicon entries that feed that list.
 */
export function mergeRulesFiles(base: unknown, local: unknown): unknown {
  if (!isObject(local)) throw new TypeError('a local rules file must be a JSON object');
  const { remove, ...rest } = local as Record<string, unknown> & { remove?: unknown };
  const merged = mergeValue(base, rest, '');
  if (remove !== undefined) {
    if (!isObject(remove)) throw new TypeError('"remove" must map dotted paths to arrays of terms');
    for (const [path, terms] of Object.entries(remove)) {
      if (!Array.isArray(terms)) throw new TypeError(`"remove.${path}" must be an array of terms`);
      const holder = path.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), merged);
      if (!Array.isArray(holder)) throw new TypeError(`"remove.${path}": no term list at ${path}`);
      const drop = new Set(terms.map((t) => JSON.stringify(t)));
      const kept = holder.filter((t) => !drop.has(JSON.stringify(t)));
      holder.length = 0;
      holder.push(...kept);
      // The published lexicon feeds the trigger lists too: the term goes from there as well.
      const lexicon = (merged as Record<string, unknown>).lexicon;
      if (path.startsWith('triggers.') && Array.isArray(lexicon)) {
        (merged as Record<string, unknown>).lexicon = withoutLexiconTerms(
          lexicon as LexiconEntry[],
          path.slice('triggers.'.length),
          terms,
        );
      }
    }
  }
  return merged;
}

function mergeValue(base: unknown, local: unknown, path: string): unknown {
  if (path === 'findings' && Array.isArray(base) && Array.isArray(local)) {
    const out = base.map((g) => structuredClone(g) as Record<string, unknown>);
    for (const lg of local) {
      if (!isObject(lg)) throw new TypeError('findings entries must be objects');
      const same = out.find((g) => g.kind === lg.kind);
      if (same) Object.assign(same, mergeValue(same, lg, 'findings[]'));
      else out.push(structuredClone(lg));
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(local)) {
    const seen = new Set(base.map((t) => JSON.stringify(t)));
    return [...base, ...local.filter((t) => !seen.has(JSON.stringify(t)))];
  }
  if (isObject(base) && isObject(local)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(local)) {
      out[k] = k in base ? mergeValue(base[k], v, path ? `${path}.${k}` : k) : v;
    }
    return out;
  }
  return local;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
