/**
 * Radiology report text for a synthetic chest radiograph, in varied realistic phrasing: normal
 * studies, negations, hedges, acute/healing/old fractures with sides and rib numbers, and other
 * findings (effusion, cardiomegaly, degenerative spine...) that are not fractures.
 *
 * What the text says is decided by the caller (ReportContent); this file only words it, and
 * every wording of a state means that state in plain English.
 */
import type { LabelStatus } from '../../services/shared/vocabulary.ts';
import type { Acuity, Side } from './chest-image.ts';
import type { Rng } from './prng.ts';

export type Displacement = 'nondisplaced' | 'minimally displaced' | 'displaced';

export interface RibFinding {
  side: Side;
  ribs: number[];
  acuity: Acuity;
  displacement: Displacement;
}
export interface ClavicleFinding {
  side: Side;
  acuity: Acuity;
  displacement: Displacement;
}
export interface OtherBoneFinding {
  kind: 'vertebral' | 'humerus' | 'scapula';
  side: Side;
  level: number;
  acuity: Acuity;
}

export interface ReportContent {
  procedureText: string;
  indication: string;
  comparison: string;
  view: 'PA' | 'AP';
  rib: { state: LabelStatus; findings: RibFinding[] };
  clavicle: { state: LabelStatus; findings: ClavicleFinding[] };
  other: { state: LabelStatus; findings: OtherBoneFinding[] };
  cardiomegaly: boolean;
  effusion: Side | null;
  degenerativeSpine: boolean;
  atelectasis: boolean;
  acJointArthritis: boolean;
  granuloma: boolean;
}

/** Rib ordinals as digits and as words, index = rib number. */
export const ORD_NUM = [
  '',
  '1st',
  '2nd',
  '3rd',
  '4th',
  '5th',
  '6th',
  '7th',
  '8th',
  '9th',
  '10th',
  '11th',
  '12th',
];
export const ORD_WORD = [
  '',
  'first',
  'second',
  'third',
  'fourth',
  'fifth',
  'sixth',
  'seventh',
  'eighth',
  'ninth',
  'tenth',
  'eleventh',
  'twelfth',
];

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function ordinal(n: number, words: boolean): string {
  return (words ? ORD_WORD[n] : ORD_NUM[n]) ?? String(n);
}

/** "left 6th rib", "right 5th and 6th ribs", "left 4th through 6th ribs", "right 3rd, 4th and 5th ribs" */
function ribsPhrase(rng: Rng, f: RibFinding): string {
  const words = rng.bool(0.3);
  const ribs = [...f.ribs].sort((a, b) => a - b);
  const ords = ribs.map((n) => ordinal(n, words));
  const where = rng.weighted([
    ['', 6],
    ['posterior ', 1],
    ['lateral ', 1],
    ['posterolateral ', 1],
  ] as const);
  if (ords.length === 1) {
    return rng.bool(0.75) ? `${where}${f.side} ${ords[0]} rib` : `${f.side} ${where}${ords[0]} rib`;
  }
  const consecutive = ribs.every((r, i) => i === 0 || r === (ribs[i - 1] as number) + 1);
  let list: string;
  if (ords.length === 2) list = `${ords[0]} and ${ords[1]}`;
  else if (consecutive && rng.bool(0.5)) list = `${ords[0]} through ${ords[ords.length - 1]}`;
  else list = `${ords.slice(0, -1).join(', ')} and ${ords[ords.length - 1]}`;
  return `${where}${f.side} ${list} ribs`;
}

function plural(f: RibFinding): { s: string; isAre: string; aOrNone: string } {
  const many = f.ribs.length > 1;
  return { s: many ? 's' : '', isAre: many ? 'are' : 'is', aOrNone: many ? '' : 'a ' };
}

function ribPositive(rng: Rng, f: RibFinding): string {
  const ribs = ribsPhrase(rng, f);
  const { s, isAre, aOrNone } = plural(f);
  if (f.acuity === 'healing') {
    return rng.pick([
      `Healing fracture${s} of the ${ribs} with callus formation.`,
      `Subacute ${ribs} fracture${s} with early callus.`,
      `Healing ${ribs} fracture${s}.`,
      `There ${isAre} ${aOrNone}healing fracture${s} of the ${ribs}.`,
    ]);
  }
  if (f.acuity === 'old') {
    return rng.pick([
      `Old healed fracture${s} of the ${ribs}.`,
      `Remote healed ${ribs} fracture${s}.`,
      `Chronic deformity of the ${ribs} from old healed fracture${s}.`,
      `Healed ${ribs} fracture${s}.`,
    ]);
  }
  const d = f.displacement;
  return rng.pick([
    `Acute fracture${s} of the ${ribs}.`,
    `Acute ${d} fracture${s} of the ${ribs}.`,
    `There ${isAre} ${aOrNone}${d} fracture${s} of the ${ribs}.`,
    `${cap(d)} ${ribs} fracture${s}.`,
    `Fracture${s} ${isAre} seen involving the ${ribs}.`,
    `${cap(d)} fracture${s} of the ${ribs}, acute.`,
  ]);
}

function ribHedged(rng: Rng, f: RibFinding): string {
  const ribs = ribsPhrase(rng, { ...f, ribs: f.ribs.slice(0, 2) });
  return rng.pick([
    `Possible nondisplaced fracture of the ${ribs}.`,
    `Cannot exclude a subtle fracture of the ${ribs}; a dedicated rib series could be considered.`,
    `Questionable cortical irregularity of the ${ribs}, which may represent a nondisplaced fracture.`,
    `Subtle lucency through the ${ribs}, suspicious for fracture.`,
    `Possible fracture of the ${ribs}, not definitely seen on this view.`,
  ]);
}

function claviclePart(rng: Rng): string {
  return rng.pick(['mid', 'midshaft', 'middle third of the']);
}

function claviclePositive(rng: Rng, f: ClavicleFinding): string {
  if (f.acuity === 'healing') {
    return rng.pick([
      `Healing fracture of the ${f.side} clavicle.`,
      `Healing ${f.side} clavicle fracture with callus formation.`,
    ]);
  }
  if (f.acuity === 'old') {
    return rng.pick([
      `Old healed fracture of the ${f.side} clavicle.`,
      `Remote healed ${f.side} clavicular fracture with mild deformity.`,
    ]);
  }
  const part = claviclePart(rng);
  return rng.pick([
    `Acute ${f.displacement} fracture of the ${part} ${f.side} clavicle.`,
    `${cap(f.side)} midshaft clavicle fracture${f.displacement === 'displaced' ? ' with inferior displacement of the lateral fragment' : ''}.`,
    `There is a ${f.displacement} fracture of the ${f.side} clavicle.`,
    `Fracture of the ${part} ${f.side} clavicle.`,
  ]);
}

function clavicleHedged(rng: Rng, f: ClavicleFinding): string {
  return rng.pick([
    `Possible nondisplaced fracture of the ${f.side} clavicle.`,
    `A subtle fracture of the ${f.side} clavicle cannot be excluded.`,
    `Questionable lucency through the ${f.side} clavicle, possibly a fracture.`,
  ]);
}

function otherPositive(rng: Rng, f: OtherBoneFinding): string {
  if (f.kind === 'vertebral') {
    const age = f.acuity === 'acute' ? 'acute' : f.acuity === 'healing' ? 'subacute' : 'chronic';
    return rng.pick([
      `Compression fracture of the T${f.level} vertebral body, ${age}.`,
      `${cap(age)} T${f.level} compression fracture.`,
    ]);
  }
  if (f.kind === 'humerus') {
    return f.acuity === 'acute'
      ? `Acute fracture of the ${f.side} proximal humerus.`
      : `Healed fracture of the ${f.side} humeral neck.`;
  }
  return f.acuity === 'acute'
    ? `Fracture of the ${f.side} scapular body.`
    : `Old healed fracture of the ${f.side} scapula.`;
}

function otherHedged(rng: Rng, f: OtherBoneFinding): string {
  return rng.pick([
    `Possible compression fracture of T${f.level}.`,
    `Cannot exclude a fracture of the ${f.side} proximal humerus.`,
  ]);
}

/** Bone negations limited to what is negative, so they never contradict a positive finding. */
function boneNegative(rng: Rng, ribNeg: boolean, clavNeg: boolean, otherNeg: boolean): string | null {
  if (ribNeg && clavNeg && otherNeg) {
    return rng.weighted([
      ['No displaced rib fracture.', 2],
      ['No acute rib fracture is identified.', 2],
      ['No acute osseous abnormality.', 3],
      ['The osseous structures are intact.', 2],
      ['No fracture is seen.', 2],
      ['No evidence of rib or clavicle fracture.', 2],
      ['The ribs and clavicles are intact.', 1],
      ['Bony thorax is unremarkable.', 1],
      [null, 3],
    ] as const);
  }
  const parts: string[] = [];
  if (ribNeg)
    parts.push(rng.pick(['No rib fracture is seen.', 'The ribs are intact.', 'No displaced rib fracture.']));
  if (clavNeg) parts.push(rng.pick(['The clavicles are intact.', 'No clavicle fracture.']));
  return parts.length > 0 && rng.bool(0.7) ? parts.join(' ') : null;
}

export function writeReportLines(rng: Rng, c: ReportContent): string[] {
  const findings: string[] = [];
  // Lungs and pleura.
  const lung: string[] = [];
  lung.push(
    rng.pick([
      'The lungs are clear.',
      'No focal consolidation.',
      'Lungs are well expanded and clear.',
      'No focal airspace disease.',
    ]),
  );
  if (c.atelectasis)
    lung.push(
      rng.pick([
        'Mild bibasilar atelectasis.',
        'Linear atelectasis at the left base.',
        'Minor subsegmental atelectasis at the right base.',
      ]),
    );
  if (c.granuloma) lung.push('Calcified granuloma in the right upper lobe.');
  if (c.effusion) {
    lung.push(
      rng.pick([
        `Small ${c.effusion} pleural effusion.`,
        `Blunting of the ${c.effusion} costophrenic angle, likely a small effusion.`,
        `Small ${c.effusion} effusion.`,
      ]),
    );
    lung.push('No pneumothorax.');
  } else {
    lung.push(
      rng.pick([
        'No pleural effusion or pneumothorax.',
        'No effusion or pneumothorax.',
        'No pneumothorax.',
        'No pleural effusion.',
      ]),
    );
  }
  // Heart and mediastinum; "&" exercises HL7 escaping.
  const heart = c.cardiomegaly
    ? rng.pick([
        'The heart is enlarged.',
        'Cardiomegaly.',
        'Moderate cardiomegaly.',
        'Enlarged cardiac silhouette.',
      ])
    : rng.pick([
        'Heart size is normal.',
        'The cardiomediastinal silhouette is within normal limits.',
        'Heart & mediastinum are unremarkable.',
        c.view === 'AP' ? 'Heart size is within normal limits for an AP projection.' : 'Normal heart size.',
      ]);
  // Bones.
  const bone: string[] = [];
  for (const f of c.rib.findings)
    bone.push(c.rib.state === 'positive' ? ribPositive(rng, f) : ribHedged(rng, f));
  for (const f of c.clavicle.findings)
    bone.push(c.clavicle.state === 'positive' ? claviclePositive(rng, f) : clavicleHedged(rng, f));
  for (const f of c.other.findings)
    bone.push(c.other.state === 'positive' ? otherPositive(rng, f) : otherHedged(rng, f));
  const onlyOld =
    c.rib.state === 'positive' &&
    c.rib.findings.every((f) => f.acuity === 'old') &&
    c.clavicle.state === 'negative' &&
    c.other.state === 'negative';
  const neg = boneNegative(
    rng,
    c.rib.state === 'negative',
    c.clavicle.state === 'negative',
    c.other.state === 'negative',
  );
  if (onlyOld && rng.bool(0.3)) bone.push('No acute fracture.');
  else if (neg) bone.push(neg);
  if (c.degenerativeSpine)
    bone.push(
      rng.pick([
        'Degenerative changes of the thoracic spine.',
        'Mild multilevel thoracic spondylosis with osteophytes.',
        'Degenerative disc disease of the thoracic spine.',
      ]),
    );
  if (c.acJointArthritis) bone.push('Degenerative changes of the acromioclavicular joints.');

  const order = rng.bool(0.5) ? [lung, [heart], bone] : [[heart], lung, bone];
  for (const g of order) findings.push(...g);

  // Impression: the fractures first, else a normal summary.
  const imp: string[] = [];
  const ribShort = (f: RibFinding): string => {
    const { s } = plural(f);
    const age = f.acuity === 'acute' ? 'Acute' : f.acuity === 'healing' ? 'Healing' : 'Old healed';
    return s ? `${age} fractures of the ${ribsPhrase(rng, f)}.` : `${age} ${ribsPhrase(rng, f)} fracture.`;
  };
  if (c.rib.state === 'positive') for (const f of c.rib.findings) imp.push(ribShort(f));
  if (c.clavicle.state === 'positive') {
    for (const f of c.clavicle.findings)
      imp.push(
        `${f.acuity === 'acute' ? 'Acute' : f.acuity === 'healing' ? 'Healing' : 'Old healed'} ${f.side} clavicle fracture.`,
      );
  }
  if (c.rib.state === 'uncertain')
    imp.push(
      rng.pick([
        'Possible rib fracture, as above.',
        'Questionable rib fracture; consider a dedicated rib series.',
      ]),
    );
  if (c.clavicle.state === 'uncertain') imp.push('Possible clavicle fracture, as above.');
  if (c.other.state === 'positive') for (const f of c.other.findings) imp.push(otherPositive(rng, f));
  if (c.effusion) imp.push(`Small ${c.effusion} pleural effusion.`);
  if (c.cardiomegaly) imp.push('Cardiomegaly.');
  if (imp.length === 0) {
    imp.push(
      rng.pick([
        'No acute cardiopulmonary abnormality.',
        'No acute cardiopulmonary process.',
        'Normal chest radiograph.',
        'No acute findings.',
      ]),
    );
  } else if (c.rib.state !== 'negative' || c.clavicle.state !== 'negative') {
    if (!c.effusion && rng.bool(0.5)) imp.push('No pneumothorax.');
  }

  const lines = [
    `EXAMINATION: ${c.procedureText}`,
    `CLINICAL HISTORY: ${c.indication}`,
    `COMPARISON: ${c.comparison}`,
  ];
  if (rng.bool(0.5)) {
    lines.push('FINDINGS:', ...findings);
  } else {
    lines.push(`FINDINGS: ${findings.join(' ')}`);
  }
  lines.push(
    `IMPRESSION: ${imp.length > 1 && rng.bool(0.5) ? imp.map((s, i) => `${i + 1}. ${s}`).join(' ') : imp.join(' ')}`,
  );
  return lines;
}
