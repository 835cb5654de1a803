import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decidePromotion, type PromotionRule } from '../../../services/shared/distill/index.ts';

const rule: PromotionRule = { classes: ['rib', 'clavicle'], margin: 0.01, minImprovement: 0 };
const m = (ribA: number | null, ribF: number | null, clA: number | null, clF: number | null) => ({
  images: 30,
  rib: { auroc: ribA, froc: ribF },
  clavicle: { auroc: clA, froc: clF },
});

describe('decidePromotion', () => {
  it('promotes a candidate better on one metric and not worse beyond the margin on the others', () => {
    const d = decidePromotion(m(0.91, 0.8, 0.7, 0.5), m(0.9, 0.805, 0.7, 0.5), rule);
    assert.equal(d.promote, true, d.reasons.join('; '));
    assert.equal(d.comparisons.length, 4);
    assert.ok(Math.abs(d.comparisons[0]!.delta! - 0.01) < 1e-12);
  });

  it('rejects a candidate worse than the margin on any class and metric, naming it', () => {
    const d = decidePromotion(m(0.99, 0.9, 0.7, 0.48), m(0.9, 0.8, 0.7, 0.5), rule);
    assert.equal(d.promote, false);
    assert.match(d.reasons.join('\n'), /clavicle froc: 0\.4800 is worse than the active 0\.5000/);
  });

  it('rejects a candidate that is merely equal', () => {
    const d = decidePromotion(m(0.9, 0.8, 0.7, 0.5), m(0.9, 0.8, 0.7, 0.5), rule);
    assert.equal(d.promote, false);
    assert.match(d.reasons[0]!, /no metric is better/);
  });

  it('requires improvements above minImprovement', () => {
    const strict = { ...rule, minImprovement: 0.02 };
    assert.equal(decidePromotion(m(0.91, 0.8, 0.7, 0.5), m(0.9, 0.8, 0.7, 0.5), strict).promote, false);
    assert.equal(decidePromotion(m(0.93, 0.8, 0.7, 0.5), m(0.9, 0.8, 0.7, 0.5), strict).promote, true);
  });

  it('skips metrics the active teacher has no value for, and rejects a candidate missing one the active has', () => {
    assert.equal(decidePromotion(m(0.95, 0.8, null, null), m(0.9, 0.8, null, null), rule).promote, true);
    const d = decidePromotion(m(0.95, 0.8, null, 0.5), m(0.9, 0.8, 0.7, 0.5), rule);
    assert.equal(d.promote, false);
    assert.match(d.reasons[0]!, /clavicle auroc: the candidate has no value/);
  });

  it('promotes the first model when there is no active teacher, if it has every gated metric', () => {
    assert.equal(decidePromotion(m(0.6, 0.1, 0.5, 0.0), null, rule).promote, true);
    assert.equal(decidePromotion(m(0.6, 0.1, null, 0.0), null, rule).promote, false);
  });

  it('gates only the configured classes', () => {
    const ribOnly = { ...rule, classes: ['rib'] };
    assert.equal(decidePromotion(m(0.95, 0.8, 0.1, 0.0), m(0.9, 0.8, 0.7, 0.5), ribOnly).promote, true);
  });
});
