import defaultRulesFile from './fracture-rules.json' with { type: 'json' };
import { requiredSubstrings } from './anchors.ts';
import type { RulesFile, Term } from './rules-file.ts';
import type { Abbreviations } from './text-scan.ts';
import { compileVocabulary, VocabularyError, type Vocabulary } from './vocabulary.ts';
import { LexiconError, lexiconTriggerLists } from './lexicon.ts';
import { ExpectedError } from '../errors.ts';

export type Acuity = 'acute' | 'healing' | 'old';
export type Side = 'left' | 'right' | 'bilateral';
export type BoneClass = 'rib' | 'clavicle' | 'other';
export type AnatomyClass = BoneClass | 'none' | 'device';
/** Section ranks: the precedence rule (README). Ignored sections are never read. */
export const SECTION_IGNORED = -1;
export const SECTION_BODY = 0;
export const SECTION_CONCLUSION = 1;
export const SECTION_ADDENDUM = 2;
export type TriggerKind =
  | 'negationPre'
  | 'negationPost'
  | 'hedgePre'
  | 'hedgeAdjacent'
  | 'history'
  | 'hedgePost'
  | 'pseudo'
  | 'notAsserted'
  | 'terminator';

export interface FindingGroup {
  kind: string;
  maxStatus: 'positive' | 'uncertain';
  cappedCue: 'hedge' | 'history';
  acuity: Acuity | null;
  defaultAcuity: Acuity | null;
  cue: Vocabulary<true> | null;
  anatomyFromPreviousSentence: boolean;
}

/** A rules file validated and compiled to regexes once; reuse it for every report. */
export interface CompiledRules {
  readonly version: string;
  /** Header name -> section rank (SECTION_*). */
  readonly sectionKind: Vocabulary<number>;
  readonly textBeforeFirstHeaderAsserted: boolean;
  readonly finding: Vocabulary<number>;
  /**
   * Finding terms shorter than 4 characters ("fx"), scanned on their own: one short alternative
   * in the main regex would cut the skip distance of its fast scan for every report.
   */
  readonly findingShort: Vocabulary<number> | null;
  /**
   * Matches any of the substrings one of which every finding match contains (case-insensitive);
   * null: no shortcut. A report it does not match has no finding.
   */
  readonly findingAnchors: RegExp | null;
  readonly groups: readonly FindingGroup[];
  readonly anatomy: Vocabulary<AnatomyClass>;
  /** Each bone's own terms alone, found also inside device names ("right clavicle plate"). */
  readonly boneTerms: Readonly<Record<BoneClass, RegExp>>;
  readonly triggers: Vocabulary<TriggerKind>;
  readonly recommendation: Vocabulary<true>;
  /** Matched at a position (sticky): a phrase that continues a finding's noun phrase. */
  readonly nounPhraseTail: RegExp | null;
  readonly negationQualifiers: ReadonlySet<string>;
  /** triggers.listContinuations, each as its lower-case words. */
  readonly listContinuations: readonly (readonly string[])[];
  /** Abbreviations whose period does not end a sentence ("L. 7th rib fx"). */
  readonly abbreviations: Abbreviations;
  readonly anotherFinding: ReadonlySet<string>;
  /** attributes.fixationRelations, each as its lower-case words. */
  readonly fixationRelations: readonly (readonly string[])[];
  readonly side: Vocabulary<Side>;
  readonly acuity: Vocabulary<Acuity>;
  readonly acuityRank: Readonly<Record<Acuity, number>>;
  readonly modifiers: ReadonlySet<string>;
  readonly windows: RulesFile['windows'];
  readonly unattributedFracture: 'other' | 'ignore';
}

export class RulesError extends ExpectedError {}

/**
 * Compiles a rules file already validated against rulesFileSchema (compile-rules.ts validates; the
 * shipped file is checked by a unit test). Kept free of zod so the fast CLI entry does not load it.
 */
export function buildRules(r: RulesFile): CompiledRules {
  try {
    return build(r);
  } catch (err) {
    if (err instanceof VocabularyError || err instanceof LexiconError)
      throw new RulesError(`invalid rules file: ${err.message}`);
    throw err;
  }
}

function build(r: RulesFile): CompiledRules {
  const cueVocab = new Map<string, Vocabulary<true>>();
  for (const [name, terms] of Object.entries(r.cues)) {
    cueVocab.set(name, compileVocabulary([{ category: true as const, terms }], `cues.${name}`));
  }
  const groups: FindingGroup[] = r.findings.map((g, i) => {
    let cue: Vocabulary<true> | null = null;
    if (g.requiresCue !== undefined) {
      cue = cueVocab.get(g.requiresCue) ?? null;
      if (!cue) {
        throw new RulesError(
          `invalid rules file: findings.${i}.requiresCue: no cue list "${g.requiresCue}" in "cues" (have: ${[...cueVocab.keys()].join(', ') || 'none'})`,
        );
      }
    }
    return {
      kind: g.kind,
      maxStatus: g.maxStatus,
      cappedCue: g.cappedCue ?? 'hedge',
      acuity: g.acuity ?? null,
      defaultAcuity: g.defaultAcuity ?? null,
      cue,
      anatomyFromPreviousSentence: g.anatomyFromPreviousSentence ?? false,
    };
  });
  const headerNames = compileVocabulary(
    [
      { category: SECTION_ADDENDUM, terms: r.sections.addendum },
      { category: SECTION_CONCLUSION, terms: r.sections.conclusion },
      { category: SECTION_BODY, terms: r.sections.asserted },
      { category: SECTION_IGNORED, terms: r.sections.ignored },
    ],
    'sections',
  );
  const t = r.triggers;
  // The published lexicon's entries join the trigger lists their class and direction read from.
  const lex = lexiconTriggerLists(r.lexicon);
  const acuityRank = { acute: 0, healing: 0, old: 0 };
  r.attributes.acuityPriority.forEach((a, i) => (acuityRank[a] = 3 - i));
  if (new Set(r.attributes.acuityPriority).size !== 3) {
    throw new RulesError(
      'invalid rules file: attributes.acuityPriority must list acute, healing and old once each',
    );
  }
  return {
    version: r.version,
    sectionKind: headerNames,
    textBeforeFirstHeaderAsserted: r.sections.textBeforeFirstHeader === 'asserted',
    finding: compileVocabulary(
      r.findings.map((g, i) => ({ category: i, terms: g.terms.filter((t) => !isShortTerm(t)) })),
      'findings',
    ),
    findingAnchors: anchorRegex(requiredSubstrings(r.findings.flatMap((g) => g.terms))),
    findingShort: r.findings.some((g) => g.terms.some(isShortTerm))
      ? compileVocabulary(
          r.findings.map((g, i) => ({ category: i, terms: g.terms.filter(isShortTerm) })),
          'findings',
        )
      : null,
    groups,
    anatomy: compileVocabulary(
      (['device', 'none', 'rib', 'clavicle', 'other'] as const).map((c) => ({
        category: c,
        terms: r.anatomy[c],
      })),
      'anatomy',
    ),
    boneTerms: {
      rib: compileVocabulary([{ category: true, terms: r.anatomy.rib }], 'anatomy.rib').re,
      clavicle: compileVocabulary([{ category: true, terms: r.anatomy.clavicle }], 'anatomy.clavicle').re,
      other: compileVocabulary([{ category: true, terms: r.anatomy.other }], 'anatomy.other').re,
    },
    triggers: compileVocabulary(
      (
        [
          'pseudo',
          'notAsserted',
          'negationPost',
          'hedgePost',
          'negationPre',
          'hedgePre',
          'hedgeAdjacent',
          'history',
          'terminators',
        ] as const
      ).map((k) => ({
        category: (k === 'terminators' ? 'terminator' : k) as TriggerKind,
        terms: k === 'hedgeAdjacent' ? t[k] : [...lex[k], ...t[k]],
      })),
      'triggers',
    ),
    recommendation: compileVocabulary(
      [{ category: true, terms: t.recommendation }],
      'triggers.recommendation',
    ),
    nounPhraseTail:
      r.nounPhraseTails.length > 0
        ? new RegExp(
            compileVocabulary([{ category: true, terms: r.nounPhraseTails }], 'nounPhraseTails').re.source,
            'iy',
          )
        : null,
    negationQualifiers: new Set(r.attributes.negationQualifiers.map((w) => w.toLowerCase())),
    listContinuations: t.listContinuations.map((p) => p.toLowerCase().trim().split(/\s+/)),
    abbreviations: {
      always: new Set(r.abbreviations.always.map((w) => w.toLowerCase().replace(/\.$/, ''))),
      beforeLowercase: new Set(
        r.abbreviations.beforeLowercase.map((w) => w.toLowerCase().replace(/\.$/, '')),
      ),
    },
    anotherFinding: new Set(r.attributes.anotherFinding.map((w) => w.toLowerCase())),
    fixationRelations: r.attributes.fixationRelations.map((p) => p.toLowerCase().trim().split(/\s+/)),
    side: compileVocabulary(
      (['bilateral', 'left', 'right'] as const).map((c) => ({ category: c, terms: r.attributes.side[c] })),
      'attributes.side',
    ),
    acuity: compileVocabulary(
      (['acute', 'healing', 'old'] as const).map((c) => ({ category: c, terms: r.attributes.acuity[c] })),
      'attributes.acuity',
    ),
    acuityRank,
    modifiers: new Set(r.attributes.modifiers.map((m) => m.toLowerCase())),
    windows: r.windows,
    unattributedFracture: r.unattributedFracture,
  };
}

function anchorRegex(anchors: string[] | null): RegExp | null {
  // A plain alternation of a few literals: much faster than lower-casing the text and searching it.
  return anchors === null
    ? null
    : new RegExp(anchors.map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'i');
}

function isShortTerm(t: Term): boolean {
  return typeof t === 'string' && t.trim().length < 4;
}

let defaults: CompiledRules | undefined;

/** The shipped fracture-rules.json, compiled on first use. */
export function defaultRules(): CompiledRules {
  // Validated by test/unit/report-rules/rules-file.test.ts (schema defaults add nothing to it).
  defaults ??= buildRules(defaultRulesFile as RulesFile);
  return defaults;
}

export const defaultRulesFileContent: unknown = defaultRulesFile;
