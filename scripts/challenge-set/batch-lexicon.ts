/**
 * Batches 13 and 14: whole US-style reports (the composer of batch-reports.ts) whose phrase pools
 * are ordinary clinical wording taken from the published lexicons themselves rather than
 * adversarial phrasings: the NegEx trigger lists (Chapman et al. 2001/2013: pre- and
 * post-negation, pseudo-negation, termination terms), the ConText / pyConText lexical knowledge
 * base (probable existence, definite negated existence, historical, hypothetical, indication),
 * RadLex certainty terms and the hedging scale of the ACR / Panagiotopoulos et al. 2015
 * ("consistent with", "suspicious for", "possible", "cannot exclude", "less likely", "unlikely").
 * Labels come from what each frame says by the README labelling rules ("unlikely" and "doubtful"
 * are read as negations, as the earlier hand-written cases c219/c220 read "unlikely"); the rule
 * engine is never imported. b13 was written before the rules 1.6.0 lexicon; b14 after it, without
 * running the engine while writing.
 */
import type { Pools } from './batch-reports.ts';

/** Batch 13: written against rules 1.5.0, before the engine was run on it. */
export const B13: Pools = {
  positive: [
    'There is evidence of {a}.',
    'Findings are consistent with {a}.',
    'Appearance is compatible with {a}.',
    'Lucent line through the cortex, diagnostic of {a}.',
    'Cortical step-off representing {a}.',
    '{NP} {be} definitely present.',
    '{NP} {be} again identified.',
    'Consistent with {a}.',
    'There {be} {a} with slight overriding of the fragments.',
  ],
  uncertain: [
    'Findings suspicious for {a}.',
    'Cortical irregularity, which may represent {a}.',
    'Possibly {a}.',
    'Questionable {np}.',
    'Probable {np}.',
    'Findings raise the question of {a}.',
    'Subtle cortical irregularity, likely {a}.',
    'Appearance suggests {a}.',
    '{NP} {be} suspected.',
    '{NP} {be} probable.',
    'Possible {np} versus overlapping vessels.',
    'Indeterminate lucency, concern for {a}.',
    'Cannot rule out {a}.',
    'It is uncertain whether there {be} {a}.',
    'There is a question of {a}.',
    'Probably {a}.',
    '{NP} {be} not entirely excluded.',
    'Findings may be due to {a}.',
    '{NP} {be} less likely but not excluded.',
  ],
  negative: [
    'No evidence of {a}.',
    'No signs of {a}.',
    'No findings of {a}.',
    'Absence of {np}.',
    'The study fails to reveal {a}.',
    'The radiographs do not demonstrate {a}.',
    '{NP} {be} absent.',
    'There is no evidence for {a}.',
    '{NP} {be} doubtful.',
    '{NP} {be} unlikely.',
    'No {np} is evident.',
  ],
  positiveNearNegation: [
    'No pneumothorax, although {a} {be} present.',
    'No displacement of the {np}.',
    'No acute cardiopulmonary process aside from {a}.',
    'No other abnormality apart from {a}.',
    'No pneumothorax is seen, but there {be} {a}.',
    'No significant change in the {np}.',
    'No interval change in the appearance of the {np}.',
    'No increase in displacement of the {np}.',
    'No pleural effusion secondary to the {np}.',
  ],
  negativeLists: [
    'No evidence of pneumothorax, hemothorax, or {np}.',
    'Negative for pneumothorax or {np}.',
    'No pleural effusion, pneumothorax, or {np} is identified.',
    'Absence of pneumothorax or {np}.',
    'No acute osseous abnormality; specifically, no {np}.',
  ],
  indication: [
    'Rule out {site} fracture.',
    'Evaluate for {site} fracture after fall.',
    'Fall. Question {site} fracture.',
    'History of {site} fracture.',
    'R/O {site} fx.',
  ],
  conditional: [
    'If there is persistent pain, dedicated {site} views are recommended to exclude fracture.',
    'Should symptoms persist, repeat imaging may be performed to evaluate for {site} fracture.',
    'Recommend dedicated {site} radiographs if fracture is clinically suspected.',
    'In case of continued tenderness, CT would be more sensitive for {site} fracture.',
  ],
  hardware: [
    { text: 'Fractured sternal wire, unchanged from prior.' },
    { text: 'Broken sternotomy wires, chronic.' },
    { text: 'Fracture of the pacemaker lead as it courses beneath the left clavicle.', bone: 'clavicle' },
    { text: 'Fractured screw in the left clavicular plate.', bone: 'clavicle' },
    { text: 'Broken fixation wire overlying the right 5th rib.', bone: 'rib' },
  ],
  chronicity: [
    {
      text: 'Known old left 6th rib fracture.',
      bone: 'rib',
      side: 'left',
      acuity: 'old',
      status: 'positive',
      ribs: [6],
    },
    {
      text: 'Previously described right clavicle fracture, now healed.',
      bone: 'clavicle',
      side: 'right',
      acuity: 'old',
      status: 'positive',
    },
    {
      text: 'Status post fixation of a right clavicle fracture.',
      bone: 'clavicle',
      side: 'right',
      acuity: 'unspecified',
      status: 'positive',
    },
    {
      text: 'Chronic healed fractures of the left 8th and 9th ribs.',
      bone: 'rib',
      side: 'left',
      acuity: 'old',
      status: 'positive',
      ribs: [8, 9],
    },
    {
      text: 'Deformity of the left 7th rib, sequela of remote trauma.',
      bone: 'rib',
      side: 'left',
      acuity: 'old',
      status: 'uncertain',
      ribs: [7],
    },
    {
      text: 'Deformity of the right clavicle, status post resection.',
      bone: 'clavicle',
      side: 'right',
      acuity: 'unspecified',
      status: 'negative',
    },
    {
      text: 'Healing left 4th rib fracture with callus formation.',
      bone: 'rib',
      side: 'left',
      acuity: 'healing',
      status: 'positive',
      ribs: [4],
    },
    {
      text: 'Remote right clavicle fracture deformity.',
      bone: 'clavicle',
      side: 'right',
      acuity: 'old',
      status: 'positive',
    },
    {
      text: 'Subacute fracture of the right 9th rib.',
      bone: 'rib',
      side: 'right',
      acuity: 'healing',
      status: 'positive',
      ribs: [9],
    },
    {
      text: 'Mild chronic deformity of the left clavicle without fracture.',
      bone: 'clavicle',
      side: 'left',
      acuity: 'unspecified',
      status: 'negative',
    },
  ],
  exam: [
    'EXAM: CHEST, 2 VIEWS',
    'EXAMINATION: RIBS UNILATERAL WITH CHEST',
    'TECHNIQUE: PA and lateral chest radiographs.',
  ],
  indicationHeader: ['INDICATION', 'CLINICAL HISTORY', 'REASON FOR EXAM', 'HISTORY'],
  addendumConfirms: ['Oblique views were obtained and show {a}.', 'Subsequent dedicated views confirm {a}.'],
  impressionHedges: ['Probable {site} fracture.', '{site} fracture cannot be excluded.'],
  impressionNegates: ['No evidence of {site} fracture.', 'No {site} fracture seen.'],
};
