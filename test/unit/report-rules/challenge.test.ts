import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { labelReport } from '../../../services/shared/report-rules/index.ts';
import { parseLabelledCases, scoreLabels } from '../../../services/shared/report-rules/score-labels.ts';

// Hand-labelled snippets (Open-i labelling rules) written apart from the dev reports; the floors
// sit a little under what the rules score now, so a regression in any class fails here.
const cases = parseLabelledCases(
  readFileSync(join(import.meta.dirname, '../../fixtures/report-rules/challenge.jsonl'), 'utf8'),
);
const score = scoreLabels(cases.map((gold) => ({ gold, pred: labelReport(gold.text) })));
const failures = (cls: string): string =>
  score.mismatches
    .filter((m) => m.cls === cls)
    .map((m) => `${m.id}: gold ${m.gold}, predicted ${m.predicted}`)
    .join('\n');

describe('challenge set (test/fixtures/report-rules/challenge.jsonl)', () => {
  it('has enough cases of every status to mean something', () => {
    assert.ok(cases.length >= 150, `${cases.length} cases`);
    for (const s of ['positive', 'uncertain', 'negative'] as const) {
      assert.ok(cases.filter((c) => c.rib.status === s).length >= 20, `rib ${s}`);
      assert.ok(cases.filter((c) => c.clavicle.status === s).length >= 8, `clavicle ${s}`);
    }
  });
  it('rib: positive F1 >= 0.97, positive-or-uncertain F1 >= 0.97, status accuracy >= 0.97', () => {
    assert.ok(score.rib.positive.f1 >= 0.97, failures('rib'));
    assert.ok(score.rib.positiveOrUncertain.f1 >= 0.97, failures('rib'));
    assert.ok(score.rib.statusAccuracy >= 0.97, failures('rib'));
  });
  it('clavicle: positive F1 >= 0.95, positive-or-uncertain F1 >= 0.95, status accuracy >= 0.97', () => {
    assert.ok(score.clavicle.positive.f1 >= 0.95, failures('clavicle'));
    assert.ok(score.clavicle.positiveOrUncertain.f1 >= 0.95, failures('clavicle'));
    assert.ok(score.clavicle.statusAccuracy >= 0.97, failures('clavicle'));
  });
  it('other bone: status accuracy >= 0.97', () => {
    assert.ok(score.other.statusAccuracy >= 0.97, failures('other'));
  });
  it('acuity and side agree in >= 95% of the rib and clavicle cases whose status agrees', () => {
    for (const cls of ['rib', 'clavicle'] as const) {
      const s = score[cls];
      assert.ok(s.acuityAgrees >= 0.95 * s.agreeing, failures(cls));
      assert.ok(s.sideAgrees >= 0.95 * s.agreeing, failures(cls));
    }
  });
  it('rib numbers agree in >= 95% of the cases that state them', () => {
    assert.ok(score.ribNumbersAgree >= 0.95 * score.ribNumbersChecked);
  });
});

describe('scoreLabels', () => {
  it('counts a positive predicted as uncertain as a miss for positive and a hit for any finding', () => {
    const gold = cases.find((c) => c.rib.status === 'positive')!;
    const s = scoreLabels([
      {
        gold: { ...gold, text: 'Possible left rib fracture.' },
        pred: labelReport('Possible left rib fracture.'),
      },
    ]);
    assert.deepEqual([s.rib.positive.fn, s.rib.positiveOrUncertain.tp], [1, 1]);
    assert.equal(s.mismatches[0]!.cls, 'rib');
  });
  it('rejects a malformed line with its number', () => {
    assert.throws(() => parseLabelledCases('{"id":"a","text":"x"}\n'), /line 1: rib\.status/);
    assert.throws(() => parseLabelledCases('\n{oops'), /line 2: not JSON/);
  });
});
