/**
 * Batch 8: abbreviations and ranges (L/R/B/bilat, lt/rt, fx/fxs, post./ant./lat., "ribs 3-5",
 * "3rd-5th", "left 4th through 6th") and negation scope across coordination and lists ("no
 * pneumothorax or rib fracture", "no acute fracture; old left rib fractures"). Abbreviations as in
 * US radiology dictation and the RadLex/ACR lists of common report abbreviations; scope as NegEx
 * defines it (a negation reaches through a list joined by and/or, and stops at a clause boundary).
 */
import type { LabelStatus } from '../../services/shared/vocabulary.ts';
import { draftGold } from './batch-hedges.ts';
import {
  ACUITY_WORDS,
  bonePhrase,
  capitalise,
  combine,
  ORD,
  report,
  type Acuity,
  type Finding,
  type LabelledCase,
  type Rng,
  type Side,
} from './phrases.ts';

type Draft = { text: string; status: LabelStatus; f: Finding; topic: string };
type MultiDraft = { text: string; mentions: Array<{ status: LabelStatus; f: Finding }>; topic: string };

const SIDE_ABBR: Record<'left' | 'right', readonly string[]> = {
  left: ['L', 'L.', 'lt', 'Lt.', 'left'],
  right: ['R', 'R.', 'rt', 'Rt.', 'right'],
};
const POS_ABBR = ['post.', 'ant.', 'lat.', 'post', 'ant', 'lat', 'posterolat.', 'anterolat.'];
const FX = ['fx', 'fxs', 'fx.', 'Fx'];

function acuityWord(rng: Rng, a: Acuity): string {
  const w = rng.pick(ACUITY_WORDS[a].filter((x) => x !== 'age-indeterminate'));
  return w ? `${w} ` : '';
}

/** Rib ranges in the written forms of the issue, with the numbers they name. */
function ribRange(rng: Rng): { before: string; after: string; ribs: number[] } {
  const a = rng.int(2, 8);
  const b = a + rng.int(1, 3);
  const all = Array.from({ length: b - a + 1 }, (_, i) => a + i);
  switch (rng.int(0, 6)) {
    case 0:
      return { before: '', after: `ribs ${a}-${b}`, ribs: all };
    case 1:
      return { before: `${ORD[a]}-${ORD[b]}`, after: 'ribs', ribs: all };
    case 2:
      return { before: `${ORD[a]} through ${ORD[b]}`, after: 'ribs', ribs: all };
    case 3:
      return { before: '', after: `ribs ${a} through ${b}`, ribs: all };
    case 4:
      return { before: `${a}-${b}`, after: 'ribs', ribs: all };
    case 5:
      return { before: '', after: `ribs ${a} to ${b}`, ribs: all };
    default:
      return { before: `${ORD[a]} to ${ORD[b]}`, after: 'ribs', ribs: all };
  }
}

function abbreviationDraft(rng: Rng, form: number): Draft {
  const side = rng.pick(['left', 'right'] as const);
  const s = rng.pick(SIDE_ABBR[side]);
  const acuity = rng.pick(['acute', 'healing', 'old', 'unspecified', 'unspecified'] as const);
  const acu = acuityWord(rng, acuity);
  const fx = rng.pick(FX);
  switch (form) {
    case 0: {
      const n = rng.int(2, 11);
      const pos = rng.chance(0.5) ? `${rng.pick(POS_ABBR)} ` : '';
      const plural = fx === 'fxs';
      return {
        text: `${capitalise(`${acu}${s} ${pos}${ORD[n]} rib ${plural ? 'fx' : fx}`)}.`,
        status: 'positive',
        f: { bone: 'rib', acuity, side, ribs: [n] },
        topic: 'rib fx with side abbreviation',
      };
    }
    case 1:
      return {
        text: rng.pick([
          `${capitalise(`${acu}${s} clavicle ${fx}`)}.`,
          `${capitalise(`${acu}${fx} ${rng.pick(['of the', 'of', ''])} ${s} clavicle`.replace(/  +/g, ' '))}.`,
          `${capitalise(`${acu}${s} clavicular ${fx}`)}.`,
        ]),
        status: 'positive',
        f: { bone: 'clavicle', acuity, side, ribs: [] },
        topic: 'clavicle fx with side abbreviation',
      };
    case 2: {
      const r = ribRange(rng);
      const sideWord = rng.pick([s, side]);
      const pos = rng.chance(0.4) ? `${rng.pick(POS_ABBR)} ` : '';
      const head = r.before
        ? `${acu}${sideWord} ${pos}${r.before} ${r.after.replace('ribs', 'rib')} ${rng.pick(['fxs', 'fractures'])}`
        : `${acu}${rng.pick(['fractures', 'fxs'])} of ${sideWord} ${pos}${r.after}`;
      return {
        text: `${capitalise(head.replace(/  +/g, ' '))}.`,
        status: 'positive',
        f: { bone: 'rib', acuity, side, ribs: r.ribs },
        topic: 'rib range with abbreviations',
      };
    }
    case 3: {
      const both = rng.pick(['B', 'bilat', 'bilat.', 'bilateral', 'B/L']);
      return {
        text: `${capitalise(`${acu}${both} rib ${rng.pick(['fxs', 'fractures', 'fx'])}`)}.`,
        status: 'positive',
        f: { bone: 'rib', acuity, side: 'bilateral', ribs: [] },
        topic: 'bilateral abbreviation',
      };
    }
    case 4: {
      const n = rng.int(3, 10);
      const hedge = rng.pick(['?', 'Poss.', 'Prob.', 'Possible', 'Questionable', 'Likely']);
      const bone = rng.pick(['rib', 'clavicle'] as const);
      const body =
        bone === 'rib'
          ? `${s} ${ORD[n]} rib ${fx === 'fxs' ? 'fx' : fx}`
          : `${s} clavicle ${fx === 'fxs' ? 'fx' : fx}`;
      return {
        text: `${hedge} ${acu}${body}.`.replace(/  +/g, ' '),
        status: 'uncertain',
        f: { bone, acuity, side, ribs: bone === 'rib' ? [n] : [] },
        topic: 'abbreviated hedge',
      };
    }
    case 5: {
      const bone = rng.pick(['rib', 'clavicle'] as const);
      return {
        text: rng.pick([
          `No ${bone} ${fx === 'fxs' ? 'fx' : fx}.`,
          `No ${s} ${bone} ${fx === 'fxs' ? 'fx' : fx}.`,
          `Neg for ${bone} ${fx === 'fxs' ? 'fx' : fx}.`,
          `No acute ${bone} fx seen.`,
        ]),
        status: 'negative',
        f: { bone, acuity: 'unspecified', side, ribs: [] },
        topic: 'abbreviated negation',
      };
    }
    default: {
      // Spelled-out ranges that the engine must expand.
      const a = rng.int(2, 7);
      const b = a + rng.int(2, 3);
      const all = Array.from({ length: b - a + 1 }, (_, i) => a + i);
      const text = rng.pick([
        `${capitalise(acu)}${side} ${ORD[a]} through ${ORD[b]} rib fractures.`,
        `${capitalise(acu)}fractures of the ${side} ${ORD[a]} through ${ORD[b]} ribs.`,
        `${capitalise(acu)}fractures of ${side} ribs ${a} through ${b}.`,
        `${capitalise(acu)}${side} ${ORD[a]}-${ORD[b]} rib fractures.`,
      ]);
      return {
        text: text.replace(/  +/g, ' '),
        status: 'positive',
        f: { bone: 'rib', acuity, side, ribs: all },
        topic: 'written-out range',
      };
    }
  }
}

const OTHER_FINDINGS = [
  'pneumothorax',
  'pleural effusion',
  'focal consolidation',
  'effusion',
  'pneumomediastinum',
  'subcutaneous emphysema',
];

function scopeDraft(rng: Rng, form: number): Draft | MultiDraft {
  const bone = rng.pick(['rib', 'rib', 'clavicle'] as const);
  const bw = bone === 'rib' ? 'rib' : 'clavicle';
  const others = [...OTHER_FINDINGS].sort(() => rng.next() - 0.5);
  const f0: Finding = { bone, acuity: 'unspecified', side: 'unspecified', ribs: [] };
  switch (form) {
    case 0:
      return {
        text: rng.pick([
          `No ${others[0]} or ${bw} fracture.`,
          `No ${others[0]}, ${others[1]}, or ${bw} fracture.`,
          `No ${others[0]}, ${others[1]} or displaced ${bw} fracture.`,
          `There is no ${others[0]}, ${others[1]}, or acute ${bw} fracture.`,
          `Without evidence of ${others[0]} or displaced ${bw} fracture.`,
          `No ${bw} fracture or ${others[0]}.`,
        ]),
        status: 'negative',
        f: f0,
        topic: 'negation across a list',
      };
    case 1:
      return {
        text: rng.pick([
          'Neither rib nor clavicle fracture is seen.',
          'No fractures of the ribs or clavicles.',
          'No acute displaced rib or clavicle fracture.',
          'No rib or clavicle fractures are identified.',
          'The ribs and clavicles are intact without fracture.',
        ]),
        mentions: [],
        topic: 'negation across coordinated bones',
      };
    case 2: {
      const np = bonePhrase(rng, bone, { acuity: 'old' });
      const lead = rng.pick([
        'No acute fracture;',
        'No acute fracture.',
        `No acute ${bw} fracture.`,
        `No ${others[0]} or acute ${bw} fracture;`,
        'No new fracture.',
      ]);
      return {
        text: `${lead} ${capitalise(np.bare)}.`,
        status: 'positive',
        f: np.finding,
        topic: 'negated acute fracture, then an old one',
      };
    }
    case 3: {
      const np = bonePhrase(rng, bone);
      const joint = rng.pick([
        `No ${others[0]}, but there ${np.plural ? 'are' : 'is'} ${np.plural ? '' : 'a '}`,
        `No ${others[0]} or ${others[1]}, although there ${np.plural ? 'are' : 'is'} ${np.plural ? '' : 'a '}`,
        `No evidence of ${others[0]}; however, there ${np.plural ? 'are' : 'is'} ${np.plural ? '' : 'a '}`,
        `No ${others[0]} is seen, and there ${np.plural ? 'are' : 'is'} ${np.plural ? '' : 'a '}`,
        `Without ${others[0]}, there ${np.plural ? 'are' : 'is'} ${np.plural ? '' : 'a '}`,
      ]);
      const text = `${joint}${np.bare}.`.replace(/\ba ([aeio])/g, 'an $1');
      return { text, status: 'positive', f: np.finding, topic: 'negation ended by a clause boundary' };
    }
    case 4: {
      const np = bonePhrase(rng, bone, { acuity: rng.pick(['unspecified', 'healing', 'old'] as const) });
      const text = rng.pick([
        `No ${others[0]} associated with the ${np.bare}.`,
        `No ${others[0]} related to the ${np.bare}.`,
        `No displacement of the ${np.bare}.`,
        `The ${np.bare} ${np.plural ? 'are' : 'is'} not displaced.`,
        `No ${others[0]} adjacent to the ${np.bare}.`,
        `No change in the ${np.bare}.`,
      ]);
      return {
        text,
        status: 'positive',
        f: np.finding,
        topic: 'negation of something else about a fracture',
      };
    }
    case 5: {
      const np = bonePhrase(rng, bone, { acuity: 'unspecified', plain: true });
      const site = np.finding;
      return {
        text: `No definite ${bw} fracture, though ${np.plural ? '' : 'a '}subtle nondisplaced ${np.bare.replace(/^(?:fractured |multiple )/, '')} cannot be excluded.`
          .replace(/  +/g, ' ')
          .replace(/\ba ([aeio])/g, 'an $1'),
        status: 'uncertain',
        f: site,
        topic: 'negation then a hedge on the same bone',
      };
    }
    case 6:
      return {
        text: rng.pick([
          `No displaced ${bw} fractures, though nondisplaced fractures can be occult on radiographs.`,
          `No ${bw} fracture is seen; nondisplaced ${bw} fractures may not be visible on radiographs.`,
          `Rib fractures are often occult on chest radiographs; none is seen here.`,
        ]),
        status: 'negative',
        f: f0,
        topic: 'generic statement about occult fractures',
      };
    default: {
      // Two bones, one negated and one asserted, in one list.
      const other = bone === 'rib' ? 'clavicle' : 'rib';
      const np = bonePhrase(rng, other, { acuity: rng.pick(['old', 'healing', 'unspecified'] as const) });
      const text = rng
        .pick([
          `No focal consolidation, ${others[0]}, or acute ${bw} fracture; ${np.bare} ${np.plural ? 'are' : 'is'} noted.`,
          `No ${bw} fracture or ${others[0]} is seen; ${np.plural ? '' : 'a '}${np.bare} ${np.plural ? 'are' : 'is'} noted.`,
          `No ${bw} fracture. ${capitalise(np.bare)}.`,
        ])
        .replace(/\ba ([aeio])/g, 'an $1');
      return {
        text,
        mentions: [{ status: 'positive', f: np.finding }],
        topic: 'one bone negated, another asserted',
      };
    }
  }
}

function gold(d: Draft | MultiDraft): Pick<LabelledCase, 'rib' | 'clavicle' | 'other'> {
  if ('status' in d) return draftGold(d);
  return {
    rib: combine(d.mentions, 'rib'),
    clavicle: combine(d.mentions, 'clavicle'),
    other: { status: combine(d.mentions, 'other').status },
  };
}

export function scopeBatch(rng: Rng, batch: string, count: number): LabelledCase[] {
  const out: LabelledCase[] = [];
  for (let i = 0; i < count; i++) {
    const d = i % 2 === 0 ? abbreviationDraft(rng, rng.int(0, 6)) : scopeDraft(rng, rng.int(0, 7));
    // Tidy what the templates join: "fx." at a sentence end, a capital after a semicolon.
    const text = capitalise(d.text)
      .replace(/\.\.+/g, '.')
      .replace(/; ([A-Z])/g, (_, c: string) => `; ${c.toLowerCase()}`);
    out.push({
      id: `${batch}-${String(i + 1).padStart(3, '0')}`,
      batch,
      topic: d.topic,
      text: report(rng, text),
      ...gold(d),
    });
  }
  return out;
}

export type { Side };
