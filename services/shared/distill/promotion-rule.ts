/**
 * The quality gate (issue 8): a candidate replaces the active teacher only if, on the same
 * held-out region-labelled set,
 *   1. no metric of any gated class is worse than the active teacher's by more than `margin`
 *      (metrics: AUROC and FROC score, per class), and
 *   2. at least one of them is better by more than `minImprovement`.
 * A metric the active teacher cannot be scored on (no positives: null) is skipped; one the
 * candidate cannot be scored on while the active can is a rejection. With no active teacher the
 * candidate is promoted when every gated metric has a value (the loop's first model).
 */

export const GATE_METRICS = ['auroc', 'froc'] as const;
export type GateMetric = (typeof GATE_METRICS)[number];

/** evaluate.py's result shape: per class {auroc, froc} (null when undefined), plus extras. */
export type ModelMetrics = Record<string, unknown>;

export interface PromotionRule {
  classes: string[];
  margin: number;
  minImprovement: number;
}

export interface MetricComparison {
  class: string;
  metric: GateMetric;
  candidate: number | null;
  active: number | null;
  delta: number | null;
}

export interface PromotionDecision {
  promote: boolean;
  reasons: string[];
  comparisons: MetricComparison[];
}

export function checkPromotionRule(rule: PromotionRule): void {
  if (rule.classes.length === 0) throw new RangeError('the promotion rule needs at least one class');
  if (!(rule.margin >= 0)) throw new RangeError('margin must be >= 0');
  if (!(rule.minImprovement >= 0)) throw new RangeError('minImprovement must be >= 0');
}

/** metrics[cls][metric] as a finite number, else null. */
export function metricValue(
  metrics: ModelMetrics | null | undefined,
  cls: string,
  metric: GateMetric,
): number | null {
  const perClass = metrics?.[cls];
  if (!perClass || typeof perClass !== 'object') return null;
  const v = (perClass as Record<string, unknown>)[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

export function decidePromotion(
  candidate: ModelMetrics,
  active: ModelMetrics | null,
  rule: PromotionRule,
): PromotionDecision {
  checkPromotionRule(rule);
  const comparisons: MetricComparison[] = [];
  for (const cls of rule.classes) {
    for (const metric of GATE_METRICS) {
      const c = metricValue(candidate, cls, metric);
      const a = active === null ? null : metricValue(active, cls, metric);
      comparisons.push({
        class: cls,
        metric,
        candidate: c,
        active: a,
        delta: c !== null && a !== null ? c - a : null,
      });
    }
  }
  if (active === null) {
    const missing = comparisons.filter((m) => m.candidate === null);
    if (missing.length > 0) {
      return {
        promote: false,
        reasons: missing.map((m) => `no active teacher and the candidate has no ${m.class} ${m.metric}`),
        comparisons,
      };
    }
    return { promote: true, reasons: ['no active teacher: the first model is promoted'], comparisons };
  }
  const reasons: string[] = [];
  let better = 0;
  for (const m of comparisons) {
    if (m.active === null) continue;
    if (m.candidate === null) {
      reasons.push(`${m.class} ${m.metric}: the candidate has no value (active ${fmt(m.active)})`);
      continue;
    }
    const delta = m.delta!;
    if (delta < -rule.margin) {
      reasons.push(
        `${m.class} ${m.metric}: ${fmt(m.candidate)} is worse than the active ${fmt(m.active)} by more than ${rule.margin}`,
      );
    } else if (delta > rule.minImprovement) {
      better++;
    }
  }
  const compared = comparisons.filter((m) => m.active !== null).length;
  if (compared === 0) reasons.push('no metric could be compared (the held-out set has no positives)');
  if (reasons.length > 0) return { promote: false, reasons, comparisons };
  if (better === 0) {
    return {
      promote: false,
      reasons: [`no metric is better than the active teacher's by more than ${rule.minImprovement}`],
      comparisons,
    };
  }
  return {
    promote: true,
    reasons: [`${better} of ${compared} metrics better, none worse by more than ${rule.margin}`],
    comparisons,
  };
}
