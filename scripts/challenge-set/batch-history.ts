/**
 * Batch 6: history and chronicity (old, remote, healed, sequela, chronic-appearing, post-traumatic
 * and post-surgical deformity, with and without a hedge, with and without the word fracture) and
 * hardware described as fractured, broken or disrupted. Conventions from ConText's historical
 * modifiers (Harkema 2009) and the README: an old fracture is positive/old; a deformity is uncertain
 * only when attributed to injury or trauma, even as one of two causes; hardware is not bone.
 */
import type { LabelStatus } from '../../services/shared/vocabulary.ts';
import { draftGold } from './batch-hedges.ts';
import {
  be,
  bonePhrase,
  boneSite,
  capitalise,
  combine,
  pickBone,
  report,
  siteFinding,
  withArticle,
  type Bone,
  type Finding,
  type LabelledCase,
  type Rng,
} from './phrases.ts';

type Draft = { text: string; status: LabelStatus; f: Finding; topic: string; note?: string };
type MultiDraft = {
  text: string;
  mentions: Array<{ status: LabelStatus; f: Finding }>;
  topic: string;
  note?: string;
};

const OLD_FRACTURE_CAUSE = [
  'from a remote fracture',
  'related to a prior fracture',
  'consistent with an old fracture',
  'compatible with a remote fracture',
  'reflecting a healed fracture',
  'due to an old healed fracture',
  'from a previous fracture',
  'representing a remote healed fracture',
];
const HEDGED_OLD_FRACTURE_CAUSE = [
  'likely from an old fracture',
  'possibly related to a remote fracture',
  'probably from a prior fracture',
  'which may reflect a remote fracture',
  'suggesting an old healed fracture',
  'likely the sequela of a remote fracture',
];
const AGE_HEDGE_AFTER = [
  ', likely chronic',
  ', probably old',
  ', which appears chronic',
  ', likely remote',
  ', presumably old',
  ', likely healed',
];
const AGE_UNKNOWN_AFTER = [
  ', age indeterminate',
  ' of indeterminate age',
  ', of uncertain age',
  ', age-indeterminate',
];
const INJURY_ATTRIBUTION = [
  ', sequela of prior trauma',
  ', related to remote trauma',
  ' from old injury',
  ', likely post-traumatic',
  ', consistent with prior trauma',
  ' related to remote XXXX',
  ', which may be post-traumatic or post-surgical',
  ', possibly post-traumatic or postsurgical',
  ' from prior trauma or surgery',
  ', likely the sequela of remote injury',
  ' secondary to old trauma',
  ', compatible with prior injury',
];
const INJURY_DEFORMITY_PRE = [
  'Post-traumatic deformity of',
  'Posttraumatic deformity of',
  'Old post-traumatic deformity of',
  'Healed deformity of',
  'Remote post-traumatic deformity of',
];
const NO_INJURY_DEFORMITY = [
  (site: string) => `Postsurgical deformity of ${site}.`,
  (site: string) => `Deformity of ${site} related to prior thoracotomy.`,
  (site: string) => `Deformity of ${site} from prior surgery.`,
  (site: string) => `Chronic deformity of ${site}.`,
  (site: string) => `Mild deformity of ${site}, unchanged.`,
  (site: string) => `Contour irregularity of ${site}, possibly post-traumatic or postsurgical.`,
  (site: string) => `Expansile deformity of ${site}, likely fibrous dysplasia.`,
  (site: string) => `Surgical deformity of ${site} from prior resection.`,
];
const HISTORY_SECTION = ['INDICATION', 'HISTORY', 'CLINICAL HISTORY', 'REASON FOR EXAM'];
const HISTORY_LEADS = ['History of', 'Prior', 'Known', 'Evaluate', 'Follow-up of', 'Remote'];

const HARDWARE_ALONE: Array<(rng: Rng) => string> = [
  (rng) =>
    `Fractured ${rng.pick(['', 'most superior ', 'inferior ', 'second ', 'lowermost ', 'uppermost '])}sternotomy wire${rng.pick(['', 's'])}.`,
  (rng) => `The ${rng.pick(['2nd', 'third', 'superior', 'lowest'])} sternotomy wire is fractured.`,
  () => 'Broken sternotomy wires, unchanged.',
  (rng) => `Fracture of the ${rng.pick(['4th', 'second', 'inferior', 'uppermost'])} sternal wire.`,
  () => 'Disrupted sternal wires.',
  (rng) => `${rng.pick(['Fractured', 'A fractured'])} pacemaker lead.`,
  () => 'The right ventricular lead appears fractured.',
  (rng) => `Fracture of the ${rng.pick(['left', 'right'])} subclavian central venous catheter.`,
  () => 'Fractured port catheter fragment projects over the right ventricle.',
  () => 'Fractured ICD lead near the generator.',
  (rng) => `Fracture of the spinal fusion rod at T${rng.int(8, 12)}.`,
  () => 'Fractured Harrington rods, unchanged.',
  (rng) => `Fractured cerclage wire about the ${rng.pick(['left', 'right'])} humerus.`,
  () => 'Fractured IVC filter strut.',
  () => 'There is a fracture of the PICC line with a fragment in the pulmonary artery.',
  () => 'Disruption of the inferior sternal wire is noted.',
];
const CLAVICLE_HARDWARE: Array<(side: string) => string> = [
  (s) => `Fractured screw in the ${s} clavicular fixation plate.`,
  (s) => `The ${s} clavicle fixation plate is fractured.`,
  (s) => `Fracture of a distal screw of the ${s} clavicle plate.`,
  (s) => `Broken ${s} clavicular hardware.`,
  (s) => `Two fractured screws within the ${s} clavicle plate.`,
  (s) => `There is a fracture of the ${s} clavicular plate at its midportion.`,
];
const RIB_HARDWARE: Array<(side: string) => string> = [
  (s) => `Fractured ${s} rib fixation plate.`,
  (s) => `Fracture of the ${s} rib plating hardware.`,
  (s) => `A screw of the ${s} rib fixation plate is fractured.`,
  (s) => `Broken wire of the ${s} rib cerclage.`,
];

function historyDraft(rng: Rng, form: number): Draft | MultiDraft {
  const bone: Bone = pickBone(rng) === 'other' && form > 2 ? 'rib' : pickBone(rng);
  switch (form) {
    case 0: {
      const np = bonePhrase(rng, bone, { acuity: 'old' });
      const text = rng.pick([
        `${capitalise(np.bare)}.`,
        `There ${be(np)} ${withArticle(np)}.`,
        `${capitalise(np.bare)} ${be(np)} again noted.`,
        `${capitalise(np.bare)} ${be(np)} unchanged.`,
      ]);
      return { text, status: 'positive', f: np.finding, topic: 'old fracture' };
    }
    case 1: {
      const np = bonePhrase(rng, bone, { acuity: 'unspecified', plain: true });
      const lead = rng.pick(['Sequela of', 'Sequelae of', 'Findings of', 'Evidence of']);
      const when = rng.pick(['prior', 'old', 'remote', 'previous']);
      const bareNp = np.bare
        .replace(/^(?:age-indeterminate|multiple) /, '')
        .replace(/^fractured /, 'fracture of the ');
      const phrase = np.plural ? `${when} ${bareNp}` : `${when === 'old' ? 'an' : 'a'} ${when} ${bareNp}`;
      const f = { ...np.finding, acuity: 'old' as const };
      return { text: `${lead} ${phrase}.`, status: 'positive', f, topic: 'sequela of a prior fracture' };
    }
    case 2: {
      const f = siteFinding(rng, bone, 'old');
      const site = boneSite(rng, f);
      const text = rng.pick([
        `${rng.pick(['Healed fracture deformity', 'Old fracture deformity', 'Remote fracture deformity', 'Chronic fracture deformity'])} of ${site}.`,
        `Deformity of ${site} ${rng.pick(OLD_FRACTURE_CAUSE)}.`,
        `Remodeled ${site.replace(/^the /, '')} consistent with remote fracture.`,
        `Nonunited fracture of ${site}.`,
      ]);
      return { text, status: 'positive', f, topic: 'old fracture named through its deformity' };
    }
    case 3: {
      const f = siteFinding(rng, bone, 'old');
      const site = boneSite(rng, f);
      return {
        text: `Deformity of ${site}, ${rng.pick(HEDGED_OLD_FRACTURE_CAUSE)}.`,
        status: 'uncertain',
        f,
        topic: 'deformity, hedged old fracture',
      };
    }
    case 4: {
      // The hedge is about the age, not the fracture: still positive.
      const np = bonePhrase(rng, bone, { acuity: 'unspecified', plain: rng.chance(0.5) });
      const bareNp = np.bare.replace(/^age-indeterminate /, '');
      if (rng.chance(0.3)) {
        return {
          text: `${capitalise(bareNp)}${rng.pick(AGE_UNKNOWN_AFTER)}.`,
          status: 'positive',
          f: { ...np.finding, acuity: 'unspecified' },
          topic: 'fracture of indeterminate age',
        };
      }
      return {
        text: `${capitalise(bareNp)}${rng.pick(AGE_HEDGE_AFTER)}.`,
        status: 'positive',
        f: { ...np.finding, acuity: 'old' },
        topic: 'fracture asserted, its age hedged',
      };
    }
    case 5: {
      const np = bonePhrase(rng, bone, { acuity: 'old' });
      const hedge = rng.pick(['Probable', 'Possible', 'Likely', 'Questionable', 'Suspected']);
      return {
        text: `${hedge} ${np.bare}.`,
        status: 'uncertain',
        f: np.finding,
        topic: 'hedged old fracture',
      };
    }
    case 6:
    case 7: {
      // Deformity attributed to injury, without the word fracture: uncertain, old.
      const f = siteFinding(rng, bone, 'old');
      const site = boneSite(rng, f);
      const text =
        form === 6
          ? `${rng.pick(INJURY_DEFORMITY_PRE)} ${site}.`
          : `Deformity of ${site}${rng.pick(INJURY_ATTRIBUTION)}.`;
      return { text, status: 'uncertain', f, topic: 'deformity attributed to injury, no fracture word' };
    }
    case 8: {
      const f = siteFinding(rng, bone);
      const site = boneSite(rng, f);
      return {
        text: rng.pick(NO_INJURY_DEFORMITY)(site),
        status: 'negative',
        f,
        topic: 'deformity without injury wording',
      };
    }
    case 9: {
      const np = bonePhrase(rng, bone, { acuity: rng.pick(['old', 'unspecified', 'acute'] as const) });
      const section = rng.pick(HISTORY_SECTION);
      const lead = rng.pick(HISTORY_LEADS);
      return {
        text: `${section}: ${lead} ${np.bare}.\nFINDINGS: ${rng.pick(['Lungs are clear.', 'No acute osseous abnormality.', 'Heart size is normal. No pneumothorax.'])}`,
        status: 'negative',
        f: np.finding,
        topic: 'fracture only in the history',
      };
    }
    case 10: {
      const np = bonePhrase(rng, bone, { acuity: 'unspecified', plain: true });
      const bareNp = np.bare.replace(/^age-indeterminate /, '');
      return {
        text: rng.pick([
          `Status post ORIF of ${withArticle({ ...np, bare: bareNp })}.`,
          `Plate and screw fixation of ${withArticle({ ...np, bare: bareNp })}.`,
          /fractures?$/.test(bareNp)
            ? `Status post ${bareNp} repair with plate and screws.`
            : `Status post ORIF of ${withArticle({ ...np, bare: bareNp })}.`,
        ]),
        status: 'positive',
        f: { ...np.finding, acuity: 'unspecified' },
        topic: 'repaired fracture',
      };
    }
    default: {
      const f = siteFinding(rng, bone === 'other' ? 'rib' : bone);
      const s = f.side === 'unspecified' ? 'left' : f.side;
      const text =
        f.bone === 'rib'
          ? rng.pick([
              `Status post ${s} thoracotomy with resection of the ${rng.pick(['5th', 'sixth', '4th'])} rib.`,
              `Bifid anterior ${rng.pick(['4th', 'third', 'right 3rd'])} rib, a normal variant.`,
              `Pectus excavatum deformity.`,
            ])
          : rng.pick([
              `Status post ORIF of the ${s} clavicle.`,
              `Surgical resection of the distal ${s} clavicle.`,
            ]);
      return { text, status: 'negative', f, topic: 'surgery or variant, no fracture' };
    }
  }
}

function hardwareDraft(rng: Rng, form: number): Draft | MultiDraft {
  const side = rng.pick(['left', 'right']);
  switch (form) {
    case 0:
    case 1:
      return { text: rng.pick(HARDWARE_ALONE)(rng), mentions: [], topic: 'fractured hardware or device' };
    case 2:
      return { text: rng.pick(CLAVICLE_HARDWARE)(side), mentions: [], topic: 'fractured clavicle hardware' };
    case 3:
      return { text: rng.pick(RIB_HARDWARE)(side), mentions: [], topic: 'fractured rib hardware' };
    case 4: {
      // A fractured device and a real fracture in the same report.
      const np = bonePhrase(rng, rng.pick(['rib', 'rib', 'clavicle'] as const));
      return {
        text: `${rng.pick(HARDWARE_ALONE)(rng)} ${capitalise(np.bare)}.`,
        mentions: [{ status: 'positive', f: np.finding }],
        topic: 'fractured device beside a real fracture',
      };
    }
    case 5: {
      const f: Finding = { bone: 'clavicle', acuity: 'old', side: side as 'left' | 'right', ribs: [] };
      return {
        text: `${rng.pick(CLAVICLE_HARDWARE)(side)} The underlying clavicle fracture is ${rng.pick(['healed', 'well healed', 'remote and healed'])}.`,
        mentions: [{ status: 'positive', f }],
        topic: 'fractured plate over a healed clavicle fracture',
      };
    }
    case 6:
      return {
        text: `${rng.pick(HARDWARE_ALONE)(rng)} No ${rng.pick(['acute rib fracture', 'rib or clavicle fracture', 'displaced fracture'])}.`,
        mentions: [],
        topic: 'fractured device, negated bone fracture',
      };
    default: {
      const f: Finding = { bone: 'other', acuity: 'unspecified', side: 'unspecified', ribs: [] };
      return {
        text: rng.pick([
          'The inferior sternal wire is broken, and there is a nondisplaced fracture of the sternum.',
          'Fractured sternotomy wire. There is also a sternal fracture.',
          'Sternotomy wires are intact; there is a sternal body fracture.',
        ]),
        mentions: [{ status: 'positive', f }],
        topic: 'hardware beside a bone fracture',
      };
    }
  }
}

function goldOfDraft(d: Draft | MultiDraft): Pick<LabelledCase, 'rib' | 'clavicle' | 'other'> {
  if ('status' in d) return draftGold(d);
  return {
    rib: combine(d.mentions, 'rib'),
    clavicle: combine(d.mentions, 'clavicle'),
    other: { status: combine(d.mentions, 'other').status },
  };
}

export function historyBatch(rng: Rng, batch: string, count: number): LabelledCase[] {
  const out: LabelledCase[] = [];
  for (let i = 0; i < count; i++) {
    const hardware = i % 3 === 2;
    const d = hardware ? hardwareDraft(rng, rng.int(0, 7)) : historyDraft(rng, rng.int(0, 11));
    const ownSections = d.text.startsWith(HISTORY_SECTION.find((h) => d.text.startsWith(h)) ?? '\u0000');
    out.push({
      id: `${batch}-${String(i + 1).padStart(3, '0')}`,
      batch,
      topic: d.topic,
      text: ownSections ? d.text : report(rng, d.text),
      ...goldOfDraft(d),
      ...(d.note ? { note: d.note } : {}),
    });
  }
  return out;
}
