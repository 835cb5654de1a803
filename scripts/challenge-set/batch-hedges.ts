/**
 * Batch 5: hedges in every grammatical form, negated certainty and the de-identification token
 * standing for a hedge. Cue phrases are taken from published lexicons of radiology (un)certainty:
 * NegEx / ConText trigger lists (Chapman 2001, Harkema 2009), NegBio's uncertainty patterns
 * (Peng 2018), the hedging phrases counted in radiology reports by Hanauer 2012 and Callen 2020,
 * and the ACR-style certainty scale of Panicek & Hricak 2016 ("consistent with" = asserted;
 * "suspicious for", "probably", "possibly", "less likely" = hedged; "unlikely"/"no" = negated).
 */
import type { LabelStatus } from '../../services/shared/vocabulary.ts';
import {
  be,
  bonePhrase,
  boneSite,
  capitalise,
  goldOf,
  NEG,
  pickBone,
  report,
  siteFinding,
  withArticle,
  type Bone,
  type ClassGold,
  type Finding,
  type LabelledCase,
  type NounPhrase,
  type Rng,
} from './phrases.ts';

type Draft = { text: string; status: LabelStatus; f: Finding; topic: string; note?: string };

const PRE_ADJECTIVE = [
  'possible',
  'probable',
  'questionable',
  'suspected',
  'presumed',
  'apparent',
  'likely',
  'equivocal',
  'presumptive',
];
const THERE_IS_ADVERB = ['likely', 'probably', 'possibly', 'questionably', 'presumably', 'perhaps'];
const VERB_HEDGES = [
  'suggests',
  'may represent',
  'may reflect',
  'could represent',
  'could be',
  'might represent',
  'is favored to represent',
  'is favoured to represent',
  'favors',
  'likely represents',
  'probably represents',
  'possibly represents',
  'presumably represents',
  'is suspicious for',
  'is concerning for',
  'is worrisome for',
  'is suggestive of',
  'is questionable for',
  'raises the possibility of',
  'raises concern for',
  'is thought to represent',
  'is felt to represent',
  'could reflect',
  'may indicate',
  'may be due to',
  'is likely due to',
  'may be secondary to',
  'is indeterminate but may represent',
  'is compatible with but not diagnostic of',
  'is nonspecific but could represent',
];
const DESCRIPTORS = [
  'Cortical irregularity along',
  'A subtle lucency through',
  'Focal cortical step-off of',
  'Focal sclerosis of',
  'Cortical buckling of',
  'Irregularity of',
  'A linear lucency in',
  'Subtle contour abnormality of',
  'Focal angulation of',
  'A faint lucent line across',
];
const NOUN_HEDGES = [
  'There is concern for',
  'Findings raise suspicion for',
  'There is suspicion of',
  'Concern for',
  'Question of',
  'Suspicion for',
  'The appearance raises the question of',
  'Differential considerations include',
  'Consideration is given to',
  'Findings are suspicious for',
  'There is a possibility of',
];
const POST_HEDGES = [
  'is suspected',
  'is not excluded',
  'cannot be excluded',
  'cannot be entirely excluded',
  'cannot be ruled out',
  'is questioned',
  'is possible',
  'is probable',
  'is likely',
  'is considered',
  'is favored',
  'is not entirely excluded',
  'is a consideration',
  'would be difficult to exclude',
  'is less likely but possible',
];
/** Negated certainty: the finding is named but its presence is not asserted. */
const NEGATED_CERTAINTY_POST = [
  'is not well seen on this examination',
  'is not well demonstrated',
  'is not well visualized',
  'is not well visualised on this study',
  'is poorly visualized',
  'is not definitely excluded',
];
const NEGATED_CERTAINTY_PRE = [
  'Cannot exclude',
  'Cannot rule out',
  'Unable to exclude',
  'It is not possible to exclude',
  'Can not exclude',
  'One cannot exclude',
  'I cannot exclude',
];
const NEGATION_PRE = [
  'No',
  'No evidence of',
  'Negative for',
  'There is no',
  'No definite',
  'No radiographic evidence of',
  'No convincing',
];
const NEGATION_POST = [
  'is not seen',
  'is not identified',
  'is not visualized',
  'is not demonstrated',
  'is not present',
  'is not evident',
  'is not appreciated',
];
const ASSERTING_PRE = [
  'Findings are consistent with',
  'Appearance is consistent with',
  'Findings are compatible with',
  'Findings are diagnostic of',
  'There is',
  'Again noted is',
];
const ASSERTING_BARE = ['Redemonstrated', 'Known', 'Unchanged', 'Evidence of'];
const ASSERTING_POST = [
  'is seen',
  'is noted',
  'is again noted',
  'is identified',
  'is present',
  'is demonstrated',
  'is again seen',
  'is redemonstrated',
];

function definite(np: NounPhrase): string {
  // Subject position: "A nondisplaced fracture ... is suspected" / "Left rib fractures are ..."
  return capitalise(withArticle(np));
}

function bare(rng: Rng, bone: Bone): { site: Finding; np: string } {
  const site = siteFinding(
    rng,
    bone,
    rng.pick(['unspecified', 'unspecified', 'acute', 'healing', 'old'] as const),
  );
  const acu =
    site.acuity === 'acute'
      ? rng.pick(['an acute', 'a new', 'an acute nondisplaced'])
      : site.acuity === 'healing'
        ? rng.pick(['a healing', 'a subacute'])
        : site.acuity === 'old'
          ? rng.pick(['an old', 'a healed', 'a remote', 'a chronic'])
          : rng.pick(['a', 'a nondisplaced', 'a minimally displaced', 'a subtle']);
  return { site, np: `${acu} fracture` };
}

/** One drafted case of the given form. */
export function hedgeDraft(rng: Rng, form: number): Draft {
  const bone = pickBone(rng);
  switch (form) {
    case 0: {
      const np = bonePhrase(rng, bone);
      const adj = rng.pick(PRE_ADJECTIVE);
      const text = rng.chance(0.5)
        ? `${capitalise(adj)} ${np.bare}.`
        : `There ${be(np)} ${np.plural ? '' : 'a '}${adj} ${np.bare}.`.replace(/  +/g, ' ');
      return {
        text: fixArticle(text),
        status: 'uncertain',
        f: np.finding,
        topic: `hedge adjective "${adj}"`,
      };
    }
    case 1: {
      const np = bonePhrase(rng, bone);
      const adv = rng.pick(THERE_IS_ADVERB);
      return {
        text: `There ${be(np)} ${adv} ${withArticle(np)}.`,
        status: 'uncertain',
        f: np.finding,
        topic: `hedge adverb "${adv}"`,
      };
    }
    case 2: {
      const { site, np } = bare(rng, bone);
      const verb = rng.pick(VERB_HEDGES);
      return {
        text: `${rng.pick(DESCRIPTORS)} ${boneSite(rng, site)} ${verb} ${np}.`,
        status: 'uncertain',
        f: site,
        topic: `hedge verb "${verb}"`,
      };
    }
    case 3: {
      // The hedge in the next sentence, whose fracture takes the bone of the sentence before.
      const { site, np } = bare(rng, bone);
      const verb = rng.pick(VERB_HEDGES);
      return {
        text: `${rng.pick(DESCRIPTORS)} ${boneSite(rng, site)}. This ${verb} ${np}.`,
        status: 'uncertain',
        f: site,
        topic: `hedge verb in the next sentence "${verb}"`,
      };
    }
    case 4: {
      const np = bonePhrase(rng, bone);
      const noun = rng.pick(NOUN_HEDGES);
      return {
        text: `${noun} ${withArticle(np)}.`,
        status: 'uncertain',
        f: np.finding,
        topic: `hedge noun "${noun}"`,
      };
    }
    case 5: {
      const np = bonePhrase(rng, bone);
      const post = rng.pick(POST_HEDGES).replace(/^is /, `${be(np)} `);
      return {
        text: `${definite(np)} ${post}.`,
        status: 'uncertain',
        f: np.finding,
        topic: `hedge after the finding "${post}"`,
      };
    }
    case 6: {
      const np = bonePhrase(rng, bone);
      const post = rng.pick(NEGATED_CERTAINTY_POST).replace(/^is /, `${be(np)} `);
      const lead = rng.chance(0.4) ? 'The previously described ' : '';
      const subject = lead ? `${lead}${np.bare}` : definite(np);
      return {
        text: `${subject} ${post}.`,
        status: 'uncertain',
        f: np.finding,
        topic: `negated certainty "${post}"`,
      };
    }
    case 7: {
      const np = bonePhrase(rng, bone);
      const pre = rng.pick(NEGATED_CERTAINTY_PRE);
      const lead = rng.chance(0.3) ? 'No definite fracture is seen, although ' : '';
      const text = lead
        ? `${lead}${withArticle(np)} ${np.plural ? 'cannot' : 'cannot'} be excluded.`
        : `${pre} ${withArticle(np)}.`;
      return {
        text,
        status: 'uncertain',
        f: np.finding,
        topic: lead ? 'negated certainty after a negation' : `negated certainty "${pre}"`,
      };
    }
    case 8: {
      // XXXX standing for a hedge before the finding.
      const np = bonePhrase(rng, bone);
      const text = rng.pick([
        `XXXX ${np.bare}.`,
        `There ${be(np)} XXXX ${withArticle(np)}.`,
        `Findings are XXXX ${withArticle(np)}.`,
        `${capitalise(np.plural ? 'these' : 'this')} XXXX ${np.plural ? 'represent' : 'represents'} ${withArticle(np)}.`,
      ]);
      return {
        text: capitalise(text),
        status: 'uncertain',
        f: np.finding,
        topic: 'XXXX for a hedge before the finding',
      };
    }
    case 9: {
      // XXXX between a descriptor and the finding ("..., XXXX a fracture").
      const { site, np } = bare(rng, bone);
      const text = rng.pick([
        `${rng.pick(DESCRIPTORS)} ${boneSite(rng, site)}, XXXX ${np}.`,
        `${rng.pick(DESCRIPTORS)} ${boneSite(rng, site)} XXXX reflects ${np}.`,
        `${rng.pick(DESCRIPTORS)} ${boneSite(rng, site)} is XXXX ${np}.`,
        `${rng.pick(DESCRIPTORS)} ${boneSite(rng, site)} XXXX represents ${np}.`,
        `${rng.pick(DESCRIPTORS)} ${boneSite(rng, site)}, XXXX from ${np}.`,
      ]);
      return { text, status: 'uncertain', f: site, topic: 'XXXX for a hedge after the descriptor' };
    }
    case 10: {
      // Controls: XXXX that hides a date or a name, and a negated XXXX.
      const c = rng.int(0, 3);
      const np = bonePhrase(
        rng,
        bone,
        c === 3 ? { acuity: rng.pick(['acute', 'unspecified'] as const) } : {},
      );
      if (c === 3)
        return {
          text: `No XXXX ${np.bare}.`,
          status: 'negative',
          f: np.finding,
          topic: 'XXXX after a negation (control)',
        };
      const text = [
        `${definite(np)}, unchanged since XXXX.`,
        `Compared to XXXX, stable ${np.bare}.`,
        `${definite(np)} ${be(np)} again seen, as on the study of XXXX XXXX.`,
      ][c]!;
      return { text, status: 'positive', f: np.finding, topic: 'XXXX as a date (control)' };
    }
    case 11: {
      const np = bonePhrase(rng, bone, { acuity: rng.pick(['acute', 'unspecified'] as const) });
      if (rng.chance(0.5)) {
        const pre = rng.pick(NEGATION_PRE).replace('There is no', `There ${be(np)} no`);
        return {
          text: `${pre} ${np.bare}.`,
          status: 'negative',
          f: np.finding,
          topic: `negation "${pre}" (control)`,
        };
      }
      const post = rng.pick(NEGATION_POST).replace(/^is /, `${be(np)} `);
      return {
        text: `${definite(np)} ${post}.`,
        status: 'negative',
        f: np.finding,
        topic: `negation "${post}" (control)`,
      };
    }
    default: {
      const np = bonePhrase(rng, bone);
      if (rng.chance(0.2)) {
        const pre = rng.pick(ASSERTING_BARE);
        return {
          text: `${pre} ${np.bare}.`,
          status: 'positive',
          f: np.finding,
          topic: `asserted "${pre}" (control)`,
        };
      }
      if (rng.chance(0.5)) {
        const pre = rng.pick(ASSERTING_PRE);
        const body = `${pre.replace(/\bis$/, be(np))} ${withArticle(np)}`;
        return { text: `${body}.`, status: 'positive', f: np.finding, topic: `asserted "${pre}" (control)` };
      }
      const post = rng.pick(ASSERTING_POST).replace(/^is /, `${be(np)} `);
      return {
        text: `${definite(np)} ${post}.`,
        status: 'positive',
        f: np.finding,
        topic: `asserted "${post}" (control)`,
      };
    }
  }
}

function fixArticle(s: string): string {
  return s.replace(/\ba ([aeio])/gi, (m, c: string) => `${m[0] === 'A' ? 'An' : 'an'} ${c}`);
}

/** The gold labels of a single-mention draft. */
export function draftGold(d: Draft): { rib: ClassGold; clavicle: ClassGold; other: { status: LabelStatus } } {
  return {
    rib: d.f.bone === 'rib' ? goldOf(d.status, d.f) : { ...NEG },
    clavicle: d.f.bone === 'clavicle' ? goldOf(d.status, d.f) : { ...NEG },
    other: { status: d.f.bone === 'other' ? d.status : 'negative' },
  };
}

export function hedgeBatch(rng: Rng, batch: string, count: number): LabelledCase[] {
  const out: LabelledCase[] = [];
  for (let i = 0; i < count; i++) {
    // Forms 0-9 are hedges, 10-12 controls (about a quarter of the batch).
    const form = i % 13;
    const d = hedgeDraft(rng, form);
    // Restating a hedged finding in the impression with the same hedge keeps the label.
    const impression = rng.chance(0.15) ? d.text : undefined;
    out.push({
      id: `${batch}-${String(i + 1).padStart(3, '0')}`,
      batch,
      topic: d.topic,
      text: report(rng, d.text, impression),
      ...draftGold(d),
      ...(d.note ? { note: d.note } : {}),
    });
  }
  return out;
}
