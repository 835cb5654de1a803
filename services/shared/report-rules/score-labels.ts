import type { LabelStatus } from '../vocabulary.ts';
import type { ClassLabel, ReportLabels } from './label-report.ts';

/** A hand-labelled report: the gold labels for one text (challenge set, or any labelled set). */
export interface LabelledCase {
  id: string;
  text: string;
  rib: GoldClass;
  clavicle: GoldClass;
  other: { status: LabelStatus };
  note?: string;
  /** The challenge batch it was written in (absent: the first four). */
  batch?: string;
}

export interface GoldClass {
  status: LabelStatus;
  acuity: string | null;
  side: string | null;
  /** Rib numbers, where the text states them (optional). */
  ribs?: number[];
}

export interface Prf {
  precision: number;
  recall: number;
  f1: number;
  tp: number;
  fp: number;
  fn: number;
}

export interface ClassScore {
  positive: Prf;
  positiveOrUncertain: Prf;
  /** Share of cases where the predicted status equals the gold status. */
  statusAccuracy: number;
  /** Rows gold, columns predicted, in the order positive, uncertain, negative. */
  confusion: number[][];
  /** Where status agrees and is not negative: how many, and how many have the same acuity / side. */
  agreeing: number;
  acuityAgrees: number;
  sideAgrees: number;
}

export interface Mismatch {
  id: string;
  cls: 'rib' | 'clavicle' | 'other';
  gold: string;
  predicted: string;
}

export interface LabelScore {
  cases: number;
  rib: ClassScore;
  clavicle: ClassScore;
  other: ClassScore;
  /** Cases with gold rib numbers and a positive/uncertain rib status on both sides. */
  ribNumbersChecked: number;
  ribNumbersAgree: number;
  mismatches: Mismatch[];
}

const STATUSES: LabelStatus[] = ['positive', 'uncertain', 'negative'];
type Cls = 'rib' | 'clavicle' | 'other';

function prf(pairs: Array<[boolean, boolean]>): Prf {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const [p, g] of pairs) {
    if (p && g) tp++;
    else if (p) fp++;
    else if (g) fn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = tp + fn ? tp / (tp + fn) : 1;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, tp, fp, fn };
}

function describe(l: {
  status: LabelStatus;
  acuity?: string | null;
  side?: string | null;
  ribs?: number[];
}): string {
  if (l.status === 'negative') return 'negative';
  const ribs = l.ribs && l.ribs.length > 0 ? ` ribs ${l.ribs.join(',')}` : '';
  return l.acuity === undefined ? l.status : `${l.status}/${l.acuity ?? '-'}/${l.side ?? '-'}${ribs}`;
}

function sameNumbers(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Scores predicted labels against gold labels: per class P/R/F1, status accuracy, attributes. */
export function scoreLabels(results: Array<{ gold: LabelledCase; pred: ReportLabels }>): LabelScore {
  const mismatches: Mismatch[] = [];
  const classScore = (cls: Cls): ClassScore => {
    const status = (x: { status: LabelStatus }): LabelStatus => x.status;
    const confusion = STATUSES.map((g) =>
      STATUSES.map(
        (p) => results.filter((r) => status(r.gold[cls]) === g && r.pred[cls].status === p).length,
      ),
    );
    let agreeing = 0;
    let acuityAgrees = 0;
    let sideAgrees = 0;
    for (const r of results) {
      const g = r.gold[cls] as GoldClass | { status: LabelStatus };
      const p: ClassLabel = r.pred[cls];
      const attrs = cls !== 'other' && 'acuity' in g;
      const statusOk = p.status === g.status;
      let attrOk = true;
      if (statusOk && g.status !== 'negative' && attrs) {
        agreeing++;
        if (p.acuity === g.acuity) acuityAgrees++;
        if (p.side === g.side) sideAgrees++;
        attrOk = p.acuity === g.acuity && p.side === g.side;
      }
      if (!statusOk || !attrOk) {
        mismatches.push({
          id: r.gold.id,
          cls,
          gold: describe(g),
          predicted: describe(attrs ? p : { status: p.status }),
        });
      }
    }
    return {
      positive: prf(
        results.map((r) => [r.pred[cls].status === 'positive', r.gold[cls].status === 'positive']),
      ),
      positiveOrUncertain: prf(
        results.map((r) => [r.pred[cls].status !== 'negative', r.gold[cls].status !== 'negative']),
      ),
      statusAccuracy:
        results.filter((r) => r.pred[cls].status === r.gold[cls].status).length / results.length,
      confusion,
      agreeing,
      acuityAgrees,
      sideAgrees,
    };
  };
  const rib = classScore('rib');
  const clavicle = classScore('clavicle');
  const other = classScore('other');
  let ribNumbersChecked = 0;
  let ribNumbersAgree = 0;
  for (const r of results) {
    const g = r.gold.rib.ribs;
    if (!g || r.gold.rib.status === 'negative' || r.pred.rib.status === 'negative') continue;
    ribNumbersChecked++;
    if (sameNumbers(g, r.pred.rib.ribs)) ribNumbersAgree++;
  }
  mismatches.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { cases: results.length, rib, clavicle, other, ribNumbersChecked, ribNumbersAgree, mismatches };
}

/** Parses a JSONL file of labelled cases; errors name the line. */
export function parseLabelledCases(jsonl: string): LabelledCase[] {
  const out: LabelledCase[] = [];
  jsonl.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new Error(`line ${i + 1}: not JSON: ${(err as Error).message}`, { cause: err });
    }
    const c = v as LabelledCase;
    for (const cls of ['rib', 'clavicle', 'other'] as const) {
      if (!c[cls] || !STATUSES.includes(c[cls].status))
        throw new Error(`line ${i + 1}: ${cls}.status missing or invalid`);
    }
    if (typeof c.id !== 'string' || typeof c.text !== 'string')
      throw new Error(`line ${i + 1}: needs "id" and "text"`);
    out.push(c);
  });
  return out;
}
