import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelReport, type ClassLabel } from '../../../services/shared/report-rules/index.ts';

/**
 * Texts far longer than any report, with thousands of findings in one sentence: they once took
 * time quadratic in the findings (an hour for 1 MB). Speed is shown by
 * `npm run bench:rules:scaling`; these tests pin the labels, which must not depend on length.
 */
const summary = (l: ClassLabel) => ({
  status: l.status,
  acuity: l.acuity,
  side: l.side,
  ribs: l.ribs,
  evidence: l.evidence.length,
});

describe('labelReport: very long texts', () => {
  it('"fracture " x 20,000 in one sentence: other bone positive, one evidence sentence', () => {
    const r = labelReport('fracture '.repeat(20_000));
    assert.equal(r.rib.status, 'negative');
    assert.equal(r.clavicle.status, 'negative');
    assert.deepEqual(summary(r.other), {
      status: 'positive',
      acuity: 'unspecified',
      side: 'unspecified',
      ribs: [],
      evidence: 1,
    });
  });

  it('one 1 MB sentence of coordinated findings labels as three repetitions do', () => {
    const phrase = 'healed left 5th rib fracture and no acute fracture of the right clavicle, ';
    const big = labelReport(phrase.repeat(Math.ceil(1_000_000 / phrase.length)));
    const small = labelReport(phrase.repeat(3));
    assert.deepEqual(summary(big.rib), {
      status: 'positive',
      acuity: 'old',
      side: 'left',
      ribs: [5],
      evidence: 1,
    });
    assert.deepEqual(summary(big.clavicle), summary(small.clavicle));
    assert.deepEqual(summary(big.clavicle), {
      status: 'positive',
      acuity: 'old',
      side: 'right',
      ribs: [],
      evidence: 1,
    });
    assert.equal(big.other.status, 'negative');
  });

  it('a 1 MB text of mixed finding sentences: each class as in one block, evidence from every block', () => {
    const block =
      'FINDINGS: Old left 6th rib fracture. No acute clavicle fracture. Healing fracture of the right ' +
      'clavicle. Possible fracture of the T7 vertebral body.\nIMPRESSION: No pneumothorax, effusion, or ' +
      'rib fracture. Healed left 5th rib fracture.\n';
    const n = Math.ceil(1_000_000 / block.length);
    const r = labelReport(block.repeat(n));
    // The impression's unqualified "no ... rib fracture" replaces the findings' 6th rib (README:
    // the precedence rule); its own healed 5th rib decides.
    assert.deepEqual(summary(r.rib), {
      status: 'positive',
      acuity: 'old',
      side: 'left',
      ribs: [5],
      evidence: n,
    });
    assert.deepEqual(summary(r.clavicle), {
      status: 'positive',
      acuity: 'healing',
      side: 'right',
      ribs: [],
      evidence: n,
    });
    assert.deepEqual(summary(r.other), {
      status: 'uncertain',
      acuity: 'unspecified',
      side: 'unspecified',
      ribs: [],
      evidence: n,
    });
  });
});
