import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileRules,
  defaultRules,
  labelReport,
  mergeRulesFiles,
  ribNumbersAround,
} from '../../../services/shared/report-rules/index.ts';
import { defaultRulesFileContent } from '../../../services/shared/report-rules/compile.ts';

const rib = (t: string) => labelReport(t).rib;
const clav = (t: string) => labelReport(t).clavicle;
const other = (t: string) => labelReport(t).other;

describe('labelReport: the issue examples', () => {
  it('"No displaced rib fracture" is negative', () => {
    assert.equal(rib('No displaced rib fracture.').status, 'negative');
  });
  it('"healed left clavicle fracture" is positive/old/left', () => {
    const c = clav('Healed left clavicle fracture.');
    assert.deepEqual([c.status, c.acuity, c.side], ['positive', 'old', 'left']);
  });
  it('"cannot exclude a rib fracture" is uncertain', () => {
    assert.equal(rib('Cannot exclude a rib fracture.').status, 'uncertain');
  });
});

describe('labelReport: negation', () => {
  for (const s of [
    'No acute, displaced rib fractures.',
    'There is no pneumothorax, pleural effusion, or rib fracture.',
    'Negative for acute displaced rib fracture.',
    'No evidence of rib fracture.',
    'Ribs are intact without fracture.',
    'Rib fracture is not seen.',
    'No acute displaced clavicle or rib fractures.',
    'No definite rib fracture.',
  ]) {
    it(`negative: ${s}`, () => assert.equal(rib(s).status, 'negative'));
  }
  it('coordination carries the negation to both bones', () => {
    assert.equal(clav('No acute displaced clavicle or rib fractures.').status, 'negative');
  });
  it('a terminator ends the negation scope', () => {
    assert.equal(rib('No pneumothorax but there are old left rib fractures.').status, 'positive');
  });
  it('a comma between clauses ends a scope; one between modifiers does not', () => {
    assert.equal(
      rib(
        'Small densities not seen on the previous exam most suggestive of artifacts, healed right 10th rib fracture noted.',
      ).status,
      'positive',
    );
    assert.equal(rib('No acute, displaced rib fractures.').status, 'negative');
  });
  it('pseudo-triggers do not negate', () => {
    assert.equal(rib('No change in the healed left rib fractures.').status, 'positive');
  });
  it('a later positive mention wins over a negated one', () => {
    const r = rib('No acute rib fracture. Old right 7th rib fracture.');
    assert.deepEqual([r.status, r.acuity, r.side, r.ribs], ['positive', 'old', 'right', [7]]);
  });
});

describe('labelReport: hedging', () => {
  for (const s of [
    'Possible left rib fracture.',
    'Probable lateral right 8th rib fracture.',
    'Questionable nondisplaced fracture of the left 7th rib.',
    'Lucency through the right 12th rib, concerning for acute fracture.',
    'Density over the left 4th rib XXXX represents a healing rib fracture.',
    'Right rib fracture cannot be excluded.',
    'Rib deformity versus fracture.',
    'Age-indeterminate deformity of the right 8th rib, if findings localize to this region, suspect acute fracture.',
  ]) {
    it(`uncertain: ${s}`, () => assert.equal(rib(s).status, 'uncertain'));
  }
  it('an anaphoric sentence takes the bone of the sentence before', () => {
    const r = rib(
      'Nodular density overlying the right anterior 2nd rib. This could represent healing fracture.',
    );
    assert.deepEqual([r.status, r.acuity, r.side, r.ribs], ['uncertain', 'healing', 'right', [2]]);
  });
  it('"if there is concern for occult fracture, consider rib series" asserts nothing', () => {
    assert.equal(
      rib('If there is continued concern for occult fracture, consider dedicated rib series.').status,
      'negative',
    );
  });
});

describe('labelReport: deformity and injury without the word fracture', () => {
  it('a deformity attributed to old injury is uncertain/old', () => {
    const c = clav('Deformity of the right clavicle related to remote XXXX.');
    assert.deepEqual([c.status, c.acuity, c.side], ['uncertain', 'old', 'right']);
    assert.equal(rib('There are posttraumatic deformities of the right posterior ribs.').status, 'uncertain');
    assert.equal(clav('Chronic appearing right mid clavicle injury.').acuity, 'old');
  });
  it('a deformity with no injury wording is negative', () => {
    assert.equal(rib('Old right-sided rib deformities are noted.').status, 'negative');
    assert.equal(rib('Chronic right 5th rib contour deformity.').status, 'negative');
  });
  it('"fracture deformity" is a fracture', () => {
    assert.equal(other('Fracture deformity proximal right humerus.').status, 'positive');
  });
});

describe('labelReport: acuity', () => {
  const cases: Array<[string, string]> = [
    ['Acute left 5th rib fracture.', 'acute'],
    ['Deformity of the right 6th rib has appearance of acute or subacute fracture.', 'acute'],
    ['Subacute left rib fracture.', 'healing'],
    ['Left 9th rib fracture with callus.', 'healing'],
    ['Old healed left rib fractures.', 'old'],
    ['Chronic left 6th rib fracture.', 'old'],
    ['Remote right rib fractures.', 'old'],
    ['Age-indeterminate fracture of the right lateral 9th rib.', 'unspecified'],
  ];
  for (const [s, a] of cases) it(`${a}: ${s}`, () => assert.equal(rib(s).acuity, a));
  it('acuity and side are null when negative', () => {
    const r = rib('No left rib fracture.');
    assert.equal(r.acuity, null);
    assert.equal(r.side, null);
  });
});

describe('labelReport: side', () => {
  const cases: Array<[string, string]> = [
    ['Left-sided rib fractures.', 'left'],
    ['Right 6th rib fracture.', 'right'],
    ['Bilateral rib fractures.', 'bilateral'],
    ['Old left and right rib fractures.', 'bilateral'],
    ['Old rib fractures on the left.', 'left'],
    ['Healed rib fracture.', 'unspecified'],
  ];
  for (const [s, side] of cases) it(`${side}: ${s}`, () => assert.equal(rib(s).side, side));
  it('takes the side of the same-numbered rib elsewhere in the report', () => {
    const r = rib(
      'FINDINGS: Lucency crosses the 10th left posterior rib.\nIMPRESSION: Question of posterior 10 rib fracture.',
    );
    assert.deepEqual([r.status, r.side, r.ribs], ['uncertain', 'left', [10]]);
  });
});

describe('labelReport: rib numbers', () => {
  const cases: Array<[string, string, number[]]> = [
    ['left 6th rib', 'Healed left 6th rib fracture.', [6]],
    ['sixth', 'Healed left sixth rib fracture.', [6]],
    ['range', 'Old left 4th-6th rib fractures.', [4, 5, 6]],
    ['list after', 'Fractures of ribs 5 and 6 on the right.', [5, 6]],
    ['list before', 'Old healed left 5th and 6th rib fractures.', [5, 6]],
    ['through', 'Fractures of the right 3rd through 5th ribs.', [3, 4, 5]],
  ];
  for (const [name, s, ribs] of cases) it(name, () => assert.deepEqual(rib(s).ribs, ribs));
  it('ignores measurements and other numbers', () => {
    assert.deepEqual(ribNumbersAround('a 10 mm nodule near the', ''), []);
    assert.deepEqual(ribNumbersAround('the right', ' 7 mm from'), []);
  });
});

describe('labelReport: bones', () => {
  it('other bones are "other"', () => {
    assert.equal(other('Healing scapular fracture.').status, 'positive');
    assert.equal(other('Compression fracture of T12.').status, 'positive');
    assert.equal(rib('Healing scapular fracture.').status, 'negative');
  });
  it('broken sternotomy wires are hardware, not bone', () => {
    const l = labelReport(
      'Fracture of the superior sternotomy wire. The most caudal sternotomy wire is fractured.',
    );
    assert.deepEqual([l.rib.status, l.clavicle.status, l.other.status], ['negative', 'negative', 'negative']);
  });
  it('acromioclavicular separation is not a clavicle fracture', () => {
    assert.equal(clav('Acromioclavicular separation. Fracture of the right scapula.').status, 'negative');
  });
});

describe('labelReport: sections and evidence', () => {
  it('history and indication are not findings', () => {
    const t =
      'INDICATION: Rib fracture?\nHISTORY: Old left rib fractures.\nFINDINGS: Lungs are clear.\nIMPRESSION: Normal.';
    assert.equal(rib(t).status, 'negative');
  });
  it('findings and impression are', () => {
    const t = 'INDICATION: Fall.\nFINDINGS: Lungs are clear.\nIMPRESSION: Acute right 4th rib fracture.';
    assert.equal(rib(t).status, 'positive');
  });
  it('evidence spans are offsets into the given text', () => {
    const t = 'FINDINGS: Lungs are clear. Healed left clavicle fracture.\nIMPRESSION: No acute disease.';
    const [e] = clav(t).evidence;
    assert.ok(e);
    assert.equal(t.slice(e.start, e.end), e.text);
    assert.equal(e.text, 'Healed left clavicle fracture.');
  });
  it('every result carries the rule version', () => {
    assert.equal(labelReport('Normal chest.').ruleVersion, defaultRules().version);
  });
});

describe('rules file', () => {
  it('a local file merged on top adds an abbreviation ("frac")', () => {
    assert.equal(rib('Old left rib frac.').status, 'negative');
    const local = {
      version: '1.0.0+hospital-a.1',
      findings: [{ kind: 'fracture', terms: ['frac', 'fracs'] }],
    };
    const rules = compileRules(mergeRulesFiles(structuredClone(defaultRulesFileContent), local));
    const r = labelReport('Old left rib frac. No clavicle frac.', rules);
    assert.deepEqual(
      [r.rib.status, r.rib.acuity, r.rib.side, r.clavicle.status],
      ['positive', 'old', 'left', 'negative'],
    );
    assert.equal(r.ruleVersion, '1.0.0+hospital-a.1');
  });
  it('a local file can remove a base term', () => {
    const local = { remove: { 'triggers.hedgePre': ['likely'] } };
    const rules = compileRules(mergeRulesFiles(structuredClone(defaultRulesFileContent), local));
    assert.equal(labelReport('Likely left rib fracture.', rules).rib.status, 'positive');
  });
  it('rejects invalid files with the path of the problem', () => {
    assert.throws(() => compileRules({}), /invalid rules file: .*version/);
    const bad = structuredClone(defaultRulesFileContent) as { findings: Array<{ terms: unknown[] }> };
    bad.findings[0]!.terms.push({ pattern: '(unclosed' });
    assert.throws(() => compileRules(bad), /invalid pattern/);
    const bad2 = structuredClone(defaultRulesFileContent) as { findings: Array<{ requiresCue?: string }> };
    bad2.findings[0]!.requiresCue = 'nope';
    assert.throws(() => compileRules(bad2), /findings\.0\.requiresCue: no cue list "nope"/);
  });
});

describe('labelReport: rules 1.1 (generalisation from the challenge set)', () => {
  const rc = (t: string) => {
    const r = rib(t);
    return [r.status, r.acuity, r.side];
  };
  it('"fx" and common misspellings are fractures in the base rules', () => {
    assert.deepEqual(rc('Left 5th rib fx.'), ['positive', 'unspecified', 'left']);
    assert.equal(rib('Negative for acute displaced rib fx.').status, 'negative');
    assert.equal(rib('Old right 5th rib fractrue.').status, 'positive');
  });
  it('passive "cannot be entirely excluded" after the finding hedges it', () => {
    assert.equal(rib('Left rib fracture cannot be entirely excluded.').status, 'uncertain');
    assert.equal(rib('Right rib fracture could not be ruled out.').status, 'uncertain');
  });
  it('a negated noun followed by its verb ends the negation', () => {
    assert.equal(
      rib('No pneumothorax is seen adjacent to the known right rib fractures.').status,
      'positive',
    );
    assert.equal(rib('No displaced rib fractures are seen.').status, 'negative');
  });
  it('a limited evaluation or a reason to evaluate asserts nothing', () => {
    assert.equal(
      rib('Evaluation for rib fracture is limited. No displaced fracture identified.').status,
      'negative',
    );
  });
  it('"correlation for fracture" and "to exclude fracture" hedge a finding', () => {
    assert.equal(
      rib('Lucency of the left 7th rib; clinical correlation for fracture is recommended.').status,
      'uncertain',
    );
  });
  it('XXXX right before an acuity word hides a hedge, but not after "no"', () => {
    assert.equal(rib('Deformity of the right 6th rib, XXXX old fracture.').status, 'uncertain');
    assert.equal(rib('No XXXX acute rib fracture.').status, 'negative');
    assert.equal(rib('There is a XXXX fracture of the right 6th rib.').status, 'positive');
  });
  it('"posttraumatic" names an injury unless a surgical alternative is offered', () => {
    assert.equal(rib('Irregular contour of the left 4th rib may be posttraumatic.').status, 'uncertain');
    assert.equal(
      rib('Left rib contour irregularities may be posttraumatic or postsurgical.').status,
      'negative',
    );
  });
  it('an acuity word right after a negation does not count', () => {
    assert.deepEqual(rc('There is an old healed fracture of the left rib no acute findings'), [
      'positive',
      'old',
      'left',
    ]);
  });
  it('acuity in a short appositive after a comma counts ("fracture, likely acute")', () => {
    assert.deepEqual(rc('Right 6th rib fracture, likely acute.'), ['positive', 'acute', 'right']);
    assert.deepEqual(rc('Nondisplaced left 6th rib fracture, new since prior.'), [
      'positive',
      'acute',
      'left',
    ]);
    assert.deepEqual(rc('Right rib fractures are less conspicuous, consistent with healing.'), [
      'positive',
      'healing',
      'right',
    ]);
    // ... but not when the clause names another bone.
    assert.equal(rib('Right 6th rib fracture, acute left clavicle fracture.').acuity, 'unspecified');
  });
  it('a nonunion is old, not healing', () => {
    assert.equal(clav('Old right clavicle fracture with nonunion.').acuity, 'old');
  });
  it('rib numbers in a comma list stay inside the acuity and side windows', () => {
    assert.deepEqual(rc('Unchanged appearance of old left 3rd, 4th and 5th rib fractures.'), [
      'positive',
      'old',
      'left',
    ]);
  });
  it('"fracture of the X" attaches X; side windows stop at the neighbouring finding and bone', () => {
    const l = labelReport(
      'Healed fracture of the left 4th rib laterally and old fracture of the right clavicle.',
    );
    assert.deepEqual(
      [l.rib.status, l.rib.side, l.clavicle.status, l.clavicle.side],
      ['positive', 'left', 'positive', 'right'],
    );
    const m = labelReport('Right clavicle fracture and left rib fractures.');
    assert.deepEqual([m.rib.side, m.clavicle.side], ['left', 'right']);
  });
  it('"difficult to exclude" hedges; general statements about radiographs assert nothing', () => {
    assert.equal(
      rib('No acute fracture, although a subtle right 9th rib fracture is difficult to exclude.').status,
      'uncertain',
    );
    assert.equal(
      rib('Nondisplaced rib fractures may not be visible on frontal radiographs.').status,
      'negative',
    );
    assert.equal(
      rib('No rib fractures are seen; however, rib fractures are often occult on radiographs.').status,
      'negative',
    );
  });
  it('XXXX before "a healing fracture" hides a hedge', () => {
    assert.equal(rib('Opacity at the 7th rib. This is XXXX a healing fracture.').status, 'uncertain');
  });
  it('rib numbers may follow "ribs" after a comma', () => {
    assert.deepEqual(rib('Fractures of multiple right ribs, 4 through 8.').ribs, [4, 5, 6, 7, 8]);
    assert.deepEqual(ribNumbersAround('', ', 3 views'), []);
  });
  it('a list without a serial comma keeps the negation ("no effusion, pneumothorax or fracture")', () => {
    assert.equal(
      other('There is no evidence of pneumothorax, pleural effusion or displaced fracture.').status,
      'negative',
    );
    assert.equal(rib('No pneumothorax, left rib fractures.').status, 'positive');
  });
  it('"is likely" before the finding hedges it', () => {
    assert.equal(
      rib('Nodular opacity in the left midlung is likely a healing rib fracture.').status,
      'uncertain',
    );
  });
  it("coordinated bones keep their own sides, or share the phrase's", () => {
    const l = labelReport('Old healed left clavicle and right rib fractures.');
    assert.deepEqual([l.clavicle.side, l.rib.side], ['left', 'right']);
    const m = labelReport('Old healed left clavicle and rib fractures.');
    assert.deepEqual([m.clavicle.side, m.rib.side], ['left', 'left']);
    assert.equal(rib('Old fractures of the right 5th through 8th ribs and left 6th rib.').side, 'bilateral');
  });
  it("acuity from the predicate of the finding's clause", () => {
    assert.equal(
      rib('Fracture of the right 9th rib is again visualized and appears to be healing.').acuity,
      'healing',
    );
    assert.equal(
      rib('Fractures of the left 9th through 11th ribs, new from the prior exam.').acuity,
      'acute',
    );
  });
  it('"midclavicular" is the clavicle', () => {
    assert.deepEqual(
      [
        clav('Displaced right midclavicular fracture.').status,
        other('Displaced right midclavicular fracture.').status,
      ],
      ['positive', 'negative'],
    );
  });
});

describe('labelReport: hedges in every grammatical form (challenge batch 5)', () => {
  for (const [s, want] of [
    ['A subtle lucency through the left 6th rib is favored to represent a fracture.', 'uncertain'],
    [
      'Cortical irregularity of the right 5th rib. This is favored to represent a healing fracture.',
      'uncertain',
    ],
    ['There are questionably displaced left 7th and 8th rib fractures.', 'uncertain'],
    ['Presumptive healed left rib fractures.', 'uncertain'],
    ['The previously described left 6th rib fracture is not well seen on this examination.', 'uncertain'],
    ['Left 6th rib fracture is poorly visualized.', 'uncertain'],
    ['Focal angulation of the ribs is compatible with but not diagnostic of a fracture.', 'uncertain'],
    ['Acute right 6th rib fracture is less likely but possible.', 'uncertain'],
    ['Differential considerations include a healing left rib fracture.', 'uncertain'],
    ['Left 6th rib fracture is not seen.', 'negative'],
  ] as const) {
    it(`${want}: ${s}`, () => assert.equal(rib(s).status, want));
  }
  it('a post-trigger is read after the whole noun phrase, list commas included', () => {
    assert.equal(
      rib('Fractures of the anterolateral 2nd, 3rd, and 4th ribs on the right are not identified.').status,
      'negative',
    );
    assert.equal(
      rib('Displaced fractures of the right 4th and 5th ribs cannot be excluded.').status,
      'uncertain',
    );
  });
  it('"apparent" and XXXX hedge only when they start the noun phrase', () => {
    assert.equal(clav('Apparent displaced right clavicular fracture.').status, 'uncertain');
    assert.equal(rib('XXXX left lateral 5th, 6th, and 7th rib fractures.').status, 'uncertain');
    assert.equal(rib('There is XXXX a healing fracture of the right 7th rib.').status, 'uncertain');
    assert.equal(rib('There is a XXXX fracture of the right 6th rib.').status, 'positive');
    assert.equal(rib('Old XXXX right rib fractures.').status, 'positive');
    assert.equal(clav('XXXX the right clavicle fracture is healing.').status, 'positive');
    assert.equal(rib('Apparent healing of the left 6th rib fracture.').status, 'positive');
    assert.equal(rib('Compared to XXXX, stable left 6th rib fracture.').status, 'positive');
  });
  it('a hedge right after a negation is negated with it', () => {
    assert.equal(rib('No apparent rib fracture.').status, 'negative');
    assert.equal(rib('No XXXX left rib fracture.').status, 'negative');
  });
  it('rib numbers do not use up the acuity window', () => {
    const r = rib('There are questionably chronic mildly displaced left anterior 5th and 6th rib fractures.');
    assert.deepEqual([r.status, r.acuity], ['uncertain', 'old']);
    assert.equal(
      rib('Known partially healed displaced posterolateral 6th and 7th rib fractures.').acuity,
      'healing',
    );
  });
});

describe('labelReport: hardware and anaphora (challenge batch 6)', () => {
  for (const s of [
    'Fracture of the left rib plating hardware.',
    'Fractured right rib fixation plate.',
    'Two fractured screws within the left clavicle plate.',
    'Fracture of the spinal fusion rod at T9.',
    'Fracture of the 4th sternal wire.',
    'Fractured IVC filter strut.',
  ]) {
    it(`a bone name modifying a device names the device: ${s}`, () => {
      const l = labelReport(s);
      assert.deepEqual(
        [l.rib.status, l.clavicle.status, l.other.status],
        ['negative', 'negative', 'negative'],
      );
    });
  }
  it('a definite mention without a side takes the side of the same bone in the sentence before', () => {
    const c = clav('Broken right clavicular hardware. The underlying clavicle fracture is healed.');
    assert.deepEqual([c.status, c.acuity, c.side], ['positive', 'old', 'right']);
    // Only the same bone counts: a side given to something else is not taken.
    assert.equal(clav('Small left pleural effusion. The clavicle fracture is healed.').side, 'unspecified');
  });
});

describe('labelReport: the section precedence rule (challenge batch 7)', () => {
  const status = (t: string) => rib(t).status;
  it('the impression hedging the finding makes it uncertain; asserting a hedged one, positive', () => {
    assert.equal(
      status('FINDINGS: Left 6th rib fracture.\nIMPRESSION: Possible left rib fracture.'),
      'uncertain',
    );
    assert.equal(
      status('FINDINGS: Possible left 6th rib fracture.\nIMPRESSION: Left 6th rib fracture.'),
      'positive',
    );
  });
  it('an unqualified negation in the impression replaces the finding; "no acute fracture" does not', () => {
    assert.equal(
      status('FINDINGS: Possible left 6th rib fracture.\nIMPRESSION: No rib fracture.'),
      'negative',
    );
    assert.equal(
      status('FINDINGS: Old left 6th rib fracture.\nIMPRESSION: No acute rib fracture.'),
      'positive',
    );
  });
  it('another finding in the impression, or another side, replaces nothing', () => {
    const r = rib(
      'FINDINGS: Right 6th rib fracture.\nIMPRESSION: Possible additional left 8th rib fracture.',
    );
    assert.deepEqual([r.status, r.side, r.ribs], ['positive', 'right', [6]]);
  });
  it('an addendum outranks the impression', () => {
    assert.equal(
      status(
        'FINDINGS: No rib fracture.\nIMPRESSION: No acute disease.\nADDENDUM: On review there is a left 7th rib fracture.',
      ),
      'positive',
    );
    assert.equal(
      status('FINDINGS: Left 7th rib fracture.\nADDENDUM: Dedicated views show no left rib fracture.'),
      'negative',
    );
  });
  it('a fracture only in the comparison or indication is not read', () => {
    assert.equal(
      status('COMPARISON: CT showing left rib fractures.\nFINDINGS: Lungs are clear.'),
      'negative',
    );
  });
  it('prior-study sentences: "not seen on the prior study" is not a negation, "prior" not an acuity', () => {
    const r = rib('FINDINGS: Left 7th rib fracture, not seen on the prior examination.');
    assert.deepEqual([r.status, r.acuity], ['positive', 'unspecified']);
    assert.equal(
      status(
        'FINDINGS: The fractures of the left 8th and 9th ribs on the left seen on the prior study are no longer visualized.',
      ),
      'negative',
    );
  });
  it('conditionals and screening recommendations assert nothing; one about a described finding hedges it', () => {
    assert.equal(
      status('Dedicated rib series is recommended if rib fracture is clinically suspected.'),
      'negative',
    );
    assert.equal(
      status('Should there be concern for rib fracture, rib views could be obtained.'),
      'negative',
    );
    assert.equal(
      status('Recommend dedicated rib views if clinically indicated to exclude rib fracture.'),
      'negative',
    );
    assert.equal(
      status(
        'Focal lucency in the left 7th rib. Recommend correlation for point tenderness to exclude fracture.',
      ),
      'uncertain',
    );
    assert.equal(
      status(
        'Subtle lucency of the left 7th rib; if there is point tenderness, this would be suspicious for a fracture.',
      ),
      'uncertain',
    );
  });
});

describe('labelReport: cues and reasons in the output', () => {
  it('each mention carries its status, cue, trigger, section and whether it decided', () => {
    const t =
      'INDICATION: Rule out rib fracture.\nFINDINGS: Left 6th rib fracture.\nIMPRESSION: Left 6th rib fracture cannot be excluded.';
    const r = rib(t);
    assert.equal(r.status, 'uncertain');
    assert.equal(r.cue, 'hedge');
    assert.deepEqual(
      r.reasons.map((x) => [x.section, x.status, x.cue, x.trigger?.text ?? null, x.decided]),
      [
        ['indication', 'negative', 'history', null, false],
        ['findings', 'positive', null, null, false],
        ['impression', 'uncertain', 'hedge', 'cannot be excluded', true],
      ],
    );
    for (const x of r.reasons) assert.equal(t.slice(x.finding.start, x.finding.end), x.finding.text);
  });
  it('negation, history, hardware and conditional cues', () => {
    assert.equal(rib('No rib fracture.').cue, 'negation');
    assert.equal(rib('History of left rib fractures.').cue, 'history');
    assert.equal(rib('Post-traumatic deformity of the left 5th rib.').cue, 'history');
    const hw = clav('Fractured screw of the left clavicle plate.');
    assert.deepEqual([hw.status, hw.cue, hw.reasons[0]?.trigger?.text], ['negative', 'hardware', 'screw']);
    assert.equal(rib('If there is concern for rib fracture, rib views are recommended.').cue, 'conditional');
    assert.equal(rib('Healed left 5th rib fracture.').cue, null);
    assert.deepEqual(rib('Lungs are clear.').reasons, []);
  });
});

describe('labelReport: abbreviations, ranges and negation scope (challenge batch 8)', () => {
  it('"L clavicle fx" gets its side; L./R./lt/rt/B/bilat are sides before what they qualify', () => {
    assert.deepEqual([clav('L clavicle fx').status, clav('L clavicle fx').side], ['positive', 'left']);
    assert.equal(rib('Acute R. 4th rib fx.').side, 'right');
    assert.equal(rib('Healed lt post. 7th rib fx.').side, 'left');
    assert.equal(rib('B/L rib fxs.').side, 'bilateral');
    assert.equal(rib('Bilat. rib fractures.').side, 'bilateral');
    assert.equal(other('L1 compression fracture.').status, 'positive');
  });
  it('an abbreviation period does not end the sentence; "fx." before a capital does', () => {
    const r = rib('Subacute L. ant. 8th rib fx.');
    assert.deepEqual([r.status, r.acuity, r.side, r.ribs], ['positive', 'healing', 'left', [8]]);
    assert.deepEqual(
      [clav('Fx. of the Lt. clavicle.').status, clav('Fx. of the Lt. clavicle.').side],
      ['positive', 'left'],
    );
    assert.equal(rib('Possible L. 3rd rib fx.').status, 'uncertain');
    assert.equal(clav('Left rib fx. Clavicle fracture.').status, 'positive');
  });
  it('ranges: ribs 3-5, 4-6th, left ribs 4 through 6', () => {
    assert.deepEqual(rib('Fractures of left ribs 4 through 6.').ribs, [4, 5, 6]);
    assert.deepEqual(rib('Healed left posterolat. 6-9 rib fractures.').ribs, [6, 7, 8, 9]);
    assert.deepEqual(rib('R 3rd-5th rib fxs.').ribs, [3, 4, 5]);
  });
  it('a negation stops at "associated with", "related to", "adjacent to"; "no displacement" is not one', () => {
    assert.equal(rib('No pneumothorax associated with the left 6th rib fracture.').status, 'positive');
    assert.equal(
      clav('No subcutaneous emphysema related to the healed left clavicle fracture.').status,
      'positive',
    );
    assert.equal(rib('No displacement of the known right 7th rib fracture.').status, 'positive');
    assert.equal(rib('Neg for rib fx.').status, 'negative');
    assert.equal(rib('No pneumothorax, effusion, or rib fracture.').status, 'negative');
  });
});

describe('labelReport: hedges of challenge batch 9', () => {
  for (const s of [
    'Right 9th and 10th rib fractures are a possibility.',
    'There is a suggestion of a left 6th rib fracture.',
    'Appearance is indeterminate for a healing left 7th rib fracture.',
  ]) {
    it(`uncertain: ${s}`, () => assert.equal(rib(s).status, 'uncertain'));
  }
});

describe('labelReport: modal existence, negated confirmation, negated hedges, scope ends (challenge batch 10)', () => {
  for (const s of [
    'A left 6th rib fracture might be present.',
    'Healing rib fractures could also be present on the left.',
    'A right 4th rib fracture may be seen on the lateral view.',
    'Right 8th rib fracture could not be confirmed.',
  ]) {
    it(`uncertain: ${s}`, () => assert.equal(rib(s).status, 'uncertain'));
  }
  for (const s of [
    'No features to suggest a rib fracture.',
    'Nothing to indicate an acute rib fracture.',
    'No radiographic findings suspicious for rib fracture.',
  ]) {
    it(`negative: ${s}`, () => assert.equal(rib(s).status, 'negative'));
  }
  it('a negation stops at "in the setting of" / "in the presence of"; "is present" asserts', () => {
    assert.equal(rib('No effusion in the setting of healing left rib fractures.').status, 'positive');
    assert.equal(
      clav('No pneumothorax in the presence of a displaced left clavicle fracture.').status,
      'positive',
    );
    assert.equal(rib('A left 6th rib fracture is present.').status, 'positive');
  });
});

describe('labelReport: hedges, negations, scope ends and headers of challenge batch 11', () => {
  for (const s of [
    'A left 7th rib fracture is raised as a possibility.',
    'Healing right rib fractures cannot be completely dismissed.',
    'A right 5th rib fracture is included in the differential diagnosis.',
    'Left 8th rib fracture is of some concern.',
    'Possibly, there is a nondisplaced left 4th rib fracture.',
    'It is unclear whether there is a left 6th rib fracture.',
    'The lucency may be explained by a healing right rib fracture.',
    'Appearance favors a nondisplaced left 5th rib fracture.',
    'Presumptive left 9th rib fracture.',
    'Suspicious but not diagnostic for a left 6th rib fracture.',
  ]) {
    it(`uncertain: ${s}`, () => assert.equal(rib(s).status, 'uncertain'));
  }
  for (const s of [
    'The left 6th rib fracture is no longer apparent.',
    'Chest radiographs are insensitive for rib fractures.',
    'Oblique views may help to exclude a rib fracture.',
  ]) {
    it(`negative: ${s}`, () => assert.equal(rib(s).status, 'negative'));
  }
  for (const s of [
    'No complications of the healing left 6th rib fracture.',
    'No pneumothorax despite multiple left rib fractures.',
    'No effusion accompanying the left 7th rib fracture.',
    'No other fracture is seen besides the right 5th rib fracture.',
  ]) {
    it(`positive: ${s}`, () => assert.equal(rib(s).status, 'positive'));
  }
  it('HX and CLINICAL QUESTION are history: never read', () => {
    assert.equal(rib('HX: Left rib fracture.\nFINDINGS: Lungs are clear.').status, 'negative');
    assert.equal(clav('CLINICAL QUESTION: Clavicle fx?\nFINDINGS: Lungs are clear.').status, 'negative');
  });
});

describe('labelReport: hedges, negations and scope ends of challenge batch 12', () => {
  for (const s of [
    'Potential nondisplaced left 6th rib fracture.',
    'A healing left 7th rib fracture is potentially present.',
    'Left 8th rib fracture is a differential consideration.',
    'Unable to differentiate between vascular markings and a left 6th rib fracture.',
    'Costochondral calcification is favored over a right 5th rib fracture.',
    'Compatible with, but not diagnostic of, a left 9th rib fracture.',
    'A left 4th rib fracture is difficult to confirm.',
    'The left 6th rib fracture is not certain but is likely.',
  ]) {
    it(`uncertain: ${s}`, () => assert.equal(rib(s).status, 'uncertain'));
  }
  for (const s of [
    'A right 7th rib fracture is not shown.',
    'Negative study for rib fracture.',
    'Rib fractures, if any, may not be seen on a frontal view.',
    'Nondisplaced rib fractures can be radiographically occult.',
  ]) {
    it(`negative: ${s}`, () => assert.equal(rib(s).status, 'negative'));
  }
  for (const s of [
    'No hematoma overlying the healed left 6th rib fracture.',
    'No pneumothorax at the site of the left 5th rib fracture.',
  ]) {
    it(`positive: ${s}`, () => assert.equal(rib(s).status, 'positive'));
  }
  it('"underlying" before a finding is still negated ("no underlying rib fracture")', () => {
    assert.equal(rib('No underlying rib fracture.').status, 'negative');
  });
});

describe('labelReport: hardware, examinations, future studies and conditionals of batch b16 (rules 1.6.2)', () => {
  it("a fracture a device is placed across is the fixed bone's, not the device's", () => {
    const c = clav('FINDINGS: Right clavicle ORIF with plate and screws across a healed midshaft fracture.');
    assert.deepEqual([c.status, c.acuity, c.side], ['positive', 'old', 'right']);
    const r = rib('Left rib plating spanning healing 5th and 6th rib fractures.');
    assert.deepEqual([r.status, r.acuity, r.side], ['positive', 'healing', 'left']);
  });
  it('a fractured device stays hardware, also next to a fixation relation', () => {
    assert.equal(clav('Fractured screw of the right clavicle plate.').cue, 'hardware');
    assert.equal(
      clav('Right clavicle plate. The most lateral screw across the bone is fractured.').status,
      'negative',
    );
    // No bone named: the device's fracture is not given to any bone.
    assert.equal(other('Screws across the fracture site are fractured.').status, 'negative');
  });
  it("an elliptic fracture after a device named after a bone is that bone's", () => {
    const l = labelReport(
      'FINDINGS: Left clavicle plate with lucency around the lateral screws. The fracture line remains visible with some callus.',
    );
    assert.deepEqual(
      [l.clavicle.status, l.clavicle.acuity, l.clavicle.side],
      ['positive', 'healing', 'left'],
    );
    assert.equal(l.other.status, 'negative');
  });
  it('what an examination of a bone shows is about that bone: an addendum retracts by it', () => {
    const c = clav(
      'FINDINGS: Possible fracture of the right clavicle.\nIMPRESSION: Possible right clavicle fracture.\nADDENDUM: Dedicated clavicle radiographs obtained the same day show no fracture.',
    );
    assert.deepEqual([c.status, c.cue], ['negative', 'negation']);
    assert.equal(rib('IMPRESSION: Rib series shows a nondisplaced fracture.').status, 'positive');
  });
  it('a recommended examination of a bone still asserts nothing and replaces nothing (precedence rule 6)', () => {
    assert.equal(
      clav('Dedicated clavicle views are recommended if there is clinical concern for fracture.').status,
      'negative',
    );
    const c = clav(
      'FINDINGS: Possible left clavicle fracture.\nIMPRESSION: If clinical concern for clavicle fracture persists, dedicated clavicle views are recommended.',
    );
    assert.deepEqual([c.status, c.side], ['uncertain', 'left']);
  });
  it('what a future study may show is hypothetical', () => {
    const l = labelReport(
      'FINDINGS: Subtle irregular contour of the right 5th rib. Follow-up films in 10-14 days may show callus.\nIMPRESSION: Possible right 5th rib fracture.',
    );
    assert.deepEqual([l.rib.status, l.other.status], ['uncertain', 'negative']);
    const c = labelReport('Repeat radiographs may show callus at the left 6th rib.').rib;
    assert.deepEqual([c.status, c.cue], ['negative', 'conditional']);
    assert.equal(rib('Follow-up radiographs show callus at the left 6th rib fracture.').status, 'positive');
  });
  it('ages offered as alternatives give no acuity; one age phrase still does', () => {
    const r = rib('IMPRESSION: Right 6th rib irregularity, which could represent an acute or old fracture.');
    assert.deepEqual([r.status, r.acuity], ['uncertain', 'unspecified']);
    assert.equal(
      rib('Fracture of the right 10th rib which may be subacute or chronic.').acuity,
      'unspecified',
    );
    assert.equal(rib('Left 6th rib fracture, acute or subacute.').acuity, 'acute');
    assert.equal(rib('Acute left 6th and old right 8th rib fractures.').acuity, 'acute');
  });
});
