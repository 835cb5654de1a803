/**
 * Batches 10 to 12: whole US-style radiograph reports (EXAM / CLINICAL HISTORY / TECHNIQUE /
 * COMPARISON / FINDINGS / IMPRESSION, sometimes an ADDENDUM) in phrasings no earlier batch used.
 * Each batch has its own phrase pools (`POOLS`), written before the engine was run on that batch,
 * from further entries of the same published lexicons (ConText/NegEx triggers, NegBio uncertainty
 * patterns, the hedges of Hanauer 2012 / Callen 2020, the certainty scale of Panicek & Hricak 2016)
 * and from US report conventions (indication headers, "s/p", "vs.", "?", hardware, malunion).
 * Gold labels come from what each template says, by the README labelling rules and the section
 * precedence rule (labelBySections); the rule engine is never imported.
 */
import type { LabelStatus } from '../../services/shared/vocabulary.ts';
import { B13, B14, B15 } from './batch-lexicon.ts';
import { labelBySections } from './batch-sections.ts';
import {
  be,
  bonePhrase,
  capitalise,
  FILLER,
  IMPRESSION_FILLER,
  withArticle,
  type Bone,
  type Finding,
  type LabelledCase,
  type NounPhrase,
  type Rng,
  type Side,
} from './phrases.ts';

interface Mention {
  status: LabelStatus;
  f: Finding;
  rank: number;
  another?: boolean;
  qualified?: boolean;
}

type Sentence = { text: string; mentions: Mention[]; topic: string };

/** `{a}` = the noun phrase with its article, `{np}` = without, `{NP}`/`{A}` capitalised, `{be}` = is/are. */
export interface Pools {
  /** Whole-sentence frames asserting the fracture. */
  positive: string[];
  /** Frames hedging it. */
  uncertain: string[];
  /** Frames negating it (the phrase is read without acuity words). */
  negative: string[];
  /** Frames in which a negation stands near an asserted fracture but does not scope over it. */
  positiveNearNegation: string[];
  /** Lists and coordinations in which the negation does cover the fracture. */
  negativeLists: string[];
  /** Indication / history lines (never read) naming a fracture of the bone; `{site}` = "left rib". */
  indication: string[];
  /** Conditional or recommendation sentences naming the bone, asserting nothing. */
  conditional: string[];
  /** Sentences with a fractured device (hardware, not bone): `bone` = the bone named nearby, if any. */
  hardware: Array<{ text: string; bone?: Bone }>;
  /** Fracture phrases from chronicity wording, with the acuity README gives them. */
  chronicity: Array<{
    text: string;
    bone: Bone;
    side: Side;
    acuity: Finding['acuity'];
    status: LabelStatus;
    ribs?: number[];
  }>;
  /** Header lines (EXAM ..., TECHNIQUE ...). */
  exam: string[];
  /** Headers for the indication line (ignored sections). */
  indicationHeader: string[];
  /** Addendum sentences confirming the hedged finding ("{a}" = the same finding). */
  addendumConfirms: string[];
  /** Impression sentences hedging the finding asserted in the findings ("{site}"). */
  impressionHedges: string[];
  /** Impression sentences negating (without qualifier) the finding hedged in the findings. */
  impressionNegates: string[];
}

const B10: Pools = {
  positive: [
    'Findings in keeping with {a}.',
    'Definite {np}.',
    'Unequivocal {np}.',
    'Imaging demonstrates {a}.',
    'Noted is {a}.',
    'The study shows {a}.',
    '{NP} {be} clearly depicted.',
    '{NP} {be} evident on the frontal view.',
    '{NP} {be} well seen on the lateral view.',
    '{NP} {be} again evident.',
  ],
  uncertain: [
    'Findings are worrisome for {a}.',
    'Raising the possibility of {a}.',
    'Most likely {a}.',
    "Can't exclude {a}.",
    'Can not exclude {a}.',
    'Unable to rule out {a}.',
    'Findings are equivocal for {a}.',
    'Suspect {a}.',
    'Findings are suggestive but not diagnostic of {a}.',
    'Overlapping vascular shadow vs. {a}.',
    'Differential considerations include {a}.',
    '{NP} cannot be ruled out.',
    '{NP} {be} not ruled out.',
    '{NP} {be} a consideration.',
    '{NP} would be difficult to exclude.',
    '{NP} {be} favored.',
    '{NP} {be} possible.',
    '{NP} cannot be confirmed on this study.',
    '{NP} may be present.',
  ],
  negative: [
    'No obvious {np}.',
    'No discrete {np}.',
    'No sign of {a}.',
    'Nothing to suggest {a}.',
    'No findings to suggest {a}.',
    'Without radiographic evidence of {a}.',
    'I see no {np}.',
    '{NP} {be} not appreciated.',
    '{NP} {be} not present.',
    '{NP} {be} ruled out.',
  ],
  positiveNearNegation: [
    'No pneumothorax in the setting of {a}.',
    'No pneumothorax; however, there {be} {a}.',
    'No consolidation or effusion, but {a} {be} seen.',
    'Negative for pneumothorax. {A} {be} noted.',
    'No change in alignment of the {np}.',
    'No pneumothorax associated with the {np}.',
  ],
  negativeLists: [
    'No pneumothorax, pleural effusion, or {np}.',
    'There is no consolidation, effusion, pneumothorax, or {np}.',
    'Negative for pneumothorax, effusion, and {np}.',
    'No focal airspace disease, pneumothorax or {np}.',
  ],
  indication: [
    'Fall, left chest wall pain, evaluate for {site} fracture.',
    'MVC. r/o {site} fx.',
    'Trauma; ? {site} fracture.',
    'Known {site} fracture, follow-up.',
    'Pain after fall. Assess for {site} fracture.',
  ],
  conditional: [
    'Should pain persist, dedicated {site} views could be obtained to evaluate for occult fracture.',
    'In the event of persistent symptoms, consider CT to exclude {site} fracture.',
    'If clinical concern for {site} fracture persists, a dedicated series is recommended.',
    'Follow-up radiographs in 10-14 days may be obtained if there is continued suspicion of {site} fracture.',
  ],
  hardware: [
    { text: 'The second sternotomy wire is broken, unchanged.' },
    { text: 'Fracture of the uppermost sternotomy wire.' },
    { text: 'Broken screw within the right clavicular fixation plate.', bone: 'clavicle' },
    { text: 'Fractured left clavicular plate with intact bone.', bone: 'clavicle' },
    { text: 'Fractured thoracic spinal fusion rods.', bone: 'other' },
    { text: 'The right atrial pacing lead is fractured near the generator.' },
    { text: 'Broken tip of the right chest port catheter, unchanged.' },
  ],
  chronicity: [
    {
      text: 'Malunited left clavicle fracture.',
      bone: 'clavicle',
      side: 'left',
      acuity: 'unspecified',
      status: 'positive',
    },
    {
      text: 'Nonunion of a right midshaft clavicle fracture.',
      bone: 'clavicle',
      side: 'right',
      acuity: 'unspecified',
      status: 'positive',
    },
    {
      text: 'Evidence of prior left clavicle fracture.',
      bone: 'clavicle',
      side: 'left',
      acuity: 'old',
      status: 'positive',
    },
    {
      text: 'Bridging callus at the right 6th rib fracture site.',
      bone: 'rib',
      side: 'right',
      acuity: 'healing',
      status: 'positive',
      ribs: [6],
    },
    {
      text: 'Exuberant callus about the left 8th rib.',
      bone: 'rib',
      side: 'left',
      acuity: 'healing',
      status: 'positive',
      ribs: [8],
    },
    {
      text: 'Remodeled old fractures of the right 4th and 5th ribs.',
      bone: 'rib',
      side: 'right',
      acuity: 'old',
      status: 'positive',
      ribs: [4, 5],
    },
    {
      text: 'Chronic deformity of the left 7th rib, likely posttraumatic.',
      bone: 'rib',
      side: 'left',
      acuity: 'old',
      status: 'uncertain',
      ribs: [7],
    },
    {
      text: 'Ununited fracture of the distal right clavicle.',
      bone: 'clavicle',
      side: 'right',
      acuity: 'unspecified',
      status: 'positive',
    },
    {
      text: 'Old left 5-7th rib fractures.',
      bone: 'rib',
      side: 'left',
      acuity: 'old',
      status: 'positive',
      ribs: [5, 6, 7],
    },
    {
      text: 'Healing fractures of ribs 4 through 6 on the right.',
      bone: 'rib',
      side: 'right',
      acuity: 'healing',
      status: 'positive',
      ribs: [4, 5, 6],
    },
    {
      text: 'Mild deformity of the left clavicle without fracture line.',
      bone: 'clavicle',
      side: 'left',
      acuity: 'unspecified',
      status: 'negative',
    },
    {
      text: 'Stable healed fracture deformity of the right clavicle.',
      bone: 'clavicle',
      side: 'right',
      acuity: 'old',
      status: 'positive',
    },
  ],
  exam: [
    'EXAM: XR CHEST 2 VIEWS',
    'EXAMINATION: CHEST PA AND LATERAL',
    'EXAM: XR RIBS LEFT W PA CHEST',
    'PROCEDURE: Portable AP chest radiograph.',
    'TECHNIQUE: Frontal and lateral views of the chest.',
  ],
  indicationHeader: ['CLINICAL HISTORY', 'INDICATION', 'REASON FOR EXAM', 'HISTORY', 'CLINICAL INDICATION'],
  addendumConfirms: ['Review of the oblique views confirms {a}.', 'Dedicated views demonstrate {a}.'],
  impressionHedges: ['Possible {site} fracture.', 'Suspected {site} fracture.'],
  impressionNegates: ['No {site} fracture on the dedicated views.', 'No {site} fracture is present.'],
};

/** Batch 11: written after the b10 fixes (rules 1.3.0), before the engine was run on it. */
const B11: Pools = {
  positive: [
    'Radiographs reveal {a}.',
    'Examination reveals {a}.',
    'Visualized is {a}.',
    '{NP} {be} redemonstrated.',
    '{NP} {be} readily apparent.',
    '{NP} {be} unchanged in appearance.',
    'Findings diagnostic of {a}.',
    'Stable appearance of the {np}.',
    '{NP}, as before.',
    '{NP} {be} confirmed on the oblique view.',
  ],
  uncertain: [
    'Findings could be explained by {a}.',
    'Cannot be certain whether there {be} {a}.',
    'Appearance would favor {a}.',
    'Findings are nonspecific but could relate to {a}.',
    'Conceivably, there {be} {a}.',
    'Presumptive {np}.',
    'Findings concerning but not diagnostic for {a}.',
    '{NP} {be} not definitely excluded.',
    '{NP} {be} suggested.',
    '{NP} {be} raised as a possibility.',
    '{NP} cannot be entirely discounted.',
    '{NP} {be} in the differential.',
    '{NP} {be} of concern.',
  ],
  negative: [
    'No {np} {be} depicted.',
    'No {np} can be identified.',
    'No definitive {np}.',
    '{NP} {be} no longer visible.',
    'No radiographically detectable {np}.',
    'There is no radiographic abnormality to indicate {a}.',
    'Without {a}.',
    'There {be} no {np}.',
  ],
  positiveNearNegation: [
    'No pleural effusion or pneumothorax accompanying the {np}.',
    'No hemothorax despite {a}.',
    'No complication of the {np}.',
    'No pneumothorax. However, {a} {be} present.',
    'No other fracture besides the {np}.',
    'Lungs are clear without pneumothorax adjacent to the {np}.',
  ],
  negativeLists: [
    'No pneumothorax, hemothorax or {np} is seen.',
    'No effusion, no pneumothorax, and no {np}.',
    'Without pneumothorax, effusion or {np}.',
    'Neither pneumothorax nor {np}.',
  ],
  indication: [
    'Chest pain after fall from ladder; {site} fracture?',
    'Blunt trauma. Eval {site} fx.',
    'Hx {site} fracture.',
    'Assault, tenderness over the {site}, fracture suspected.',
  ],
  conditional: [
    'Recommend CT chest if {site} fracture is clinically suspected.',
    'If symptoms persist, repeat radiographs could help exclude an occult {site} fracture.',
    'Radiographs are insensitive for nondisplaced {site} fractures; CT could be obtained if clinically warranted.',
    'A dedicated {site} series would be more sensitive for fracture, if clinically indicated.',
  ],
  hardware: [
    { text: 'Two of the median sternotomy wires are fractured.' },
    {
      text: 'Fractured port catheter fragment in the costoclavicular space, consistent with pinch-off.',
      bone: 'clavicle',
    },
    { text: 'Fractured screw of the right 6th rib fixation plate.', bone: 'rib' },
    { text: 'ICD lead fracture near the tricuspid valve.' },
    { text: 'Broken left subclavian central venous catheter.' },
  ],
  chronicity: [
    {
      text: 'Old fracture deformities of the left 4th and 5th ribs.',
      bone: 'rib',
      side: 'left',
      acuity: 'old',
      status: 'positive',
      ribs: [4, 5],
    },
    {
      text: 'Sclerotic healed right 7th rib fracture.',
      bone: 'rib',
      side: 'right',
      acuity: 'old',
      status: 'positive',
      ribs: [7],
    },
    {
      text: 'Remote posttraumatic deformity of the right clavicle.',
      bone: 'clavicle',
      side: 'right',
      acuity: 'old',
      status: 'uncertain',
    },
    {
      text: 'Deformity of the right 5th rib from prior surgery.',
      bone: 'rib',
      side: 'right',
      acuity: 'unspecified',
      status: 'negative',
    },
    {
      text: 'Chronic left 6th rib deformity, possibly from old trauma.',
      bone: 'rib',
      side: 'left',
      acuity: 'old',
      status: 'uncertain',
      ribs: [6],
    },
    {
      text: 'Callus formation is seen about the right 7th and 8th ribs.',
      bone: 'rib',
      side: 'right',
      acuity: 'healing',
      status: 'positive',
      ribs: [7, 8],
    },
    {
      text: 'Healed left clavicular fracture with residual angulation.',
      bone: 'clavicle',
      side: 'left',
      acuity: 'old',
      status: 'positive',
    },
    {
      text: 'Subacute right clavicle fracture with early callus formation.',
      bone: 'clavicle',
      side: 'right',
      acuity: 'healing',
      status: 'positive',
    },
    {
      text: 'Sequelae of prior right rib fractures.',
      bone: 'rib',
      side: 'right',
      acuity: 'old',
      status: 'positive',
    },
    {
      text: 'Postsurgical changes of the left clavicle.',
      bone: 'clavicle',
      side: 'left',
      acuity: 'unspecified',
      status: 'negative',
    },
  ],
  exam: [
    'EXAM: CHEST 1 VIEW',
    'EXAMINATION: XR CHEST AP PORTABLE',
    'EXAM: RIBS BILATERAL WITH PA CHEST',
    'TECHNIQUE: Single frontal view.',
  ],
  indicationHeader: [
    'REASON FOR STUDY',
    'CLINICAL INFORMATION',
    'INDICATIONS',
    'HISTORY AND INDICATION',
    'CLINICAL QUESTION',
    'HX',
  ],
  addendumConfirms: ['Comparison with outside films confirms {a}.', 'On further review, there {be} {a}.'],
  impressionHedges: ['{site} fracture not excluded.', 'Questionable {site} fracture.'],
  impressionNegates: ['No {site} fracture identified.', 'No radiographic evidence of {site} fracture.'],
};

/** Batch 12: written after the b11 fixes (rules 1.4.0), before the engine was run on it. */
const B12: Pools = {
  positive: [
    'Demonstrated is {a}.',
    'Evident is {a}.',
    '{NP} {be} identified on the cone-down view.',
    '{NP} {be} present and unchanged.',
    'Once again, {a} {be} seen.',
    '{NP} {be} noted incidentally.',
    'Findings represent {a}.',
    '{NP} {be} visible on the lateral radiograph.',
  ],
  uncertain: [
    'Potential {np}.',
    '{NP} {be} potentially present.',
    '{NP} {be} a diagnostic consideration.',
    'Cannot distinguish between overlapping shadows and {a}.',
    'Artifact is favored over {a}.',
    'Findings are consistent with, but not specific for, {a}.',
    'Indistinct cortex, which may signify {a}.',
    '{NP} {be} a concern.',
    '{NP} {be} difficult to confirm.',
    '{NP} {be} not confirmed but remains possible.',
    'Findings raise suspicion for {a}.',
    'There may be {a}.',
  ],
  negative: [
    'Negative examination for {a}.',
    'I do not see {a}.',
    'We do not identify {a}.',
    '{NP} {be} not found.',
    '{NP} {be} not shown.',
    'Without evidence for {a}.',
    'There has been no {np}.',
  ],
  positiveNearNegation: [
    'No subcutaneous emphysema overlying the {np}.',
    'No hematoma at the site of the {np}.',
    'No lung contusion underlying the {np}.',
    'No pleural fluid to accompany the {np}.',
    'Without pneumothorax, the {np} {be} again seen.',
  ],
  negativeLists: [
    'There is no evidence of pneumothorax, hemothorax, pulmonary contusion or {np}.',
    'Negative for acute osseous injury, including {np}.',
    'No focal consolidation, effusion, pneumothorax, or {np} is identified.',
    'Absence of pneumothorax and {np}.',
  ],
  indication: [
    'S/p fall, left chest pain; concern for {site} fracture.',
    'Follow up {site} fracture.',
    'Eval for {site} fx after MVA.',
    'Hx of {site} fx.',
  ],
  conditional: [
    'If pain persists, consider dedicated {site} radiographs to evaluate for fracture.',
    'A {site} fracture, if present, may not be visible on this study.',
    'Follow-up imaging in 1-2 weeks can be performed to assess for {site} fracture if symptoms persist.',
    'Correlate with point tenderness; a nondisplaced {site} fracture would be radiographically occult.',
  ],
  hardware: [
    { text: 'Fractured inferior sternal wire, unchanged.' },
    { text: 'Lead fracture of the right ventricular pacing wire.' },
    { text: 'Broken cerclage wire about the right clavicle.', bone: 'clavicle' },
    { text: 'Fractured spinal rod at T8.', bone: 'other' },
    { text: 'Displaced fragment of a fractured central venous catheter.' },
  ],
  chronicity: [
    {
      text: 'Chronic posttraumatic deformity of the left 5th rib.',
      bone: 'rib',
      side: 'left',
      acuity: 'old',
      status: 'uncertain',
      ribs: [5],
    },
    {
      text: 'Healed right 4th rib fracture with residual deformity.',
      bone: 'rib',
      side: 'right',
      acuity: 'old',
      status: 'positive',
      ribs: [4],
    },
    {
      text: 'Fibrous union of a prior left clavicle fracture.',
      bone: 'clavicle',
      side: 'left',
      acuity: 'old',
      status: 'positive',
    },
    {
      text: 'Status post resection of the right 5th rib.',
      bone: 'rib',
      side: 'right',
      acuity: 'unspecified',
      status: 'negative',
    },
    {
      text: 'Bony bridging across the left 7th rib fracture.',
      bone: 'rib',
      side: 'left',
      acuity: 'unspecified',
      status: 'positive',
      ribs: [7],
    },
    {
      text: 'Chronic-appearing deformity of the right clavicle, possibly post-surgical.',
      bone: 'clavicle',
      side: 'right',
      acuity: 'unspecified',
      status: 'negative',
    },
    {
      text: 'Healing fracture of the left clavicle with callus.',
      bone: 'clavicle',
      side: 'left',
      acuity: 'healing',
      status: 'positive',
    },
    {
      text: 'Old fractures of the right 8th and 9th ribs, unchanged.',
      bone: 'rib',
      side: 'right',
      acuity: 'old',
      status: 'positive',
      ribs: [8, 9],
    },
  ],
  exam: ['EXAM: CHEST PA/LAT', 'PROCEDURE: XR CHEST 2V', 'EXAMINATION: Two views of the chest.'],
  indicationHeader: [
    'REASON FOR EXAMINATION',
    'INDICATION FOR EXAM',
    'CLINICAL HISTORY',
    'HISTORY',
    'REASON FOR REQUEST',
  ],
  addendumConfirms: [
    'Following review with the attending, there {be} {a}.',
    'On the dedicated rib views, {a} {be} confirmed.',
  ],
  impressionHedges: ['Potential {site} fracture.', 'Equivocal {site} fracture.'],
  impressionNegates: ['No {site} fracture demonstrated.', 'Negative for {site} fracture.'],
};

export const POOLS: Record<string, Pools> = { b10: B10, b11: B11, b12: B12, b13: B13, b14: B14, b15: B15 };

function siteWord(f: Finding): string {
  const s = f.side === 'left' || f.side === 'right' ? `${f.side} ` : '';
  return f.bone === 'rib' ? `${s}rib` : f.bone === 'clavicle' ? `${s}clavicle` : 'sternal';
}

function fill(frame: string, np: NounPhrase): string {
  const a = withArticle(np);
  const out = frame
    .replaceAll('{a}', a)
    .replaceAll('{np}', np.bare)
    .replaceAll('{A}', capitalise(a))
    .replaceAll('{NP}', capitalise(np.bare))
    .replaceAll('{be}', be(np));
  return capitalise(out);
}

function stripAcuity(bare: string): string {
  return bare.replace(/^(?:acute or subacute|acute-appearing|acute|new|recent) /, '');
}

function mention(rng: Rng, p: Pools, bone: Bone): Sentence {
  const r = rng.next();
  if (r < 0.22) {
    const np = bonePhrase(rng, bone);
    return {
      text: fill(rng.pick(p.positive), np),
      mentions: [{ status: 'positive', f: np.finding, rank: 0 }],
      topic: 'asserted',
    };
  }
  if (r < 0.5) {
    const np = bonePhrase(rng, bone);
    return {
      text: fill(rng.pick(p.uncertain), np),
      mentions: [{ status: 'uncertain', f: np.finding, rank: 0 }],
      topic: 'hedge',
    };
  }
  if (r < 0.64) {
    const np = bonePhrase(rng, bone, { acuity: rng.pick(['unspecified', 'acute'] as const) });
    const bare = { ...np, bare: stripAcuity(np.bare) };
    return {
      text: fill(rng.pick(p.negative), bare),
      mentions: [{ status: 'negative', f: np.finding, rank: 0 }],
      topic: 'negation',
    };
  }
  if (r < 0.76) {
    const np = bonePhrase(rng, bone, { plain: true });
    return {
      text: fill(rng.pick(p.positiveNearNegation), np),
      mentions: [{ status: 'positive', f: np.finding, rank: 0 }],
      topic: 'negation nearby, not in scope',
    };
  }
  if (r < 0.84) {
    const np = bonePhrase(rng, bone, { acuity: 'unspecified' });
    return {
      text: fill(rng.pick(p.negativeLists), np),
      mentions: [{ status: 'negative', f: np.finding, rank: 0 }],
      topic: 'negation over a list',
    };
  }
  const ch = p.chronicity.filter((c) => c.bone === bone);
  if (ch.length > 0) {
    const c = rng.pick(ch);
    return {
      text: c.text,
      mentions: [
        { status: c.status, f: { bone, side: c.side, acuity: c.acuity, ribs: c.ribs ?? [] }, rank: 0 },
      ],
      topic: 'chronicity',
    };
  }
  const np = bonePhrase(rng, bone);
  return {
    text: fill(rng.pick(p.positive), np),
    mentions: [{ status: 'positive', f: np.finding, rank: 0 }],
    topic: 'asserted',
  };
}

/** Findings asserted or hedged, restated in the impression or an addendum (precedence rule). */
function acrossSections(
  rng: Rng,
  p: Pools,
  bone: Bone,
): { findings: string; later: string; laterHeader: string; mentions: Mention[]; topic: string } {
  const side = rng.pick(['left', 'right'] as const);
  const kind = rng.int(0, 2);
  if (kind === 0) {
    const np = bonePhrase(rng, bone, { side });
    const site: Finding = { bone, side, acuity: 'unspecified', ribs: [] };
    return {
      findings: fill(rng.pick(p.positive), np),
      laterHeader: 'IMPRESSION',
      later: capitalise(rng.pick(p.impressionHedges).replaceAll('{site}', siteWord(site))),
      mentions: [
        { status: 'positive', f: np.finding, rank: 0 },
        { status: 'uncertain', f: site, rank: 1 },
      ],
      topic: 'asserted in findings, hedged in impression',
    };
  }
  const hedged = bonePhrase(rng, bone, { side });
  if (kind === 1) {
    const site: Finding = { bone, side, acuity: 'unspecified', ribs: [] };
    return {
      findings: fill(rng.pick(p.uncertain), hedged),
      laterHeader: 'IMPRESSION',
      later: capitalise(rng.pick(p.impressionNegates).replaceAll('{site}', siteWord(site))),
      mentions: [
        { status: 'uncertain', f: hedged.finding, rank: 0 },
        { status: 'negative', f: site, rank: 1 },
      ],
      topic: 'hedged in findings, negated in impression',
    };
  }
  // The addendum names the same finding: same side, the same rib numbers.
  const confirmed: NounPhrase = { ...hedged };
  return {
    findings: fill(rng.pick(p.uncertain), hedged),
    laterHeader: 'ADDENDUM',
    later: fill(rng.pick(p.addendumConfirms), confirmed),
    mentions: [
      { status: 'uncertain', f: hedged.finding, rank: 0 },
      { status: 'positive', f: hedged.finding, rank: 2 },
    ],
    topic: 'hedged in findings, confirmed in addendum',
  };
}

function reportDraft(rng: Rng, p: Pools): { text: string; mentions: Mention[]; topic: string } {
  const bones: Bone[] = [rng.pick(['rib', 'rib', 'clavicle'] as const)];
  if (rng.chance(0.45)) bones.push(bones[0] === 'rib' ? 'clavicle' : 'rib');
  if (rng.chance(0.12)) bones.push('other');
  const header: string[] = [];
  if (rng.chance(0.6)) header.push(rng.pick(p.exam));
  const topics: string[] = [];
  // Indication naming a fracture (never read) about the first bone.
  if (rng.chance(0.5) && bones[0] !== 'other') {
    const site = siteWord({
      bone: bones[0]!,
      side: rng.pick(['left', 'right', 'unspecified'] as const),
      acuity: 'unspecified',
      ribs: [],
    });
    header.push(
      `${rng.pick(p.indicationHeader)}: ${capitalise(rng.pick(p.indication).replaceAll('{site}', site))}`,
    );
    topics.push('indication');
  }
  if (rng.chance(0.4))
    header.push(
      rng.pick([
        'COMPARISON: None.',
        'COMPARISON: Chest radiograph from 2 days prior.',
        'COMPARISON: None available.',
      ]),
    );
  const findings: string[] = [];
  const mentions: Mention[] = [];
  let impression = rng.chance(0.6) ? rng.pick(IMPRESSION_FILLER) : '';
  let addendum = '';
  for (const [i, b] of bones.entries()) {
    if (i === 0 && b !== 'other' && rng.chance(0.18)) {
      const x = acrossSections(rng, p, b);
      findings.push(x.findings);
      if (x.laterHeader === 'IMPRESSION') impression = x.later;
      else addendum = x.later;
      mentions.push(...x.mentions);
      topics.push(x.topic);
      continue;
    }
    const s = mention(rng, p, b);
    findings.push(s.text);
    mentions.push(...s.mentions);
    topics.push(s.topic);
  }
  // Distractors that assert nothing about a bone: a fractured device, a conditional, filler.
  const d = rng.next();
  if (d < 0.25) {
    findings.splice(rng.int(0, findings.length), 0, rng.pick(p.hardware).text);
    topics.push('hardware');
  } else if (d < 0.45) {
    const b = rng.pick(['rib', 'clavicle'] as const);
    findings.push(capitalise(rng.pick(p.conditional).replaceAll('{site}', b)));
    topics.push('conditional');
  }
  findings.splice(rng.int(0, findings.length), 0, rng.pick(FILLER));
  let text = [...header, `FINDINGS: ${findings.join(' ')}`].join('\n');
  if (impression !== '') text += `\nIMPRESSION: ${impression}`;
  if (addendum !== '') text += `\nADDENDUM: ${addendum}`;
  return { text, mentions, topic: topics.join(' + ') };
}

export function reportBatch(rng: Rng, batch: string, count: number): LabelledCase[] {
  const p = POOLS[batch];
  if (!p) throw new Error(`no phrase pools for ${batch}`);
  const out: LabelledCase[] = [];
  for (let i = 0; i < count; i++) {
    const d = reportDraft(rng, p);
    out.push({
      id: `${batch}-${String(i + 1).padStart(3, '0')}`,
      batch,
      topic: d.topic,
      text: d.text,
      ...labelBySections(d.mentions),
    });
  }
  return out;
}
