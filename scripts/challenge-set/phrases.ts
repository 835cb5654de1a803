/**
 * Building blocks of the challenge-set composer: a seeded random source and fracture noun phrases
 * with the gold attributes they carry (bone, side, acuity, rib numbers), written by hand from US
 * chest radiograph reporting conventions. Nothing here imports the rule engine: the gold labels
 * come from what the phrases say, by the labelling rules of shared/data/openi-dev/README.md.
 */
import type { LabelStatus } from '../../services/shared/vocabulary.ts';
import { ORD_NUM as ORD, ORD_WORD } from '../../tools/synth/report-text.ts';

export type Acuity = 'acute' | 'healing' | 'old' | 'unspecified';
export type Side = 'left' | 'right' | 'bilateral' | 'unspecified';
export type Bone = 'rib' | 'clavicle' | 'other';

export interface ClassGold {
  status: LabelStatus;
  acuity: Acuity | null;
  side: Side | null;
  ribs?: number[];
}

export interface LabelledCase {
  id: string;
  batch: string;
  topic: string;
  text: string;
  rib: ClassGold;
  clavicle: ClassGold;
  other: { status: LabelStatus };
  note?: string;
}

/** What one fracture phrase asserts about its bone, before any trigger is applied. */
export interface Finding {
  bone: Bone;
  acuity: Acuity;
  side: Side;
  ribs: number[];
}

/** A fracture noun phrase: `bare` without article ("acute fracture of the left 6th rib"). */
export interface NounPhrase {
  bare: string;
  plural: boolean;
  finding: Finding;
}

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export { ORD, ORD_WORD };

/** Acuity words as README groups them; '' = none stated. */
export const ACUITY_WORDS: Record<Acuity, readonly string[]> = {
  acute: ['acute', 'new', 'recent', 'acute-appearing', 'acute or subacute'],
  healing: ['healing', 'subacute', 'partially healed'],
  old: [
    'old',
    'healed',
    'chronic',
    'remote',
    'old healed',
    'well-healed',
    'chronic-appearing',
    'remote healed',
  ],
  unspecified: ['', '', '', 'age-indeterminate'],
};
const DISPLACEMENT = ['', '', '', 'nondisplaced', 'minimally displaced', 'displaced', 'mildly displaced'];
const RIB_POSITION = ['', '', 'anterior', 'posterior', 'lateral', 'posterolateral', 'anterolateral'];
const CLAVICLE_PART = ['distal', 'midshaft', 'medial', 'mid'];

export function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function article(phrase: string): string {
  return /^(?:[aeio]|un|age|8th|11th|18)/i.test(phrase) && !/^one/i.test(phrase) ? 'an' : 'a';
}

/** "a(n) X" for a singular phrase, "X" for a plural one. */
export function withArticle(np: NounPhrase): string {
  return np.plural ? np.bare : `${article(np.bare)} ${np.bare}`;
}

export function be(np: NounPhrase): string {
  return np.plural ? 'are' : 'is';
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

export function pickAcuity(rng: Rng, weights: Partial<Record<Acuity, number>> = {}): Acuity {
  const w = { acute: 1, healing: 1, old: 1, unspecified: 1.5, ...weights };
  let r = rng.next() * (w.acute + w.healing + w.old + w.unspecified);
  for (const a of ['acute', 'healing', 'old', 'unspecified'] as const) {
    r -= w[a];
    if (r < 0) return a;
  }
  return 'unspecified';
}

function acuityWord(rng: Rng, a: Acuity): string {
  return rng.pick(ACUITY_WORDS[a]);
}

/** A rib numbering in one of the usual written forms, with the numbers it names. */
export function ribNumbers(rng: Rng, forceMany = false): { text: string; ribs: number[]; plural: boolean } {
  const kind = forceMany ? rng.int(1, 5) : rng.int(0, 5);
  const a = rng.int(2, 9);
  const b = Math.min(12, a + 2 + rng.int(0, 1));
  const range = (): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  switch (kind) {
    case 0:
      return rng.chance(0.25)
        ? { text: ORD_WORD[a]!, ribs: [a], plural: false }
        : { text: ORD[a]!, ribs: [a], plural: false };
    case 1:
      return { text: `${ORD[a]} and ${ORD[a + 1]}`, ribs: [a, a + 1], plural: true };
    case 2:
      return { text: `${ORD[a]}-${ORD[b]}`, ribs: range(), plural: true };
    case 3:
      return { text: `${ORD[a]} through ${ORD[b]}`, ribs: range(), plural: true };
    case 4:
      return { text: `${ORD[a]} to ${ORD[b]}`, ribs: range(), plural: true };
    default:
      return b - a >= 2
        ? { text: `${ORD[a]}, ${ORD[a + 1]}, and ${ORD[b]}`, ribs: [a, a + 1, b], plural: true }
        : { text: `${ORD_WORD[a]} and ${ORD_WORD[b]}`, ribs: [a, b], plural: true };
  }
}

export interface PhraseOptions {
  acuity?: Acuity;
  side?: Side;
  /** Leave the rib numbers out ("left rib fractures"). */
  noNumbers?: boolean;
  /** No displacement word (when a frame adds its own). */
  plain?: boolean;
}

export function ribPhrase(rng: Rng, o: PhraseOptions = {}): NounPhrase {
  const acuity = o.acuity ?? pickAcuity(rng);
  const side: Side = o.side ?? rng.pick(['left', 'right', 'left', 'right', 'unspecified'] as const);
  const sideWord = side === 'unspecified' ? '' : side;
  const acu = acuityWord(rng, acuity);
  const disp = o.plain ? '' : rng.pick(DISPLACEMENT);
  const pos = rng.pick(RIB_POSITION);
  if (o.noNumbers || rng.chance(0.15)) {
    const plural = side === 'bilateral' || rng.chance(0.6);
    const many = plural && rng.chance(0.3) ? 'multiple' : '';
    const s = side === 'bilateral' ? 'bilateral' : sideWord;
    const bare = rng.chance(0.5)
      ? join(many, acu, disp, s, plural ? 'rib fractures' : 'rib fracture')
      : join(many, acu, disp, plural ? 'fractures of the' : 'fracture of a', s, plural ? 'ribs' : 'rib');
    return { bare, plural, finding: { bone: 'rib', acuity, side, ribs: [] } };
  }
  const nums = ribNumbers(rng);
  const ribWord = nums.plural ? 'ribs' : 'rib';
  const s = side === 'bilateral' ? '' : sideWord;
  const finding: Finding = {
    bone: 'rib',
    acuity,
    side: side === 'bilateral' ? 'unspecified' : side,
    ribs: nums.ribs,
  };
  switch (rng.int(0, 4)) {
    case 0:
      return {
        bare: join(
          acu,
          disp,
          nums.plural ? 'fractures of the' : 'fracture of the',
          s,
          pos,
          nums.text,
          ribWord,
        ),
        plural: nums.plural,
        finding,
      };
    case 1:
      return {
        bare: join(acu, disp, s, pos, nums.text, nums.plural ? 'rib fractures' : 'rib fracture'),
        plural: nums.plural,
        finding,
      };
    case 2:
      if (s === '') break;
      return {
        bare: join(
          acu,
          disp,
          nums.plural ? 'fractures of the' : 'fracture of the',
          pos,
          nums.text,
          ribWord,
          `on the ${s}`,
        ),
        plural: nums.plural,
        finding,
      };
    case 3:
      if (nums.plural || acu !== '') break;
      return { bare: join('fractured', s, pos, nums.text, 'rib'), plural: false, finding };
    default:
      break;
  }
  return {
    bare: join(acu, disp, s, pos, nums.text, nums.plural ? 'rib fractures' : 'rib fracture'),
    plural: nums.plural,
    finding,
  };
}

export function claviclePhrase(rng: Rng, o: PhraseOptions = {}): NounPhrase {
  const acuity = o.acuity ?? pickAcuity(rng);
  const side: Side = o.side ?? rng.pick(['left', 'right', 'left', 'right', 'unspecified'] as const);
  const s = side === 'unspecified' ? '' : side === 'bilateral' ? 'bilateral' : side;
  const acu = acuityWord(rng, acuity);
  const disp = o.plain ? '' : rng.pick(DISPLACEMENT);
  const part = rng.pick(CLAVICLE_PART);
  const finding: Finding = { bone: 'clavicle', acuity, side, ribs: [] };
  if (side === 'bilateral')
    return { bare: join(acu, disp, 'bilateral clavicle fractures'), plural: true, finding };
  switch (rng.int(0, 5)) {
    case 0:
      return { bare: join(acu, disp, 'fracture of the', s, 'clavicle'), plural: false, finding };
    case 1:
      return { bare: join(acu, disp, 'fracture of the', part, s, 'clavicle'), plural: false, finding };
    case 2:
      return { bare: join(acu, disp, s, 'clavicular fracture'), plural: false, finding };
    case 3:
      return { bare: join(acu, disp, s, part, 'clavicle fracture'), plural: false, finding };
    case 4:
      if (acu !== '' || s === '') break;
      return { bare: join('fractured', s, 'clavicle'), plural: false, finding };
    default:
      break;
  }
  return { bare: join(acu, disp, s, 'clavicle fracture'), plural: false, finding };
}

export function otherPhrase(rng: Rng, o: PhraseOptions = {}): NounPhrase {
  const acuity = o.acuity ?? pickAcuity(rng, { healing: 0.3 });
  const acu = acuityWord(rng, acuity);
  const side = rng.pick(['left', 'right'] as const);
  const t = rng.int(6, 12);
  const bare = rng.pick([
    join(acu, `compression fracture of the T${t} vertebral body`),
    join(acu, `T${t} compression fracture`),
    join(acu, `fracture of the ${side} scapula`),
    join(acu, `${side} proximal humerus fracture`),
    join(acu, `fracture of the ${side} humeral neck`),
    join(acu, 'sternal fracture'),
    join(acu, `${side} scapular body fracture`),
    join(acu, `fracture of the ${side} acromion`),
  ]);
  return { bare, plural: false, finding: { bone: 'other', acuity, side: 'unspecified', ribs: [] } };
}

export function bonePhrase(rng: Rng, bone: Bone, o: PhraseOptions = {}): NounPhrase {
  return bone === 'rib'
    ? ribPhrase(rng, o)
    : bone === 'clavicle'
      ? claviclePhrase(rng, o)
      : otherPhrase(rng, o);
}

export function pickBone(rng: Rng): Bone {
  const r = rng.next();
  return r < 0.58 ? 'rib' : r < 0.9 ? 'clavicle' : 'other';
}

/** The bone named without a fracture ("the left 6th rib"), for descriptor sentences. */
export function boneSite(rng: Rng, f: Finding): string {
  const s = f.side === 'unspecified' || f.side === 'bilateral' ? '' : f.side;
  if (f.bone === 'rib') {
    if (f.ribs.length === 0) return join('the', s, f.side === 'bilateral' ? 'ribs bilaterally' : 'ribs');
    const one = f.ribs.length === 1;
    const nums = one
      ? ORD[f.ribs[0]!]!
      : `${ORD[f.ribs[0]!]}${f.ribs.length > 2 ? '-' : ' and '}${ORD[f.ribs[f.ribs.length - 1]!]}`;
    return join('the', s, rng.pick(RIB_POSITION), nums, one ? 'rib' : 'ribs');
  }
  if (f.bone === 'clavicle') return join('the', rng.pick(['', ...CLAVICLE_PART]), s, 'clavicle');
  return rng.pick([
    'the sternum',
    `the T${rng.int(6, 12)} vertebral body`,
    `the ${rng.pick(['left', 'right'])} scapula`,
  ]);
}

/** A finding with no fracture phrase of its own, to describe a bone before a hedged fracture. */
export function siteFinding(rng: Rng, bone: Bone, acuity: Acuity = 'unspecified'): Finding {
  if (bone === 'rib') {
    const a = rng.int(3, 10);
    const many = rng.chance(0.25);
    return {
      bone,
      acuity,
      side: rng.pick(['left', 'right', 'left', 'right', 'unspecified'] as const),
      ribs: rng.chance(0.85) ? (many ? [a, a + 1] : [a]) : [],
    };
  }
  return { bone, acuity, side: rng.pick(['left', 'right', 'unspecified'] as const), ribs: [] };
}

export const NEG: ClassGold = { status: 'negative', acuity: null, side: null };

export function goldOf(status: LabelStatus, f: Finding): ClassGold {
  if (status === 'negative') return { ...NEG };
  const g: ClassGold = { status, acuity: f.acuity, side: f.side };
  if (f.bone === 'rib' && f.ribs.length > 0) g.ribs = [...f.ribs];
  return g;
}

const STATUS_RANK: Record<LabelStatus, number> = { negative: 0, uncertain: 1, positive: 2 };
const ACUITY_RANK: Record<Acuity, number> = { unspecified: 0, old: 1, healing: 2, acute: 3 };

/**
 * The label of one class from the mentions that count (after the section precedence rule): the
 * strongest status; among the mentions with it, the most acute acuity, the sides merged (left and
 * right = bilateral) and the rib numbers together.
 */
export function combine(mentions: Array<{ status: LabelStatus; f: Finding }>, bone: Bone): ClassGold {
  const ms = mentions.filter((m) => m.f.bone === bone);
  let best: LabelStatus = 'negative';
  for (const m of ms) if (STATUS_RANK[m.status] > STATUS_RANK[best]) best = m.status;
  if (best === 'negative') return { ...NEG };
  const win = ms.filter((m) => m.status === best);
  let acuity: Acuity = 'unspecified';
  let side: Side | null = null;
  const ribs = new Set<number>();
  for (const m of win) {
    if (ACUITY_RANK[m.f.acuity] > ACUITY_RANK[acuity]) acuity = m.f.acuity;
    if (m.f.side !== 'unspecified') side = side === null || side === m.f.side ? m.f.side : 'bilateral';
    for (const r of m.f.ribs) ribs.add(r);
  }
  const g: ClassGold = { status: best, acuity, side: side ?? 'unspecified' };
  if (bone === 'rib' && ribs.size > 0) g.ribs = [...ribs].sort((a, b) => a - b);
  return g;
}

/** Sentences with no fracture, rib, clavicle or other-bone word, to surround the ones tested. */
export const FILLER = [
  'The heart size is normal.',
  'Lungs are clear.',
  'The lungs are clear bilaterally.',
  'No pleural effusion.',
  'No focal consolidation.',
  'Cardiomediastinal silhouette is within normal limits.',
  'Mild cardiomegaly is unchanged.',
  'There is no pneumothorax.',
  'No pneumothorax or pleural effusion.',
  'Atherosclerotic calcification of the aortic arch.',
  'Hyperinflated lungs consistent with emphysema.',
  'Mild bibasilar atelectasis.',
  'Pulmonary vascularity is normal.',
  'Stable mediastinal contours.',
  'Small left pleural effusion.',
  'Patchy right basilar opacity may represent atelectasis or pneumonia.',
];

export const IMPRESSION_FILLER = [
  'No acute cardiopulmonary abnormality.',
  'No acute cardiopulmonary process.',
  'No active disease.',
  'Stable chest.',
  'Mild bibasilar atelectasis.',
];

/** FINDINGS (with filler around the tested sentence) and sometimes a neutral IMPRESSION. */
export function report(rng: Rng, sentence: string, impression?: string): string {
  const before = rng.chance(0.5) ? `${rng.pick(FILLER)} ` : '';
  const after = rng.chance(0.4) ? ` ${rng.pick(FILLER)}` : '';
  const body = `${before}${sentence}${after}`;
  const header = rng.chance(0.85);
  let text = header ? `FINDINGS: ${body}` : body;
  if (impression !== undefined) text += `\nIMPRESSION: ${impression}`;
  else if (header && rng.chance(0.35)) text += `\nIMPRESSION: ${rng.pick(IMPRESSION_FILLER)}`;
  return text;
}
