import type { LabelStatus } from '../vocabulary.ts';
import {
  defaultRules,
  SECTION_BODY,
  SECTION_IGNORED,
  type Acuity,
  type AnatomyClass,
  type BoneClass,
  type CompiledRules,
  type FindingGroup,
  type Side,
  type TriggerKind,
} from './compile.ts';
import { isRibNumberWord, ribNumbersAround } from './rib-numbers.ts';
import { MatchIndex, type Match } from './match-index.ts';
import { isWordChar, lastNonSpaceBefore, sentenceBounds, wordsBetween, wordsIn } from './text-scan.ts';
import { normaliseMatch } from './vocabulary.ts';

export interface Evidence {
  start: number;
  end: number;
  text: string;
}

/** What made a mention negative or uncertain (null: asserted as written). */
export type Cue = 'negation' | 'hedge' | 'history' | 'hardware' | 'conditional';

/** One mention of a bone's fracture, and how it was read. */
export interface LabelReason {
  /** What this mention says on its own. */
  status: LabelStatus;
  cue: Cue | null;
  /** The finding term ("fracture", "fx", "callus", "deformity"). */
  finding: Evidence;
  /** The words that changed it ("cannot be excluded", "no", "sternal wire", "history of"); null when none. */
  trigger: Evidence | null;
  /** Lower-case header of its section ("findings", "impression", "addendum", "indication"); null before any. */
  section: string | null;
  /** Whether it decided the label (false: weaker, replaced by a later section, or not read). */
  decided: boolean;
}

export interface ClassLabel {
  status: LabelStatus;
  acuity: 'acute' | 'healing' | 'old' | 'unspecified' | null;
  side: 'left' | 'right' | 'bilateral' | 'unspecified' | null;
  ribs: number[];
  /** The sentences of the mentions that decided the label. */
  evidence: Evidence[];
  /** The cue that made the label negative or uncertain; null when positive or nothing was mentioned. */
  cue: Cue | null;
  /** Every mention of this bone, in reading order (at most MAX_REASONS). */
  reasons: LabelReason[];
}

export interface ReportLabels {
  rib: ClassLabel;
  clavicle: ClassLabel;
  other: ClassLabel;
  ruleVersion: string;
}

interface Hit<C> {
  start: number;
  end: number;
  cls: C;
}

interface Sentence {
  start: number;
  end: number;
  section: number;
  anatomy: Hit<AnatomyClass>[] | null;
  triggers: Hit<TriggerKind>[] | null;
  /** The sentence before it in the same section (undefined: not looked up yet; null: none). */
  previous?: Sentence | null;
  /** Per bone class, indexes of the anatomy hits of another bone class (long sentences only). */
  otherBones?: Partial<Record<BoneClass, number[]>>;
}

interface Mention {
  cls: BoneClass;
  status: LabelStatus;
  acuity: Acuity | null;
  side: Side | null;
  ribs: number[];
  sentence: Sentence;
  /** Section rank (SECTION_*): a later-ranked section replaces the same finding lower down. */
  rank: number;
  section: string | null;
  /** False for mentions only reported (in an ignored section, or of hardware). */
  counts: boolean;
  /** Marked as a finding of its own ("additional"): replaces nothing. */
  another: boolean;
  /** A negation qualified by acuity or displacement: replaces nothing. */
  qualified: boolean;
  cue: Cue | null;
  trigger: Span | null;
  fs: number;
  fe: number;
}

interface Span {
  start: number;
  end: number;
}

/** How the triggers read one mention. */
interface Decision {
  status: LabelStatus;
  trigger: Hit<TriggerKind> | undefined;
}

/** The bones a finding is about (bonesOfFinding). */
interface FindingBones {
  /** Every anatomy term of the finding's sentence. */
  anatomy: Hit<AnatomyClass>[];
  /** The bone (or device) terms the finding attaches to, with those coordinated with them. */
  anchor: Hit<AnatomyClass>[];
  /** The sentence the anchor is in: the finding's own, or the one before for elliptic findings. */
  anchorSentence: Sentence;
  /** Index in `anatomy` of anchor[0] (sentences with many hits only), else -1. */
  anchorFirst: number;
}

/** A finding with its bones: what the status, acuity and side steps read. */
interface FindingPhrase extends FindingBones {
  fs: number;
  fe: number;
  sent: Sentence;
  sameSentence: boolean;
  /** The phrase: the finding word with its bones when they are in the same sentence. */
  aStart: number;
  aEnd: number;
}

const STATUS_RANK: Record<LabelStatus, number> = { negative: 0, uncertain: 1, positive: 2 };
/** Reasons kept per class label (a pathological text can mention a bone thousands of times). */
const MAX_REASONS = 16;
/** Words before a mention read for "additional" and for a qualified negation. */
const PHRASE_WORDS = 4;
const CONNECTORS = new Set(['and', 'or', 'nor']);
/** A list item after a finding ("..., fracture, effusion, or consolidation") is at most this long. */
const LIST_ITEM_WORDS = 5;
/** Items after the finding looked at for the and/or that ends its list. */
const MAX_LIST_ITEMS = 4;
/** Words that negate the acuity word right after them ("no acute fracture. Old healed ..."). */
const ACUITY_NEGATORS = new Set(['no', 'not', 'without', 'nor']);
/** Words that attach an anatomy phrase after a finding to it ("fracture of the right clavicle"). */
const ATTACHING = new Set(['of', 'in', 'involving', 'through', 'at', 'along', 'about', 'to', 'within']);
/** An appositive after a comma ("rib fracture, likely acute") is read for acuity if this short. */
const APPOSITIVE_WORDS = 6;
/** Words after the acuity window still read as the finding's predicate. */
const PREDICATE_WORDS = 8;
/** Words that make a mention point back to one named before ("the underlying clavicle fracture"). */
const ANAPHORIC = new Set([
  'the',
  'this',
  'these',
  'that',
  'those',
  'underlying',
  'same',
  'aforementioned',
  'above',
]);
const ANAPHORA_WORDS = 3;
/** How far before an acuity window a multi-word acuity phrase may start ("acute or subacute"). */
const ACUITY_OVERLAP_CHARS = 24;
/** What joins two ages offered as alternatives ("acute or old", "subacute versus chronic"). */
const ACUITY_ALTERNATIVE = /^\s*(?:,\s*)?(?:or|versus|vs\.?|\/)\s*$/i;
/**
 * Above these sizes the per-finding look-ups use indexes (regex matches, word counts, anatomy by
 * class) so a text with many findings labels in about linear time; below them the direct scans are
 * as fast. Both give the same result.
 */
const LONG_TEXT_CHARS = 4096;
const MANY_HITS = 32;
const LONG_WORD_SPAN = 256;

function negativeLabel(): ClassLabel {
  return { status: 'negative', acuity: null, side: null, ribs: [], evidence: [], cue: null, reasons: [] };
}

/**
 * Labels one report: for rib, clavicle and other bone a status (positive, uncertain, negative),
 * and for positive/uncertain the acuity, side, rib numbers and evidence spans (offsets into
 * `text`). Only asserted sections (findings, impression...) count; history/indication do not.
 */
/** The labels of a report no part of which can hold a finding term (see cannotHaveFindings). */
export function negativeLabels(rules: CompiledRules = defaultRules()): ReportLabels {
  return allNegative(rules);
}

export function labelReport(text: string, rules: CompiledRules = defaultRules()): ReportLabels {
  // Most reports mention no finding term at all: one quick test of a few substrings decides them.
  if (cannotHaveFindings(text, rules)) return allNegative(rules);
  const found: Array<{ start: number; end: number; group: FindingGroup }> = [];
  collectFindings(text, rules.finding, rules, found);
  if (rules.findingShort) {
    const before = found.length;
    collectFindings(text, rules.findingShort, rules, found);
    if (before > 0 && found.length > before) {
      // Merge the short terms in reading order; drop any inside a longer match.
      found.sort((x, y) => x.start - y.start || y.end - x.end);
      for (let i = found.length - 1; i > 0; i--) if (found[i]!.start < found[i - 1]!.end) found.splice(i, 1);
    }
  }
  if (found.length === 0) return allNegative(rules);
  const labeller = new ReportLabeller(text, rules);
  // Each finding's side window stops at its neighbours ("healed left rib fracture and old
  // fracture of the right clavicle"), so all are collected first.
  for (let i = 0; i < found.length; i++) {
    const f = found[i]!;
    labeller.finding(f.start, f.end, f.group, found[i - 1]?.end ?? 0, found[i + 1]?.start ?? text.length);
  }
  return labeller.result();
}

const negatives = new WeakMap<CompiledRules, ReportLabels>();

/**
 * The labels of a report with no finding (most reports): one frozen object per rules, shared, so
 * labelling an export allocates nothing for them.
 */
function allNegative(rules: CompiledRules): ReportLabels {
  let l = negatives.get(rules);
  if (!l) {
    const cls = (): ClassLabel =>
      Object.freeze({ ...negativeLabel(), ribs: frozen, evidence: frozenE, reasons: frozenR });
    l = Object.freeze({ rib: cls(), clavicle: cls(), other: cls(), ruleVersion: rules.version });
    negatives.set(rules, l);
  }
  return l;
}
const frozen: number[] = Object.freeze([]) as unknown as number[];
const frozenE: Evidence[] = Object.freeze([]) as unknown as Evidence[];
const frozenR: LabelReason[] = Object.freeze([]) as unknown as LabelReason[];

/**
 * Whether a text cannot hold a finding term of these rules (a quick test; false when unsure). Lets a
 * caller skip building a report text from its parts when none of the parts can match.
 */
export function cannotHaveFindings(text: string, rules: CompiledRules = defaultRules()): boolean {
  return rules.findingAnchors !== null && !rules.findingAnchors.test(text);
}

function collectFindings(
  text: string,
  vocab: CompiledRules['finding'],
  rules: CompiledRules,
  out: Array<{ start: number; end: number; group: FindingGroup }>,
): void {
  const re = vocab.re;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    const group = rules.groups[vocab.categoryOf(m[0], text, start) ?? -1];
    if (group) out.push({ start, end, group });
    if (end === start) re.lastIndex++;
  }
}

class ReportLabeller {
  private readonly mentions: Mention[] = [];
  private sections: Array<{ at: number; rank: number; name: string }> | null = null;
  private readonly sentences = new Map<number, Sentence>();
  private lastSentence: Sentence | null = null;
  private readonly long: boolean;
  private readonly indexes = new Map<RegExp, MatchIndex>();
  /** wordStarts[i]: number of word starts before i (long texts, built on first use). */
  private wordStarts: Int32Array | null = null;

  constructor(
    private readonly text: string,
    private readonly rules: CompiledRules,
  ) {
    this.long = text.length > LONG_TEXT_CHARS;
  }

  /** The match of `re` that exec would find from position p (indexed for long texts). */
  private nextMatch(re: RegExp, p: number): Match | null {
    if (!this.long) {
      re.lastIndex = p;
      const m = re.exec(this.text);
      return m === null ? null : { start: m.index, end: m.index + m[0].length, text: m[0] };
    }
    let index = this.indexes.get(re);
    if (!index) {
      index = new MatchIndex(this.text, re);
      this.indexes.set(re, index);
    }
    return index.next(p);
  }

  /** wordsBetween, in O(1) over long spans. */
  private words(from: number, to: number): number {
    if (to - from < LONG_WORD_SPAN) return wordsBetween(this.text, from, to);
    if (this.wordStarts === null) {
      const { text } = this;
      const ws = new Int32Array(text.length + 1);
      let prev = false;
      let n = 0;
      for (let i = 0; i < text.length; i++) {
        ws[i] = n;
        const w = isWordChar(text.charCodeAt(i));
        if (w && !prev) n++;
        prev = w;
      }
      ws[text.length] = n;
      this.wordStarts = ws;
    }
    return this.wordStarts[to]! - this.wordStarts[from]!;
  }

  finding(
    fs: number,
    fe: number,
    group: FindingGroup,
    prevFindingEnd: number,
    nextFindingStart: number,
  ): void {
    const rank = this.rankAt(fs);
    const sent = this.sentenceAt(fs);
    const cueMatch = group.cue ? this.matchIn(group.cue.re, sent.start, sent.end) : null;
    if (group.cue && cueMatch === null) return;

    const bones = this.bonesOfFinding(fs, fe, group, sent);
    if (bones === null) return;
    const { anchor } = bones;
    if (anchor.every((a) => !isBone(a.cls))) {
      // "Fractured sternal wire", "fractured screw of the right clavicle plate": hardware, not bone;
      // reported on the bones the sentence names so a reviewer sees why the word did not count.
      const device = anchor.find((a) => a.cls === 'device');
      if (device) this.hardwareMention(sent, fs, fe, rank, device);
      return;
    }
    if (rank === SECTION_IGNORED) {
      // Indication, history, comparison: never read, only reported.
      for (const cls of new Set(anchor.map((a) => a.cls).filter(isBone))) {
        this.pushAside(cls, sent, fs, fe, rank, 'history', null);
      }
      return;
    }
    // Built field by field: a spread of `bones` here cost about a tenth of labelling a finding.
    const phrase: FindingPhrase = {
      anatomy: bones.anatomy,
      anchor,
      anchorSentence: bones.anchorSentence,
      anchorFirst: bones.anchorFirst,
      fs,
      fe,
      sent,
      sameSentence: bones.anchorSentence === sent,
      aStart: bones.anchorSentence === sent ? Math.min(fs, anchor[0]!.start) : fs,
      aEnd: bones.anchorSentence === sent ? Math.max(fe, anchor[anchor.length - 1]!.end) : fe,
    };
    const { status, cue, trigger } = this.statusOfFinding(phrase, group, cueMatch);
    const phraseStart = this.windowStart(sent, phrase.aStart, PHRASE_WORDS);
    const another = wordsIn(this.text, phraseStart, phrase.aStart).some((w) =>
      this.rules.anotherFinding.has(w),
    );
    const qualified =
      status === 'negative' &&
      wordsIn(this.text, phraseStart, fs).some((w) => this.rules.negationQualifiers.has(w));
    const section = this.sectionNameAt(fs);
    const acuity = this.acuityOfFinding(phrase, group, nextFindingStart);
    const seen = new Set<BoneClass>();
    for (const a of anchor) {
      if (!isBone(a.cls) || seen.has(a.cls)) continue;
      seen.add(a.cls);
      const ribs =
        a.cls === 'rib'
          ? this.ribsOf(
              anchor.filter((x) => x.cls === 'rib'),
              bones.anchorSentence,
            )
          : [];
      this.mentions.push({
        cls: a.cls,
        status,
        acuity,
        side: this.sideOfBoneInPhrase(phrase, a, prevFindingEnd, nextFindingStart),
        ribs,
        sentence: sent,
        rank,
        section,
        counts: true,
        another,
        qualified,
        cue: status === 'positive' ? null : cue,
        trigger: status === 'positive' ? null : trigger,
        fs,
        fe,
      });
    }
  }

  /**
   * Which bone a finding is about: the nearest anatomy term in its sentence, then anything
   * coordinated with it (or, for groups that allow it, the last bone of the sentence before); an
   * unattributed fracture where the rules count it; null when the finding names nothing to label.
   */
  private bonesOfFinding(fs: number, fe: number, group: FindingGroup, sent: Sentence): FindingBones | null {
    const { text, rules } = this;
    const anatomy = this.anatomyOf(sent);
    let anchor: Hit<AnatomyClass>[] = [];
    let anchorSentence = sent;
    /** Index in `anatomy` of anchor[0] (sentences with many hits only). */
    let anchorFirst = -1;
    if (anatomy.length > MANY_HITS) {
      const best = this.nearestAnatomy(anatomy, fs, fe, sent.end);
      if (best.index >= 0 && best.dist <= rules.windows.anatomyWords) {
        anchorFirst = this.coordinatedFrom(anatomy, best.index);
        anchor = this.coordinated(anatomy, anatomy[best.index]!, best.index);
      }
    } else if (anatomy.length > 0) {
      let best: Hit<AnatomyClass> | undefined;
      let bestDist = Infinity;
      for (const a of anatomy) {
        if (a.end > fs && a.start < fe) continue;
        const d =
          a.end <= fs
            ? wordsBetween(text, a.end, fs)
            : this.attachedAfter(fe, a.start)
              ? -1
              : wordsBetween(text, fe, a.start) + 0.5;
        if (d < bestDist) {
          bestDist = d;
          best = a;
        }
      }
      if (best && bestDist <= rules.windows.anatomyWords) anchor = this.coordinated(anatomy, best);
    } else if (group.anatomyFromPreviousSentence) {
      const prev = this.previousSentence(sent);
      if (prev) {
        // "Left clavicle plate with lucency around the screws. The fracture line remains visible":
        // a device or an examination named after a bone names that bone for the next sentence.
        const bones = this.anatomyOf(prev)
          .map((a) => this.asNamedBone(a))
          .filter((a) => isBone(a.cls));
        const last = bones[bones.length - 1];
        if (last) {
          anchor = this.coordinated(bones, last);
          anchorSentence = prev;
        }
      }
    }
    if (anchor.length > 0 && anchor.every((a) => !isBone(a.cls))) {
      // "Dedicated clavicle radiographs show no fracture": a finding of a bone's examination is
      // the bone's; "plate and screws across a healed fracture": the fracture is the fixed bone's.
      if (anchor.some((a) => a.cls === 'none'))
        anchor = anchor.map((a) => (a.cls === 'none' ? this.asNamedBone(a) : a));
      const fixed = this.fixedBone(anatomy, anchor, fs, fe);
      if (fixed) {
        anchor = [fixed.hit];
        anchorFirst = anatomy.length > MANY_HITS ? fixed.index : -1;
      }
    }
    if (anchor.length === 0) {
      if (group.maxStatus !== 'positive' || rules.unattributedFracture === 'ignore' || anatomy.length > 0)
        return null;
      anchor = [{ start: fs, end: fe, cls: 'other' }];
    }
    return { anatomy, anchor, anchorSentence, anchorFirst };
  }

  /**
   * A device or examination term as the bone it is named after ("clavicle plate", "dedicated
   * clavicle", "rib series"); other hits as they are.
   */
  private asNamedBone(a: Hit<AnatomyClass>): Hit<AnatomyClass> {
    if (isBone(a.cls)) return a;
    for (const cls of ['rib', 'clavicle', 'other'] as const) {
      const m = this.nextMatch(this.rules.boneTerms[cls], a.start);
      if (m !== null && m.end <= a.end) return { start: a.start, end: a.end, cls };
    }
    return a;
  }

  /**
   * The bone a device before the finding fixes, when a fixation relation joins the two ("right
   * clavicle ORIF with plate and screws across a healed midshaft fracture"): the nearest bone of
   * the sentence (or device named after one: "clavicle plate") within the anatomy window.
   */
  private fixedBone(
    anatomy: Hit<AnatomyClass>[],
    anchor: Hit<AnatomyClass>[],
    fs: number,
    fe: number,
  ): { hit: Hit<AnatomyClass>; index: number } | null {
    const device = anchor.filter((a) => a.cls === 'device' && a.end <= fs).pop();
    if (!device) return null;
    const words = wordsIn(this.text, device.end, fs);
    const relation = this.rules.fixationRelations.find((r) => r.every((w, k) => words[k] === w));
    if (!relation) return null;
    if (!words.slice(relation.length).every((w) => this.rules.modifiers.has(w) || isRibNumberWord(w)))
      return null;
    let best: { hit: Hit<AnatomyClass>; index: number } | null = null;
    let bestDist = this.rules.windows.anatomyWords + 1;
    anatomy.forEach((a, index) => {
      const hit = this.asNamedBone(a);
      if (!isBone(hit.cls)) return;
      const d = a.end <= fs ? this.words(a.end, fs) : this.words(fe, a.start);
      if (d < bestDist) {
        bestDist = d;
        best = { hit, index };
      }
    });
    return best;
  }

  /** Positive, uncertain or negative, with the cue and trigger that decided it. */
  private statusOfFinding(
    phrase: FindingPhrase,
    group: FindingGroup,
    cueMatch: Span | null,
  ): { status: LabelStatus; cue: Cue | null; trigger: Span | null } {
    const { sent, fs, fe, anchor } = phrase;
    // Post-triggers are read after the whole noun phrase: "fractures of the right 4th and 5th ribs
    // cannot be excluded" is as near as "rib fractures cannot be excluded".
    let postFrom = fe;
    if (phrase.sameSentence) {
      const last = anchor[anchor.length - 1]!;
      if (last.start >= fe && this.attachedAfter(fe, last.start)) postFrom = last.end;
    }
    postFrom = this.nounPhraseEnd(postFrom, sent.end);
    const decision = this.assertion(sent, fs, fe, postFrom);
    let status = decision.status;
    let cue = cueOf(decision.trigger?.cls);
    let trigger: Span | null = decision.trigger ?? null;
    if (status === 'positive' && group.maxStatus === 'uncertain') {
      status = 'uncertain';
      cue = group.cappedCue;
      trigger = cueMatch ?? { start: fs, end: fe };
    }
    if (status === 'uncertain' && cue === 'hedge' && phrase.sameSentence) {
      // "Recommend dedicated rib views to exclude rib fracture": a screening recommendation about a
      // bone it names, not a suspicion ("Focal lucency. Recommend correlation to exclude fracture"
      // refers back to a finding and stays a hedge).
      const rec = this.matchIn(this.rules.recommendation.re, sent.start, fs);
      if (rec) {
        status = 'negative';
        cue = 'conditional';
        trigger = rec;
      }
    }
    return { status, cue, trigger };
  }

  /** The acuity the group fixes, else the nearest acuity word around the phrase or after it. */
  private acuityOfFinding(
    phrase: FindingPhrase,
    group: FindingGroup,
    nextFindingStart: number,
  ): Acuity | null {
    if (group.acuity !== null) return group.acuity;
    const { sent } = phrase;
    const w = this.rules.windows;
    if (group.defaultAcuity) return this.bestAcuity(sent.start, sent.end, sent) ?? group.defaultAcuity;
    const to = this.windowEnd(sent, phrase.aEnd, w.acuityWordsAfter);
    return (
      this.bestAcuity(this.windowStart(sent, phrase.aStart, w.acuityWordsBefore), to, sent) ??
      this.appositiveAcuity(sent, to, nextFindingStart) ??
      this.predicateAcuity(sent, to, nextFindingStart)
    );
  }

  /** The side of one bone of the phrase, read within bounds that other findings and bones set. */
  private sideOfBoneInPhrase(
    phrase: FindingPhrase,
    a: Hit<AnatomyClass>,
    prevFindingEnd: number,
    nextFindingStart: number,
  ): Side | null {
    const { sent, anatomy, anchor, anchorSentence, sameSentence, aStart, aEnd, fs } = phrase;
    const cls = a.cls as BoneClass;
    const sideFrom = sameSentence ? Math.min(aStart, a.start) : a.start;
    const sideTo = sameSentence ? Math.max(aEnd, a.end) : a.end;
    // The side window stops at a neighbouring finding and at another bone outside this phrase
    // ("healed left rib fracture and old fracture of the right clavicle").
    let lo = 0;
    let hi = Infinity;
    if (sameSentence) {
      if (prevFindingEnd <= sideFrom) lo = prevFindingEnd;
      if (nextFindingStart >= sideTo) hi = nextFindingStart;
    }
    if (sameSentence && anatomy.length > MANY_HITS) {
      // Same bounds as the loop below, from the other bones' hits by binary search: only the
      // last one ending before the phrase and the first one starting after it can move them.
      const others = this.otherBonesOf(sent, anatomy, cls);
      const aFirst = phrase.anchorFirst;
      const aLast = aFirst + anchor.length - 1;
      let j = firstIndex(others, (k) => anatomy[k]!.end > sideFrom) - 1;
      while (j >= 0 && others[j]! >= aFirst && others[j]! <= aLast) j--;
      if (j >= 0 && anatomy[others[j]!]!.end > lo) lo = anatomy[others[j]!]!.end;
      j = firstIndex(others, (k) => anatomy[k]!.start >= sideTo);
      while (j < others.length && others[j]! >= aFirst && others[j]! <= aLast) j++;
      if (j < others.length && anatomy[others[j]!]!.start < hi)
        hi = this.premodifiersStart(anatomy[others[j]!]!.start, sideTo);
    } else if (sameSentence) {
      for (const o of anatomy) {
        if (o.cls === cls || !isBone(o.cls) || anchor.includes(o)) continue;
        if (o.end <= sideFrom && o.end > lo) lo = o.end;
        if (o.start >= sideTo && o.start < hi) hi = this.premodifiersStart(o.start, sideTo);
      }
    }
    // Coordinated bones with sides of their own ("left clavicle and right rib fractures") keep
    // them; a bone without one takes the side of the whole phrase ("left clavicle and rib").
    let side: Side | null = null;
    if (sameSentence && anchor.length > 1) {
      // Bounded by the conjuncts of other bones only: "right 5th and left 6th ribs" is one rib.
      let ownLo = lo;
      let ownHi = hi;
      for (const o of anchor) {
        if (o.cls === cls || !isBone(o.cls)) continue;
        if (o.end <= a.start && o.end > ownLo) ownLo = o.end;
        if (o.start >= a.end && o.start < ownHi) ownHi = this.premodifiersStart(o.start, a.end);
      }
      if (ownLo !== lo || ownHi !== hi) side = this.sideIn(anchorSentence, sideFrom, sideTo, ownLo, ownHi);
    }
    side ??= this.sideIn(anchorSentence, sideFrom, sideTo, lo, hi);
    // "Broken right clavicular hardware. The underlying clavicle fracture is healed.": a definite
    // mention without a side of its own refers back to the same bone in the sentence before.
    if (side === null && sameSentence && this.isAnaphoric(sent, Math.min(fs, a.start))) {
      side = this.sideOfBoneIn(this.previousSentence(sent), cls);
    }
    return side;
  }

  result(): ReportLabels {
    return {
      rib: this.combine('rib'),
      clavicle: this.combine('clavicle'),
      other: this.combine('other'),
      ruleVersion: this.rules.version,
    };
  }

  /**
   * The label of one bone from its mentions, by the precedence rule (README): a mention in a later-
   * ranked section (impression over findings, addendum over both) replaces the same finding lower
   * down; then the strongest status wins and its mentions give acuity, side and rib numbers.
   */
  private combine(cls: BoneClass): ClassLabel {
    const all = this.mentions.filter((m) => m.cls === cls);
    if (all.length === 0) return allNegative(this.rules)[cls];
    const counting = all.filter((m) => m.counts);
    // Mentions that can replace lower ones, one per (rank, side, rib numbers): a long text repeats
    // the same few, and comparing every pair would be quadratic in its mentions.
    const replacers = new Map<string, Mention>();
    for (const h of counting) {
      if (
        h.rank <= SECTION_BODY ||
        h.another ||
        (h.status === 'negative' && (h.qualified || h.cue === 'conditional'))
      )
        continue;
      const key = `${h.rank}|${h.side}|${h.ribs.join(',')}`;
      if (!replacers.has(key)) replacers.set(key, h);
    }
    const kept =
      replacers.size === 0
        ? counting
        : counting.filter((m) => {
            for (const h of replacers.values()) if (h.rank > m.rank && sameFinding(h, m)) return false;
            return true;
          });
    let best: LabelStatus = 'negative';
    for (const m of kept) if (STATUS_RANK[m.status] > STATUS_RANK[best]) best = m.status;
    const ms = kept.filter((m) => m.status === best);
    // A bone only named where the rules do not read (indication, hardware) is shown by those.
    const deciding = ms.length > 0 || best !== 'negative' ? ms : all;
    const evidence: Evidence[] = [];
    const inEvidence = new Set<number>();
    for (const m of deciding) {
      const s = m.sentence;
      if (!inEvidence.has(s.start)) {
        inEvidence.add(s.start);
        evidence.push({ start: s.start, end: s.end, text: this.text.slice(s.start, s.end) });
      }
    }
    const decidingSet = new Set(deciding);
    const reasons = all.slice(0, MAX_REASONS).map((m) => this.reasonOf(m, decidingSet.has(m)));
    const cue = best === 'positive' ? null : (deciding.find((m) => m.cue !== null)?.cue ?? null);
    if (best === 'negative')
      return { status: best, acuity: null, side: null, ribs: [], evidence, cue, reasons };
    let acuity: Acuity | null = null;
    for (const m of ms) {
      if (m.acuity && (acuity === null || this.rules.acuityRank[m.acuity] > this.rules.acuityRank[acuity])) {
        acuity = m.acuity;
      }
    }
    const ribs = [...new Set(ms.flatMap((m) => m.ribs))].sort((a, b) => a - b);
    let side = mergeSides(ms.map((m) => m.side));
    if (side === null && ribs.length > 0) side = this.sideFromOtherRibMentions(ribs);
    return {
      status: best,
      acuity: acuity ?? 'unspecified',
      side: side ?? 'unspecified',
      ribs,
      evidence,
      cue,
      reasons,
    };
  }

  private reasonOf(m: Mention, decided: boolean): LabelReason {
    const span = (x: Span): Evidence => ({
      start: x.start,
      end: x.end,
      text: this.text.slice(x.start, x.end),
    });
    return {
      status: m.status,
      cue: m.cue,
      finding: span({ start: m.fs, end: m.fe }),
      trigger: m.trigger ? span(m.trigger) : null,
      section: m.section,
      decided,
    };
  }

  /** A mention that is reported but never decides (ignored section, hardware). */
  private pushAside(
    cls: BoneClass,
    sent: Sentence,
    fs: number,
    fe: number,
    rank: number,
    cue: Cue,
    trigger: Span | null,
  ): void {
    this.mentions.push({
      cls,
      status: 'negative',
      acuity: null,
      side: null,
      ribs: [],
      sentence: sent,
      rank,
      section: this.sectionNameAt(fs),
      counts: false,
      another: false,
      qualified: false,
      cue,
      trigger,
      fs,
      fe,
    });
  }

  private hardwareMention(sent: Sentence, fs: number, fe: number, rank: number, device: Span): void {
    for (const cls of ['rib', 'clavicle', 'other'] as const) {
      if (this.matchIn(this.rules.boneTerms[cls], sent.start, sent.end)) {
        this.pushAside(cls, sent, fs, fe, rank, 'hardware', device);
      }
    }
  }

  /**
   * Extends a finding's noun phrase over tails such as "on the left" and "seen on the prior study"
   * ("... ribs on the left seen on the prior study are no longer visualized").
   */
  private nounPhraseEnd(from: number, sentEnd: number): number {
    const re = this.rules.nounPhraseTail;
    if (!re) return from;
    let end = from;
    for (let k = 0; k < 3; k++) {
      let i = end;
      while (i < sentEnd && isSpaceCode(this.text.charCodeAt(i))) i++;
      if (this.text.charCodeAt(i) === 44) i++;
      while (i < sentEnd && isSpaceCode(this.text.charCodeAt(i))) i++;
      re.lastIndex = i;
      const m = re.exec(this.text);
      if (m === null || m.index + m[0].length > sentEnd) break;
      end = m.index + m[0].length;
    }
    return end;
  }

  /**
   * Negated, hedged or asserted, from the nearest trigger in scope before the finding or after its
   * noun phrase (which ends at postFrom).
   */
  private assertion(sent: Sentence, fs: number, fe: number, postFrom: number): Decision {
    const triggers = this.triggersOf(sent);
    let pre: Hit<TriggerKind> | undefined;
    let post: Hit<TriggerKind> | undefined;
    if (triggers.length > MANY_HITS) return this.assertionAmong(sent, triggers, fs, fe, postFrom);
    let before: Hit<TriggerKind> | undefined;
    /** An open conditional ("if", "should there be"): a hedge inside it is hypothetical too. */
    let conditional: Hit<TriggerKind> | undefined;
    for (const t of triggers) {
      if (t.end <= fs) {
        if (t.cls === 'terminator') {
          pre = undefined;
          before = undefined;
          conditional = undefined;
          continue;
        }
        if (!isPreTrigger(t.cls)) continue;
        const last = before;
        before = t;
        if (t.cls === 'hedgeAdjacent' && !this.adjacent(sent, t.end, fs)) continue;
        if (this.preScopeOpen(t, fs, postFrom, sent)) {
          pre = this.negatedHedge(last, t) ?? t;
          if (t.cls === 'notAsserted') conditional = t;
          else if (isHedge(pre.cls) && conditional) pre = conditional;
        }
      } else if (t.start >= postFrom && post === undefined) {
        if (t.cls === 'terminator') break;
        if (t.cls !== 'negationPost' && t.cls !== 'hedgePost') continue;
        if (this.postScopeOpen(postFrom, t)) post = t;
      }
    }
    return this.statusFrom(pre, post, fs, postFrom);
  }

  /**
   * A hedge right after a negation is negated with it: "no apparent fracture", "no XXXX fracture",
   * "without possible ..." (the negation, when only modifiers stand between the two).
   */
  private negatedHedge(
    previous: Hit<TriggerKind> | undefined,
    t: Hit<TriggerKind>,
  ): Hit<TriggerKind> | undefined {
    if (previous?.cls !== 'negationPre' || (t.cls !== 'hedgePre' && t.cls !== 'hedgeAdjacent'))
      return undefined;
    return this.modifiersOnly(previous.end, t.start) && !/[,;:]/.test(this.text.slice(previous.end, t.start))
      ? previous
      : undefined;
  }

  /**
   * Whether only modifiers, rib numbers and bone names stand between `from` and the finding at
   * `fs`, with no punctuation: "XXXX left 6th rib fracture", "apparent displaced clavicular fracture".
   */
  private adjacent(sent: Sentence, from: number, fs: number): boolean {
    const { text } = this;
    const anatomy = this.anatomyOf(sent);
    let i = from;
    while (i < fs) {
      const c = text.charCodeAt(i);
      if (c === 59 || c === 58) return false;
      // A comma only inside a list of rib numbers ("XXXX 7th, 8th, and 9th rib fractures").
      if (c === 44 && !this.ribNumberListGoesOn(i + 1, fs)) return false;
      if (!isWordChar(c)) {
        i++;
        continue;
      }
      const a = anatomy.find((h) => h.start <= i && i < h.end && isBone(h.cls));
      if (a) {
        i = a.end;
        continue;
      }
      let e = i;
      while (e < fs && isWordChar(text.charCodeAt(e))) e++;
      const w = text.slice(i, e).toLowerCase();
      if (!this.rules.modifiers.has(w) && !isRibNumberWord(w)) return false;
      i = e;
    }
    return true;
  }

  private statusFrom(
    pre: Hit<TriggerKind> | undefined,
    post: Hit<TriggerKind> | undefined,
    fs: number,
    fe: number,
  ): Decision {
    let use = pre;
    if (pre && post) {
      use = this.words(pre.end, fs) <= this.words(fe, post.start) ? pre : post;
    } else if (!pre) use = post;
    if (!use) return { status: 'positive', trigger: undefined };
    return { status: isHedge(use.cls) ? 'uncertain' : 'negative', trigger: use };
  }

  /**
   * assertion() for a sentence with many triggers, visiting only the triggers that can decide:
   * the pre trigger is the last one in scope after the last terminator, so it is searched
   * backwards; the post one forwards, up to the first post trigger out of scope (a comma or too
   * many words in between close the scope of every later one too).
   */
  private assertionAmong(
    sent: Sentence,
    triggers: Hit<TriggerKind>[],
    fs: number,
    fe: number,
    postFrom: number,
  ): Decision {
    let pre: Hit<TriggerKind> | undefined;
    let post: Hit<TriggerKind> | undefined;
    for (let j = firstIndex(triggers, (t) => t.end > fs) - 1; j >= 0; j--) {
      const t = triggers[j]!;
      if (t.cls === 'terminator') break;
      if (!isPreTrigger(t.cls)) continue;
      if (t.cls === 'hedgeAdjacent' && !this.adjacent(sent, t.end, fs)) continue;
      if (this.preScopeOpen(t, fs, postFrom, sent)) {
        let k = j - 1;
        while (k >= 0 && !isPreTrigger(triggers[k]!.cls) && triggers[k]!.cls !== 'terminator') k--;
        pre = (k >= 0 ? this.negatedHedge(triggers[k], t) : undefined) ?? t;
        if (isHedge(pre.cls)) {
          // An open conditional before it makes the hedge hypothetical (as in assertion()).
          for (let c = j - 1; c >= 0 && triggers[c]!.cls !== 'terminator'; c--) {
            const u = triggers[c]!;
            if (u.cls === 'notAsserted' && this.preScopeOpen(u, fs, postFrom, sent)) {
              pre = u;
              break;
            }
          }
        }
        break;
      }
      // A clause comma that closes this trigger's scope closes that of every earlier one too
      // (their first segment only gains words), unless the trigger ends inside a word.
      if (!(isWordChar(this.text.charCodeAt(t.end - 1)) && isWordChar(this.text.charCodeAt(t.end)))) break;
    }
    for (let j = firstIndex(triggers, (t) => t.start >= postFrom); j < triggers.length; j++) {
      const t = triggers[j]!;
      if (t.cls === 'terminator') break;
      if (t.cls !== 'negationPost' && t.cls !== 'hedgePost') continue;
      if (!this.postScopeOpen(postFrom, t)) break;
      post = t;
      break;
    }
    return this.statusFrom(pre, post, fs, postFrom);
  }

  /**
   * A comma ends a trigger's scope unless it only separates modifiers ("no acute, displaced rib
   * fracture") or the finding is an item of a list joined by and/or, the last ("no effusion,
   * pneumothorax, or fracture") or one before it ("no pneumothorax, fracture, or effusion"; the
   * finding's noun phrase ends at npEnd).
   */
  private preScopeOpen(t: Hit<TriggerKind>, fs: number, npEnd: number, sent: Sentence): boolean {
    const { text } = this;
    let segStart = t.end;
    let lastComma = -1;
    for (let i = t.end; i < fs; i++) {
      if (text.charCodeAt(i) === 44) {
        if (!this.modifiersOnly(segStart, i) && !this.numberingComma(i, fs)) lastComma = i;
        segStart = i + 1;
      }
    }
    if (lastComma < 0) return true;
    const words = wordsIn(text, lastComma + 1, fs);
    // "..., including rib fractures": the clause after the comma elaborates the list.
    if (this.rules.listContinuations.some((c) => c.every((w, k) => words[k] === w))) return true;
    // A list goes on after the comma when an and/or joins its last item, with or without a serial
    // comma: "no effusion, pneumothorax, or fracture", "no pneumothorax, effusion or fracture";
    // not the "and" of a rib numbering ("without pneumothorax, the 5th and 6th rib fractures").
    for (let k = 0; k < words.length; k++) {
      if (!CONNECTORS.has(words[k]!)) continue;
      const inNumbering = k > 0 && isRibNumberWord(words[k - 1]!) && isRibNumberWord(words[k + 1] ?? '');
      if (!inNumbering) return true;
    }
    return this.listGoesOnAfter(npEnd, sent);
  }

  /**
   * Whether more items of a list follow the noun phrase ending at `from`: an and/or right after it
   * ("bone island, healing fracture or metastasis"), or short comma-separated items and then one
   * ("pneumothorax, rib fracture, effusion, or consolidation"). A predicate after the finding ("...,
   * the rib fractures are seen and ...") or a new trigger after the and/or ("..., healed rib
   * fracture and no acute ...") is no list item.
   */
  private listGoesOnAfter(from: number, sent: Sentence): boolean {
    const { text } = this;
    let i = from;
    while (i < sent.end && isSpaceCode(text.charCodeAt(i))) i++;
    const comma = text.charCodeAt(i) === 44;
    if (comma) i++;
    let items = 0;
    let words = 0;
    while (i < sent.end) {
      const c = text.charCodeAt(i);
      if (c === 44) {
        // Without a comma after the finding only an and/or right after it goes on with the list.
        if (!comma || words === 0 || ++items >= MAX_LIST_ITEMS) return false;
        words = 0;
        i++;
        continue;
      }
      if (!isWordChar(c)) {
        i++;
        continue;
      }
      let e = i;
      while (e < sent.end && isWordChar(text.charCodeAt(e))) e++;
      if (CONNECTORS.has(text.slice(i, e).toLowerCase())) return this.listItemAt(e, sent);
      if (!comma || ++words > LIST_ITEM_WORDS) return false;
      i = e;
    }
    return false;
  }

  /** Whether a list item starts after pos: a word that does not open a trigger of its own. */
  private listItemAt(pos: number, sent: Sentence): boolean {
    let p = pos;
    while (p < sent.end && !isWordChar(this.text.charCodeAt(p))) p++;
    if (p >= sent.end) return false;
    return !this.triggersOf(sent).some((t) => t.start === p && isPreTrigger(t.cls));
  }

  /** A comma inside a rib numbering ("evidence of 6th, 7th, and 9th rib fractures"): no clause ends there. */
  private numberingComma(comma: number, fs: number): boolean {
    const { text } = this;
    let e = comma;
    while (e > 0 && !isWordChar(text.charCodeAt(e - 1))) e--;
    let b = e;
    while (b > 0 && isWordChar(text.charCodeAt(b - 1))) b--;
    if (!isRibNumberWord(text.slice(b, e).toLowerCase())) return false;
    const [w0 = '', w1 = ''] = wordsIn(text, comma + 1, Math.min(fs, comma + 24));
    return isRibNumberWord(w0) || (CONNECTORS.has(w0) && isRibNumberWord(w1));
  }

  private postScopeOpen(fe: number, t: Hit<TriggerKind>): boolean {
    // Word count first: it is O(1) on long spans and false far more often than the comma scan.
    if (this.words(fe, t.start) > this.rules.windows.postTriggerWords) return false;
    for (let i = fe; i < t.start; i++) if (this.text.charCodeAt(i) === 44) return false;
    return true;
  }

  private modifiersOnly(from: number, to: number): boolean {
    // Rib numbers count as modifiers too: "old left 3rd, 4th and 5th rib fractures".
    for (const w of wordsIn(this.text, from, to)) {
      if (!this.rules.modifiers.has(w) && !isRibNumberWord(w)) return false;
    }
    return true;
  }

  /** Start of the modifiers right before pos ("and [left 5th] rib"), not before `floor`. */
  private premodifiersStart(pos: number, floor: number): number {
    const { text } = this;
    let start = pos;
    let i = pos - 1;
    for (;;) {
      while (i >= floor && !isWordChar(text.charCodeAt(i))) {
        if (text.charCodeAt(i) === 44) return start;
        i--;
      }
      const end = i + 1;
      while (i >= floor && isWordChar(text.charCodeAt(i))) i--;
      if (end - i <= 1) return start;
      const w = text.slice(i + 1, end).toLowerCase();
      if (!this.rules.modifiers.has(w) && !isRibNumberWord(w)) return start;
      start = i + 1;
    }
  }

  /** "fracture of the right clavicle": only attaching words and modifiers between the two. */
  private attachedAfter(fe: number, anatomyStart: number): boolean {
    const words = wordsIn(this.text, fe, anatomyStart);
    if (words.length === 0 || !ATTACHING.has(words[0]!)) return false;
    for (const w of words) {
      if (!ATTACHING.has(w) && !this.rules.modifiers.has(w) && !isRibNumberWord(w)) return false;
    }
    return true;
  }

  /**
   * Acuity stated in a short clause after a comma ("rib fracture, likely acute", "fracture, new
   * since prior"): only when that clause names no bone and no other finding.
   */
  private appositiveAcuity(sent: Sentence, from: number, nextFindingStart: number): Acuity | null {
    const { text } = this;
    if (text.charCodeAt(from) !== 44) return null;
    let end = from + 1;
    while (end < sent.end && text.charCodeAt(end) !== 44) end++;
    if (wordsBetween(text, from + 1, end) > APPOSITIVE_WORDS) return null;
    for (const a of this.anatomyOf(sent)) if (a.start >= from && a.start < end) return null;
    if (nextFindingStart < end) return null;
    return this.bestAcuity(from + 1, end, sent);
  }

  /**
   * Acuity stated by the predicate of the finding's own clause ("fracture of the right 9th rib
   * is again seen and appears to be healing"): up to the next comma, finding or bone.
   */
  private predicateAcuity(sent: Sentence, from: number, nextFindingStart: number): Acuity | null {
    const { text } = this;
    let end = Math.min(sent.end, nextFindingStart);
    for (let i = from; i < end; i++) if (text.charCodeAt(i) === 44) end = i;
    for (const a of this.anatomyOf(sent)) if (a.start >= from && a.start < end) end = a.start;
    if (wordsBetween(text, from, end) > PREDICATE_WORDS) return null;
    return this.bestAcuity(from, end, sent);
  }

  /** Start of a window of up to `words` words before pos, not crossing a clause comma. */
  private windowStart(sent: Sentence, pos: number, words: number): number {
    const { text } = this;
    let n = 0;
    let segEnd = pos;
    for (let i = pos - 1; i >= sent.start; i--) {
      const c = text.charCodeAt(i);
      if (c === 44) {
        if (!this.modifiersOnly(i + 1, segEnd)) return i + 1;
        segEnd = i;
        continue;
      }
      if (isWordChar(c) && (i === 0 || !isWordChar(text.charCodeAt(i - 1)))) {
        // Rib numbers belong to the noun phrase and do not use up the window: "old left 4th, 5th
        // and 6th rib fractures" reads "old" as "old left 4th rib fracture" does.
        if (this.isRibNumberAt(i)) continue;
        n++;
        if (n >= words) return i;
      }
    }
    return sent.start;
  }

  /** Whether the next word after pos is a rib number, or and/or before one. */
  private ribNumberListGoesOn(pos: number, to: number): boolean {
    const words = wordsIn(this.text, pos, Math.min(to, pos + 24));
    const w = CONNECTORS.has(words[0] ?? '') ? words[1] : words[0];
    return w !== undefined && isRibNumberWord(w);
  }

  private isRibNumberAt(i: number): boolean {
    const { text } = this;
    let e = i;
    while (e < text.length && e - i < 8 && isWordChar(text.charCodeAt(e))) e++;
    return e - i < 8 && isRibNumberWord(text.slice(i, e).toLowerCase());
  }

  /** End of a window of up to `words` words after pos, stopping at a comma. */
  private windowEnd(sent: Sentence, pos: number, words: number): number {
    const { text } = this;
    let n = 0;
    let inWord = false;
    for (let i = pos; i < sent.end; i++) {
      const c = text.charCodeAt(i);
      if (c === 44) return i;
      const isW = isWordChar(c);
      if (isW && !inWord) {
        if (n >= words) return i;
        n++;
      }
      inWord = isW;
    }
    return sent.end;
  }

  private bestAcuity(from: number, to: number, sent: Sentence): Acuity | null {
    const re = this.rules.acuity.re;
    let best: Acuity | null = null;
    // A phrase that starts before the window and ends inside it counts whole ("partially healed"
    // when the window starts at "healed").
    const scanFrom = Math.max(sent.start, from - ACUITY_OVERLAP_CHARS);
    const found: Array<{ a: Acuity; start: number; end: number }> = [];
    for (let m = this.nextMatch(re, scanFrom); m !== null && m.start < to; m = this.nextMatch(re, m.end)) {
      if (m.end > to) break;
      if (m.end <= from) continue;
      if (this.negatedWordAt(m.start)) continue;
      const a = this.rules.acuity.categoryOf(m.text, this.text, m.start);
      if (a) found.push({ a, start: m.start, end: m.end });
    }
    // Ages offered as alternatives ("an acute or old fracture", "subacute or chronic") give none.
    const alternative = found.map((f, i) =>
      [found[i - 1], found[i + 1]].some(
        (g) =>
          g !== undefined &&
          g.a !== f.a &&
          ACUITY_ALTERNATIVE.test(this.text.slice(Math.min(f.end, g.end), Math.max(f.start, g.start))),
      ),
    );
    found.forEach((f, i) => {
      if (!alternative[i] && (best === null || this.rules.acuityRank[f.a] > this.rules.acuityRank[best]))
        best = f.a;
    });
    return best;
  }

  /** Whether the word before pos negates it ("no acute ..."). */
  private negatedWordAt(pos: number): boolean {
    const { text } = this;
    let i = lastNonSpaceBefore(text, pos);
    const end = i + 1;
    while (i >= 0 && isWordChar(text.charCodeAt(i))) i--;
    return end - i > 1 && ACUITY_NEGATORS.has(text.slice(i + 1, end).toLowerCase());
  }

  private sideIn(sent: Sentence, from: number, to: number, lo = 0, hi = Infinity): Side | null {
    const w = this.rules.windows;
    const s = Math.max(lo, this.windowStart(sent, from, w.sideWordsBefore));
    const e = Math.min(hi, this.windowEnd(sent, to, w.sideWordsAfter));
    const re = this.rules.side.re;
    const sides: Array<Side | null> = [];
    for (let m = this.nextMatch(re, s); m !== null && m.start < e; m = this.nextMatch(re, m.end)) {
      if (m.end > e) break;
      sides.push(this.rules.side.categoryOf(m.text, this.text, m.start) ?? null);
    }
    return mergeSides(sides);
  }

  /** Whether the noun phrase ending at pos is definite ("the underlying clavicle ..."). */
  private isAnaphoric(sent: Sentence, pos: number): boolean {
    const words = wordsIn(this.text, this.windowStart(sent, pos, ANAPHORA_WORDS), pos);
    return words.some((w) => ANAPHORIC.has(w));
  }

  /** The one side given to a bone of class cls in the sentence (anywhere, device names too). */
  private sideOfBoneIn(sent: Sentence | undefined, cls: BoneClass): Side | null {
    if (!sent) return null;
    const re = this.rules.boneTerms[cls];
    const sides: Array<Side | null> = [];
    for (
      let m = this.nextMatch(re, sent.start);
      m !== null && m.end <= sent.end;
      m = this.nextMatch(re, m.end)
    ) {
      sides.push(this.sideIn(sent, m.start, m.end));
    }
    return mergeSides(sides);
  }

  private sideFromOtherRibMentions(ribs: number[]): Side | null {
    // "Lucency crosses the 10th left posterior rib. [...] Question of posterior 10 rib fracture."
    const re = this.rules.anatomy.re;
    const sides: Array<Side | null> = [];
    re.lastIndex = 0;
    for (let m = re.exec(this.text); m !== null; m = re.exec(this.text)) {
      if (this.rules.anatomy.categoryOf(m[0], this.text, m.index) !== 'rib') continue;
      const at = m.index;
      if (!this.assertedAt(at)) continue;
      const sent = this.sentenceAt(at);
      // "Possible additional left 7th-10th rib fractures" names other ribs than the ones looked up.
      const before = wordsIn(this.text, this.windowStart(sent, at, PHRASE_WORDS + 3), at);
      if (before.some((w) => this.rules.anotherFinding.has(w))) continue;
      const hit = { start: at, end: at + m[0].length, cls: 'rib' as const };
      const nums = this.ribsOf([hit], sent);
      if (nums.some((n) => ribs.includes(n))) sides.push(this.sideIn(sent, hit.start, hit.end));
    }
    return mergeSides(sides);
  }

  private ribsOf(hits: Hit<AnatomyClass>[], sent: Sentence): number[] {
    const out = new Set<number>();
    for (const h of hits) {
      const before = this.text.slice(Math.max(sent.start, h.start - 120), h.start);
      const after = this.text.slice(h.end, Math.min(sent.end, h.end + 60));
      for (const n of ribNumbersAround(before, after)) out.add(n);
    }
    return [...out].sort((a, b) => a - b);
  }

  /** The chosen anatomy hit plus hits joined to it by and/or/commas ("clavicle or rib"). */
  private coordinated(
    all: Hit<AnatomyClass>[],
    chosen: Hit<AnatomyClass>,
    at = all.indexOf(chosen),
  ): Hit<AnatomyClass>[] {
    const lo = this.coordinatedFrom(all, at);
    let hi = at;
    while (hi < all.length - 1 && this.isCoordination(all[hi]!.end, all[hi + 1]!.start)) hi++;
    return all.slice(lo, hi + 1);
  }

  private coordinatedFrom(all: Hit<AnatomyClass>[], i: number): number {
    let lo = i;
    while (lo > 0 && this.isCoordination(all[lo - 1]!.end, all[lo]!.start)) lo--;
    return lo;
  }

  /**
   * The anatomy hit the finding [fs, fe) belongs to, as the loop in finding() picks it (fewest
   * words away, before it first on ties; an attached phrase after it counts -1), found without
   * visiting every hit: word counts only grow with distance, so the best before it is in the
   * last run of equally near hits and the best after it is the first attached one or the first.
   */
  private nearestAnatomy(
    anatomy: Hit<AnatomyClass>[],
    fs: number,
    fe: number,
    sentEnd: number,
  ): { index: number; dist: number } {
    let index = -1;
    let dist = Infinity;
    const b = firstIndex(anatomy, (a) => a.end > fs);
    if (b > 0) {
      let j = b - 1;
      dist = this.words(anatomy[j]!.end, fs);
      while (j > 0 && this.words(anatomy[j - 1]!.end, fs) === dist) j--;
      index = j;
    }
    const k = firstIndex(anatomy, (a) => a.start >= fe);
    if (k >= anatomy.length) return { index, dist };
    let after = k;
    let afterDist = this.words(fe, anatomy[k]!.start) + 0.5;
    const run = this.attachingRun(fe, sentEnd);
    for (let j = k; j < anatomy.length && anatomy[j]!.start < run.badEnd; j++) {
      const s = anatomy[j]!.start;
      const midWord = s > 0 && isWordChar(this.text.charCodeAt(s - 1)) && isWordChar(this.text.charCodeAt(s));
      if (midWord ? this.attachedAfter(fe, s) : run.first < s && s <= run.bad) {
        after = j;
        afterDist = -1;
        break;
      }
    }
    return afterDist < dist ? { index: after, dist: afterDist } : { index, dist };
  }

  /**
   * Words after fe as attachedAfter reads them: start of the first word, and start and end of
   * the first word that ends an attachment (Infinity when none before sentEnd).
   */
  private attachingRun(fe: number, sentEnd: number): { first: number; bad: number; badEnd: number } {
    const { text } = this;
    let first = Infinity;
    let i = fe;
    while (i < sentEnd) {
      while (i < sentEnd && !isWordChar(text.charCodeAt(i))) i++;
      const ws = i;
      while (i < sentEnd && isWordChar(text.charCodeAt(i))) i++;
      if (i === ws) break;
      const w = text.slice(ws, i).toLowerCase();
      const ok =
        first === Infinity
          ? ATTACHING.has(w)
          : ATTACHING.has(w) || this.rules.modifiers.has(w) || isRibNumberWord(w);
      if (first === Infinity) first = ws;
      if (!ok) return { first, bad: ws, badEnd: i };
    }
    return { first, bad: Infinity, badEnd: Infinity };
  }

  private otherBonesOf(sent: Sentence, anatomy: Hit<AnatomyClass>[], cls: BoneClass): number[] {
    sent.otherBones ??= {};
    let list = sent.otherBones[cls];
    if (!list) {
      list = [];
      for (let i = 0; i < anatomy.length; i++) {
        const c = anatomy[i]!.cls;
        if (c !== cls && isBone(c)) list.push(i);
      }
      sent.otherBones[cls] = list;
    }
    return list;
  }

  private isCoordination(from: number, to: number): boolean {
    const gap = this.text.slice(from, to);
    if (!/(?:^|[^A-Za-z])(?:and|or|&|\/|,)(?:[^A-Za-z]|$)|[,&/]/i.test(gap)) return false;
    for (const w of wordsIn(this.text, from, to)) {
      if (!CONNECTORS.has(w) && !this.rules.modifiers.has(w) && !/^\d+(?:st|nd|rd|th)?$/.test(w))
        return false;
    }
    return true;
  }

  /** The first match of re inside [from, to), or null. */
  private matchIn(re: RegExp, from: number, to: number): Span | null {
    const m = this.nextMatch(re, from);
    return m !== null && m.end <= to ? { start: m.start, end: m.end } : null;
  }

  private assertedAt(pos: number): boolean {
    return this.rankAt(pos) !== SECTION_IGNORED;
  }

  private rankAt(pos: number): number {
    const sec = this.sectionAt(pos);
    if (sec >= 0) return this.sections![sec]!.rank;
    return this.rules.textBeforeFirstHeaderAsserted ? SECTION_BODY : SECTION_IGNORED;
  }

  private sectionNameAt(pos: number): string | null {
    const sec = this.sectionAt(pos);
    return sec >= 0 ? this.sections![sec]!.name : null;
  }

  private sectionAt(pos: number): number {
    if (this.sections === null) {
      this.sections = sectionHeaders(this.text, this.rules);
    }
    // Last section header at or before pos.
    const list = this.sections;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.at <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  private sentenceAt(pos: number): Sentence {
    // Findings come in reading order: most look-ups fall in the sentence looked up last, and
    // finding its bounds again would scan the whole sentence once per finding.
    const last = this.lastSentence;
    if (last && pos >= last.start && pos < last.end && !isSpaceCode(this.text.charCodeAt(last.start)))
      return last;
    const [start, end] = sentenceBounds(this.text, pos, this.rules.abbreviations);
    let s = this.sentences.get(start);
    if (!s) {
      s = { start, end, section: this.sectionAt(start), anatomy: null, triggers: null };
      this.sentences.set(start, s);
    }
    this.lastSentence = s;
    return s;
  }

  private previousSentence(sent: Sentence): Sentence | undefined {
    if (sent.previous === undefined) sent.previous = this.findPreviousSentence(sent) ?? null;
    return sent.previous ?? undefined;
  }

  private findPreviousSentence(sent: Sentence): Sentence | undefined {
    let pos = sent.start;
    // Skip list numbers ("1.") between sentences.
    for (let hops = 0; hops < 3; hops++) {
      const last = lastNonSpaceBefore(this.text, pos);
      if (last < 0) return undefined;
      const prev = this.sentenceAt(last);
      if (prev.section !== sent.section) return undefined;
      if (/[A-Za-z]/.test(this.text.slice(prev.start, prev.end))) return prev;
      pos = prev.start;
    }
    return undefined;
  }

  private anatomyOf(sent: Sentence): Hit<AnatomyClass>[] {
    if (sent.anatomy === null) sent.anatomy = this.scan(this.rules.anatomy, sent);
    return sent.anatomy;
  }

  private triggersOf(sent: Sentence): Hit<TriggerKind>[] {
    if (sent.triggers === null) {
      const hits: Hit<TriggerKind>[] = [];
      const re = this.rules.triggers.re;
      for (
        let m = this.nextMatch(re, sent.start);
        m !== null && m.start < sent.end;
        m = this.nextMatch(re, m.end === m.start ? m.end + 1 : m.end)
      ) {
        if (m.end > sent.end) break;
        for (const cls of this.rules.triggers.categoriesOf(m.text, this.text, m.start)) {
          hits.push({ start: m.start, end: m.end, cls });
        }
      }
      sent.triggers = hits;
    }
    return sent.triggers;
  }

  private scan<C>(
    vocab: { re: RegExp; categoryOf(s: string, text?: string, at?: number): C | undefined },
    sent: Sentence,
  ): Hit<C>[] {
    const hits: Hit<C>[] = [];
    const re = vocab.re;
    for (
      let m = this.nextMatch(re, sent.start);
      m !== null && m.start < sent.end;
      m = this.nextMatch(re, m.end === m.start ? m.end + 1 : m.end)
    ) {
      if (m.end > sent.end) break;
      const cls = vocab.categoryOf(m.text, this.text, m.start);
      if (cls !== undefined) hits.push({ start: m.start, end: m.end, cls });
    }
    return hits;
  }
}

/**
 * The known section headers of a text, in order: a name of the rules' section lists followed by a
 * colon, at the start of the text, of a line or of a sentence ("... clear. IMPRESSION: ..."). Found
 * from the colons (a report has few) rather than by trying every header name at every position.
 * `at` is the boundary before the name (the line break or the sentence's end), as a regex
 * `(?:^|[\r\n]|[.!?;][ \t]+)[ \t]*NAME[ \t]*:` would report it.
 */
function sectionHeaders(
  text: string,
  rules: CompiledRules,
): Array<{ at: number; rank: number; name: string }> {
  const list: Array<{ at: number; rank: number; name: string }> = [];
  for (let c = text.indexOf(':'); c >= 0; c = text.indexOf(':', c + 1)) {
    let e = c;
    while (e > 0 && isBlank(text.charCodeAt(e - 1))) e--;
    let b = e;
    while (b > 0 && isHeaderChar(text.charCodeAt(b - 1))) b--;
    let at: number;
    if (b === 0) at = 0;
    else {
      const p = text.charCodeAt(b - 1);
      if (p === 10 || p === 13) at = b - 1;
      else if ((p === 46 || p === 33 || p === 63 || p === 59) && b < e && isBlank(text.charCodeAt(b)))
        at = b - 1;
      else continue;
    }
    while (b < e && isBlank(text.charCodeAt(b))) b++;
    if (b === e) continue;
    const name = normaliseMatch(text.slice(b, e));
    const rank = rules.sectionKind.categoryOf(name);
    if (rank !== undefined) list.push({ at, rank, name });
  }
  return list;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** Characters a header name may hold: letters, digits, blanks, "/", "&", "-". */
function isHeaderChar(c: number): boolean {
  return isWordChar(c) || c === 32 || c === 9 || c === 47 || c === 38 || c === 45;
}

function isPreTrigger(k: TriggerKind): boolean {
  return (
    k === 'negationPre' || k === 'hedgePre' || k === 'hedgeAdjacent' || k === 'history' || k === 'notAsserted'
  );
}

function isHedge(k: TriggerKind): boolean {
  return k === 'hedgePre' || k === 'hedgePost' || k === 'hedgeAdjacent' || k === 'history';
}

function isBone(c: AnatomyClass): c is BoneClass {
  return c !== 'none' && c !== 'device';
}

function cueOf(k: TriggerKind | undefined): Cue | null {
  if (k === undefined) return null;
  if (k === 'negationPre' || k === 'negationPost') return 'negation';
  if (k === 'notAsserted') return 'conditional';
  if (k === 'history') return 'history';
  return isHedge(k) ? 'hedge' : null;
}

/**
 * Whether two mentions of a bone can be the same finding: sides not in conflict (either unstated,
 * or one bilateral) and rib numbers not disjoint (or either unstated).
 */
function sameFinding(a: Mention, b: Mention): boolean {
  if (a.side && b.side && a.side !== b.side && a.side !== 'bilateral' && b.side !== 'bilateral') return false;
  if (a.ribs.length > 0 && b.ribs.length > 0 && !a.ribs.some((r) => b.ribs.includes(r))) return false;
  return true;
}

/** First index whose item satisfies `pred`, for a predicate false then true along the array. */
function firstIndex<T>(items: readonly T[], pred: (item: T) => boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(items[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function isSpaceCode(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 160;
}

function mergeSides(sides: Array<Side | null>): Side | null {
  let out: Side | null = null;
  for (const s of sides) {
    if (s === null) continue;
    if (out === null) out = s;
    else if (out !== s) return 'bilateral';
  }
  return out;
}
