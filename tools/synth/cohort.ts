/**
 * The synthetic hospital's cohort plan: patients, studies, accession numbers, images, the true
 * fractures, what each report version says, and the expert-labelled (region) splits.
 *
 * Study i is planned from its own PRNG stream (seed, STUDY, i), so studies can be generated one
 * at a time, in order, with nothing but the split assignment held in memory.
 */
import type { LabelStatus } from '../../services/shared/vocabulary.ts';
import type { ReportStatus } from '../../services/shared/vocabulary.ts';
import type { Acuity, FractureKind, FractureSpec, Side, ViewPosition } from './chest-image.ts';
import { Rng, seedFromString } from './prng.ts';
import type {
  ClavicleFinding,
  Displacement,
  OtherBoneFinding,
  ReportContent,
  RibFinding,
} from './report-text.ts';
import { ExpectedError } from '../../services/shared/errors.ts';

export type Split = 'region-train' | 'region-test' | 'record';

export interface CohortOptions {
  studies: number;
  seed: string;
  size: number;
  ribPrevalence: number;
  claviclePrevalence: number;
  /** other-bone fractures (report only: not drawn, not learned) */
  otherPrevalence: number;
  /** probability that the final report misses a fracture class present in the image */
  missRate: number;
  /** probability that a present fracture class is reported with a hedge (uncertain) */
  hedgeRate: number;
  /** probability that a fracture-free class gets a hedged report anyway */
  falseHedgeRate: number;
  regionTrain: number;
  regionTest: number;
  /** expert sets are enriched with positives: prevalences used for region-* studies */
  regionRibPrevalence: number;
  regionClaviclePrevalence: number;
  multiImageRate: number;
  apFraction: number;
  compressedFraction: number;
  prelimRate: number;
  correctionRate: number;
}

export const DEFAULT_COHORT_OPTIONS: Omit<CohortOptions, 'studies' | 'seed'> = {
  size: 512,
  ribPrevalence: 0.04,
  claviclePrevalence: 0.015,
  otherPrevalence: 0.01,
  missRate: 0.08,
  hedgeRate: 0.08,
  falseHedgeRate: 0.01,
  regionTrain: 200,
  regionTest: 200,
  regionRibPrevalence: 0.35,
  regionClaviclePrevalence: 0.15,
  multiImageRate: 0.2,
  apFraction: 0.3,
  compressedFraction: 0.1,
  prelimRate: 0.2,
  correctionRate: 0.015,
};

export class CohortOptionError extends ExpectedError {}

export function validateCohortOptions(o: CohortOptions): void {
  const bad = (msg: string): never => {
    throw new CohortOptionError(msg);
  };
  if (!Number.isInteger(o.studies) || o.studies < 1)
    bad(`--studies must be a positive integer (got ${o.studies})`);
  if (!Number.isInteger(o.size) || o.size < 128 || o.size > 4096)
    bad(`--size must be an integer from 128 to 4096 (got ${o.size})`);
  for (const k of [
    'ribPrevalence',
    'claviclePrevalence',
    'otherPrevalence',
    'missRate',
    'hedgeRate',
    'falseHedgeRate',
    'regionRibPrevalence',
    'regionClaviclePrevalence',
    'multiImageRate',
    'apFraction',
    'compressedFraction',
    'prelimRate',
    'correctionRate',
  ] as const) {
    const v = o[k];
    if (!(v >= 0 && v <= 1)) bad(`${k} must be a fraction in [0, 1] (got ${v})`);
  }
  for (const k of ['regionTrain', 'regionTest'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 0) bad(`${k} must be a non-negative integer (got ${o[k]})`);
  }
  if (o.regionTrain + o.regionTest > o.studies) {
    bad(
      `region-train + region-test (${o.regionTrain + o.regionTest}) cannot exceed --studies (${o.studies}): each region image is its own study`,
    );
  }
}

export interface PatientPlan {
  patientId: string;
  family: string;
  given: string;
  sex: 'M' | 'F';
  birthDate: string;
}

export interface ImagePlan {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  view: ViewPosition;
  modality: 'CR' | 'DX';
  compressed: boolean;
  /** seed of the image's own rendering stream */
  renderKey: number;
}

export interface ReportVersion {
  status: ReportStatus;
  time: number;
  messageControlId: string;
  content: ReportContent;
  intended: { rib: LabelStatus; clavicle: LabelStatus; other: LabelStatus };
  /** seed of the stream that words this version */
  textKey: number;
}

export interface StudyPlan {
  index: number;
  split: Split;
  patient: PatientPlan;
  accession: string;
  placerOrder: string;
  studyInstanceUid: string;
  studyTime: number;
  procedureCode: string;
  procedureText: string;
  patientClass: 'E' | 'I' | 'O';
  orderingProvider: string;
  interpreter: string;
  fractures: FractureSpec[];
  findings: { cardiomegaly: boolean; effusion: Side | null; degenerativeSpine: boolean };
  images: ImagePlan[];
  /** in publication order; the last one is what the record finally says */
  reports: ReportVersion[];
}

// PRNG stream ids.
const STREAM = { split: 1, study: 2, patient: 3, repeat: 4, uid: 5 } as const;

const FAMILY = [
  'SMITH',
  'JOHNSON',
  'WILLIAMS',
  'BROWN',
  'JONES',
  'GARCIA',
  'MILLER',
  'DAVIS',
  'RODRIGUEZ',
  'MARTINEZ',
  'HERNANDEZ',
  'LOPEZ',
  'WILSON',
  'ANDERSON',
  'THOMAS',
  'TAYLOR',
  'MOORE',
  'JACKSON',
  'MARTIN',
  'LEE',
  'PEREZ',
  'THOMPSON',
  'WHITE',
  'HARRIS',
  'SANCHEZ',
  'CLARK',
  'RAMIREZ',
  'LEWIS',
  'ROBINSON',
  'WALKER',
  'YOUNG',
  'ALLEN',
  'KING',
  'WRIGHT',
  'SCOTT',
  'TORRES',
  'NGUYEN',
  'HILL',
  'FLORES',
  'GREEN',
  "O'BRIEN",
  'MUELLER',
  'KOWALSKI',
  'NAKAMURA',
  'OKAFOR',
  'SINGH',
  'PATEL',
  'COHEN',
  'ROSSI',
  'DUBOIS',
];
const GIVEN_F = [
  'MARY',
  'PATRICIA',
  'JENNIFER',
  'LINDA',
  'ELIZABETH',
  'BARBARA',
  'SUSAN',
  'JESSICA',
  'SARAH',
  'KAREN',
  'NANCY',
  'LISA',
  'MARGARET',
  'SANDRA',
  'ASHLEY',
  'EMILY',
  'DONNA',
  'MICHELLE',
  'CAROL',
  'AMANDA',
  'MELISSA',
  'DEBORAH',
  'ANNA',
  'FATIMA',
  'MEI',
  'INGRID',
];
const GIVEN_M = [
  'JAMES',
  'ROBERT',
  'JOHN',
  'MICHAEL',
  'DAVID',
  'WILLIAM',
  'RICHARD',
  'JOSEPH',
  'THOMAS',
  'CHARLES',
  'CHRISTOPHER',
  'DANIEL',
  'MATTHEW',
  'ANTHONY',
  'MARK',
  'DONALD',
  'STEVEN',
  'PAUL',
  'ANDREW',
  'JOSHUA',
  'KENNETH',
  'KEVIN',
  'AHMED',
  'HIROSHI',
  'LARS',
  'CHIDI',
];
const PROVIDERS = [
  '1001^NGUYEN^ANH^^^DR',
  '1002^OKONKWO^ADA^^^DR',
  '1003^BERG^ERIK^^^DR',
  '1004^SHAH^PRIYA^^^DR',
  '1005^MORALES^LUIS^^^DR',
  '1006^FISCHER^ANNA^^^DR',
];
const RADIOLOGISTS = [
  '2001^CHEN^LI^^^DR',
  '2002^ADAMS^RUTH^^^DR',
  '2003^KOVACS^PETER^^^DR',
  '2004^OSEI^KWAME^^^DR',
];
const INDICATIONS_TRAUMA = [
  'Fall.',
  'Fall from standing, right chest wall pain.',
  'Motor vehicle collision.',
  'Chest wall pain after fall.',
  'Trauma, left-sided chest pain.',
  'Assault, rib pain.',
  'Cough with pleuritic pain; ? rib fracture.',
];
const INDICATIONS_OTHER = [
  'Shortness of breath.',
  'Cough.',
  'Chest pain.',
  'Fever.',
  'Pre-operative evaluation.',
  'Follow-up.',
  'Dyspnea, rule out pneumonia.',
  'Line placement check.',
];
/** 2.25 UIDs are derived from UUID-sized integers: unique with overwhelming probability. */
function uid(seed: number, kind: number, index: number, sub = 0): string {
  return `2.25.${new Rng(seed, STREAM.uid, kind, index, sub).uint128().toString()}`;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
function daDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

/** The part of a cohort fixed by its options: seed, region split assignment, time base. */
export class CohortPlanner {
  readonly seed: number;
  readonly options: CohortOptions;
  private readonly splits: Uint8Array;
  private readonly startMs: number;
  private readonly gapMs: number;

  constructor(options: CohortOptions) {
    validateCohortOptions(options);
    this.options = options;
    this.seed = seedFromString(options.seed);
    const n = options.studies;
    // Region studies are spread over the whole period by a seeded partial shuffle.
    this.splits = new Uint8Array(n);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const rng = new Rng(this.seed, STREAM.split);
    const need = options.regionTrain + options.regionTest;
    for (let i = 0; i < need; i++) {
      const j = i + Math.floor(rng.float() * (n - i));
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
      this.splits[order[i] as number] = i < options.regionTrain ? 1 : 2;
    }
    // Study dates: from a seed-chosen start in 2015-2018, spread evenly over three years.
    this.startMs = Date.UTC(
      2015 + (rng.nextUint32() % 4),
      rng.nextUint32() % 12,
      1 + (rng.nextUint32() % 28),
      0,
      0,
      0,
    );
    this.gapMs = (3 * 365 * 24 * 3600 * 1000) / n;
  }

  splitOf(index: number): Split {
    const s = this.splits[index];
    return s === 1 ? 'region-train' : s === 2 ? 'region-test' : 'record';
  }

  /** A patient's identity depends only on the patient index. */
  patient(pIndex: number): PatientPlan {
    const rng = new Rng(this.seed, STREAM.patient, pIndex);
    const sex = rng.bool(0.5) ? 'F' : 'M';
    const birth = Date.UTC(1930 + rng.int(0, 75), rng.int(0, 11), rng.int(1, 28));
    return {
      // MRNs: a bijection of the index (an odd multiplier mod 10^8), so they are unique.
      patientId: `MRN${pad((pIndex * 48271 + 1234567 + (this.seed % 1000) * 100000) % 100000000, 8)}`,
      family: rng.pick(FAMILY),
      given: rng.pick(sex === 'F' ? GIVEN_F : GIVEN_M),
      sex,
      birthDate: daDate(birth),
    };
  }

  /** Some patients come back: study i may belong to the patient of an earlier study. */
  patientIndexOf(index: number): number {
    let i = index;
    for (let depth = 0; depth < 64; depth++) {
      const rng = new Rng(this.seed, STREAM.repeat, i);
      if (i === 0 || !rng.bool(0.12)) return i;
      i = Math.max(0, i - 1 - Math.floor(rng.float() * Math.min(i, 400)));
    }
    return i;
  }

  accession(index: number): string {
    // 10 digits, a bijection of the index: unique, but not a visible counter.
    const n = (index * 7919 + 104729 + (this.seed % 997) * 10007) % 1000000000;
    return `A${pad(n, 9)}`;
  }

  study(index: number): StudyPlan {
    const o = this.options;
    const rng = new Rng(this.seed, STREAM.study, index);
    const split = this.splitOf(index);
    const region = split !== 'record';
    const patient = this.patient(this.patientIndexOf(index));
    const studyTime = Math.round(this.startMs + index * this.gapMs + rng.float() * this.gapMs * 0.9);

    const ribP = region ? o.regionRibPrevalence : o.ribPrevalence;
    const clavP = region ? o.regionClaviclePrevalence : o.claviclePrevalence;
    const fractures: FractureSpec[] = [];
    if (rng.bool(ribP)) fractures.push(...drawRibFractures(rng));
    if (rng.bool(clavP)) fractures.push(drawClavicleFracture(rng));
    const otherFindings: OtherBoneFinding[] = rng.bool(o.otherPrevalence)
      ? [
          {
            kind: rng.pick(['vertebral', 'humerus', 'scapula'] as const),
            side: rng.bool(0.5) ? 'left' : 'right',
            level: rng.int(6, 12),
            acuity: rng.pick(['acute', 'old'] as const),
          },
        ]
      : [];
    const trauma = fractures.length > 0 ? rng.bool(0.75) : rng.bool(0.15);
    const findings = {
      cardiomegaly: rng.bool(0.08),
      effusion: rng.bool(0.06) ? (rng.bool(0.5) ? 'left' : 'right') : null,
      degenerativeSpine: rng.bool(0.15),
    } as const;
    const extra = {
      atelectasis: rng.bool(0.06),
      acJointArthritis: rng.bool(0.03),
      granuloma: rng.bool(0.03),
    };

    const nImages = region ? 1 : rng.bool(o.multiImageRate) ? 2 : 1;
    const [procedureCode, procedureText] =
      nImages === 2 ? ['71046', 'XR CHEST 2 VIEWS'] : ['71045', 'XR CHEST 1 VIEW'];
    const firstAp = rng.bool(o.apFraction);
    const modality = rng.bool(0.5) ? 'DX' : 'CR';
    const studyUid = uid(this.seed, 1, index);
    const images: ImagePlan[] = [];
    for (let k = 0; k < nImages; k++) {
      images.push({
        sopInstanceUid: uid(this.seed, 3, index, k),
        seriesInstanceUid: uid(this.seed, 2, index, k),
        view: k === 0 ? (firstAp ? 'AP' : 'PA') : firstAp ? 'PA' : 'AP',
        modality,
        compressed: rng.bool(o.compressedFraction),
        renderKey: rng.nextUint32(),
      });
    }

    // What the final report says, per class.
    const ribFr = fractures.filter((f) => f.class === 'rib');
    const clavFr = fractures.filter((f) => f.class === 'clavicle');
    const decide = (present: boolean, allSubtle: boolean): LabelStatus => {
      if (present) {
        // Subtle fractures are missed more often; the mean stays near missRate (~1/3 are subtle).
        const miss = Math.min(1, o.missRate * (allSubtle ? 2 : 0.5));
        if (rng.bool(miss)) return 'negative';
        return rng.bool(o.hedgeRate) ? 'uncertain' : 'positive';
      }
      return rng.bool(o.falseHedgeRate) ? 'uncertain' : 'negative';
    };
    const finalState = {
      rib: decide(
        ribFr.length > 0,
        ribFr.every((f) => f.severity < 0.4),
      ),
      clavicle: decide(
        clavFr.length > 0,
        clavFr.every((f) => f.severity < 0.4),
      ),
      other:
        otherFindings.length > 0
          ? rng.bool(o.hedgeRate)
            ? 'uncertain'
            : 'positive'
          : ('negative' as LabelStatus),
    };
    const ribReported = ribFindingsFor(ribFr);
    const clavReported = clavFr.map((f): ClavicleFinding => ({
      side: f.side,
      acuity: f.acuity,
      displacement: displacementOf(f),
    }));
    const madeUpRib = (): RibFinding[] => [
      {
        side: rng.bool(0.5) ? 'left' : 'right',
        ribs: [rng.int(3, 9)],
        acuity: 'acute',
        displacement: 'nondisplaced',
      },
    ];
    const madeUpClav = (): ClavicleFinding[] => [
      { side: rng.bool(0.5) ? 'left' : 'right', acuity: 'acute', displacement: 'nondisplaced' },
    ];
    const indication = rng.pick(trauma ? INDICATIONS_TRAUMA : INDICATIONS_OTHER);
    const comparison = rng.bool(0.7)
      ? 'None.'
      : `Chest radiograph ${daDate(studyTime - rng.int(30, 900) * 86400000)}.`;
    const content = (st: { rib: LabelStatus; clavicle: LabelStatus; other: LabelStatus }): ReportContent => ({
      procedureText,
      indication,
      comparison,
      view: images[0]?.view ?? 'PA',
      rib: {
        state: st.rib,
        findings: st.rib === 'negative' ? [] : ribReported.length > 0 ? ribReported : madeUpRib(),
      },
      clavicle: {
        state: st.clavicle,
        findings: st.clavicle === 'negative' ? [] : clavReported.length > 0 ? clavReported : madeUpClav(),
      },
      other: { state: st.other, findings: st.other === 'negative' ? [] : otherFindings },
      cardiomegaly: findings.cardiomegaly,
      effusion: findings.effusion,
      degenerativeSpine: findings.degenerativeSpine,
      ...extra,
    });

    // Report versions: sometimes a preliminary, always a final, occasionally a correction
    // that changes a label.
    const reports: ReportVersion[] = [];
    const acc = this.accession(index);
    const version = (
      status: ReportStatus,
      time: number,
      st: typeof finalState,
      seq: number,
    ): ReportVersion => ({
      status,
      time,
      messageControlId: `${acc}-${status}${seq}`,
      content: content(st),
      intended: { ...st },
      textKey: rng.nextUint32(),
    });
    const corrected = rng.bool(o.correctionRate);
    let fState = finalState;
    if (corrected) {
      // The final said something else: a missed fracture that the correction adds, or an
      // over-call that the correction withdraws.
      if (finalState.rib !== 'negative') fState = { ...finalState, rib: 'negative' };
      else if (finalState.clavicle !== 'negative') fState = { ...finalState, clavicle: 'negative' };
      else fState = { ...finalState, rib: rng.bool(0.5) ? 'positive' : 'uncertain' };
    }
    let t = studyTime + rng.int(10, 60) * 60000;
    if (rng.bool(o.prelimRate)) {
      const pState =
        rng.bool(0.25) && fState.rib !== 'negative' ? { ...fState, rib: 'negative' as LabelStatus } : fState;
      reports.push(version('P', t, pState, 1));
      t += rng.int(2, 20) * 3600000;
    }
    reports.push(version('F', t, fState, 1));
    if (corrected) reports.push(version('C', t + rng.int(1, 10) * 86400000, finalState, 1));

    return {
      index,
      split,
      patient,
      accession: acc,
      placerOrder: `P${pad((index * 6151 + 31337) % 100000000, 8)}`,
      studyInstanceUid: studyUid,
      studyTime,
      procedureCode,
      procedureText,
      patientClass: trauma ? 'E' : rng.pick(['E', 'I', 'O'] as const),
      orderingProvider: rng.pick(PROVIDERS),
      interpreter: rng.pick(RADIOLOGISTS),
      fractures,
      findings,
      images,
      reports,
    };
  }
}

function drawKind(rng: Rng, acuity: Acuity): FractureKind {
  if (acuity !== 'acute') return 'callus';
  return rng.weighted([
    ['gap', 4],
    ['step', 2.5],
    ['line', 3.5],
  ] as const);
}

function drawAcuity(rng: Rng, acuteShare: number): Acuity {
  const r = rng.float();
  return r < acuteShare ? 'acute' : r < acuteShare + (1 - acuteShare) * 0.55 ? 'healing' : 'old';
}

/** A spread of conspicuity: about a third are subtle (severity < 0.4). */
function drawSeverity(rng: Rng): number {
  return Math.min(1, Math.max(0, rng.bool(0.33) ? rng.range(0, 0.4) : rng.range(0.4, 1)));
}

/** One event: 1-3 adjacent ribs on one side, same age. */
function drawRibFractures(rng: Rng): FractureSpec[] {
  const count = rng.weighted([
    [1, 6],
    [2, 2.5],
    [3, 1.5],
  ] as const);
  const side: Side = rng.bool(0.5) ? 'left' : 'right';
  const first = rng.weighted([
    [3, 1],
    [4, 2],
    [5, 3],
    [6, 3],
    [7, 3],
    [8, 2],
    [9, 1],
  ] as const);
  const acuity = drawAcuity(rng, 0.65);
  const along = rng.float();
  const out: FractureSpec[] = [];
  for (let k = 0; k < count; k++) {
    const severity = drawSeverity(rng);
    out.push({
      class: 'rib',
      side,
      rib: first + k,
      acuity,
      kind: drawKind(rng, acuity),
      along: Math.min(1, Math.max(0, along + rng.range(-0.12, 0.12))),
      severity,
    });
  }
  return out;
}

function drawClavicleFracture(rng: Rng): FractureSpec {
  const acuity = drawAcuity(rng, 0.75);
  return {
    class: 'clavicle',
    side: rng.bool(0.5) ? 'left' : 'right',
    acuity,
    kind: drawKind(rng, acuity),
    along: rng.float(),
    severity: drawSeverity(rng),
  };
}

function displacementOf(f: FractureSpec): Displacement {
  if (f.kind === 'line' || f.kind === 'callus') return 'nondisplaced';
  if (f.kind === 'step') return f.severity > 0.5 ? 'displaced' : 'minimally displaced';
  return f.severity > 0.7 ? 'displaced' : f.severity > 0.35 ? 'minimally displaced' : 'nondisplaced';
}

function ribFindingsFor(ribs: FractureSpec[]): RibFinding[] {
  if (ribs.length === 0) return [];
  const first = ribs[0] as FractureSpec;
  const worst = ribs.map(displacementOf).sort((a, b) => rank(b) - rank(a))[0] as Displacement;
  return [
    { side: first.side, ribs: ribs.map((f) => f.rib as number), acuity: first.acuity, displacement: worst },
  ];
}

function rank(d: Displacement): number {
  return d === 'displaced' ? 2 : d === 'minimally displaced' ? 1 : 0;
}
