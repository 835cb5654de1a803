import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRulesFileContent } from '../../../services/shared/report-rules/compile.ts';
import {
  compileRules,
  labelReport,
  mergeRulesFiles,
  type CompiledRules,
} from '../../../services/shared/report-rules/index.ts';
import {
  lexiconEntryProblem,
  lexiconTriggerLists,
  type LexiconEntry,
} from '../../../services/shared/report-rules/lexicon.ts';

/** The shipped rules plus lexicon entries of made-up words, so only the entry can decide. */
function withLexicon(...entries: LexiconEntry[]): CompiledRules {
  return compileRules(
    mergeRulesFiles(structuredClone(defaultRulesFileContent), { version: '1.6.0+test', lexicon: entries }),
  );
}

const ribStatus = (text: string, rules?: CompiledRules) => labelReport(text, rules).rib.status;

describe('lexicon entries: class and direction decide the trigger lists', () => {
  it('forward feeds the pre-trigger list, backward the post-trigger list, bidirectional both', () => {
    const lists = lexiconTriggerLists([
      { class: 'negation', direction: 'forward', terms: ['a1'] },
      { class: 'negation', direction: 'backward', terms: ['a2'] },
      { class: 'hedge', direction: 'bidirectional', terms: ['a3'] },
      { class: 'historical', direction: 'forward', terms: ['a4'] },
      { class: 'hypothetical', direction: 'forward', terms: ['a5'] },
      { class: 'experiencer', direction: 'forward', terms: ['a6'] },
      { class: 'pseudo', terms: ['a7'] },
      { class: 'termination', terms: ['a8'] },
    ]);
    assert.deepEqual(lists, {
      negationPre: ['a1'],
      negationPost: ['a2'],
      hedgePre: ['a3'],
      hedgePost: ['a3'],
      history: ['a4'],
      notAsserted: ['a5', 'a6'],
      pseudo: ['a7'],
      terminators: ['a8'],
    });
  });
  it('rejects directions the engine does not read, and a missing direction where one is needed', () => {
    assert.match(lexiconEntryProblem({ class: 'negation' })!, /needs a direction/);
    assert.match(lexiconEntryProblem({ class: 'historical', direction: 'backward' })!, /only forward/);
    assert.match(lexiconEntryProblem({ class: 'pseudo', direction: 'forward' })!, /no direction/);
    assert.match(lexiconEntryProblem({ class: 'termination', direction: 'backward' })!, /no direction/);
    assert.equal(lexiconEntryProblem({ class: 'hedge', direction: 'backward' }), null);
  });
  it('a rules file with such an entry is refused with the path of the problem', () => {
    const bad = { lexicon: [{ class: 'hypothetical', direction: 'backward', terms: ['zorp'] }] };
    assert.throws(
      () => compileRules(mergeRulesFiles(structuredClone(defaultRulesFileContent), bad)),
      /invalid rules file: lexicon\.\d+\.direction: a hypothetical trigger is read only forward/,
    );
  });
});

describe('lexicon scope: what a made-up trigger does on each side of the finding', () => {
  const forward = withLexicon({ class: 'negation', direction: 'forward', terms: ['zilch'] });
  const backward = withLexicon({ class: 'negation', direction: 'backward', terms: ['zilch'] });
  const both = withLexicon({ class: 'hedge', direction: 'bidirectional', terms: ['zilch'] });
  it('a forward trigger scopes over the finding after it, not the one before it', () => {
    assert.equal(ribStatus('Zilch left 6th rib fracture.', forward), 'negative');
    assert.equal(ribStatus('Left 6th rib fracture zilch.', forward), 'positive');
  });
  it('a backward trigger scopes over the noun phrase before it, not a finding after it', () => {
    assert.equal(ribStatus('Left 6th rib fracture zilch.', backward), 'negative');
    assert.equal(ribStatus('Zilch left 6th rib fracture.', backward), 'positive');
  });
  it('a bidirectional trigger scopes both ways', () => {
    assert.equal(ribStatus('Zilch left 6th rib fracture.', both), 'uncertain');
    assert.equal(ribStatus('Left 6th rib fracture zilch.', both), 'uncertain');
  });
  it('without the entry the made-up word is nothing', () => {
    assert.equal(ribStatus('Zilch left 6th rib fracture.'), 'positive');
  });
  it('a termination term ends a forward scope before the finding', () => {
    const term = withLexicon({ class: 'termination', terms: ['zorp'] });
    assert.equal(ribStatus('No pneumothorax left 6th rib fracture.', term), 'negative');
    assert.equal(ribStatus('No pneumothorax zorp left 6th rib fracture.', term), 'positive');
  });
  it('a pseudo-trigger hides the trigger it contains', () => {
    const pseudo = withLexicon({ class: 'pseudo', terms: ['no zorp in'] });
    assert.equal(ribStatus('No zorp in the left 6th rib fracture.'), 'negative');
    assert.equal(ribStatus('No zorp in the left 6th rib fracture.', pseudo), 'positive');
  });
  it('an experiencer trigger asserts nothing about this patient', () => {
    const r = labelReport('Family history of osteoporotic rib fractures.');
    assert.deepEqual([r.rib.status, r.rib.cue], ['negative', 'conditional']);
  });
});

describe('the shipped lexicon (NegEx, ConText, the ACR hedging scale)', () => {
  it('NegEx pre-negation "fails to reveal" negates', () => {
    assert.equal(ribStatus('The study fails to reveal a left 6th rib fracture.'), 'negative');
  });
  it('"doubtful" negates on either side of the finding (the unlikely end of the scale)', () => {
    assert.equal(ribStatus('Left 6th rib fracture is doubtful.'), 'negative');
    assert.equal(ribStatus('Doubtful left 6th rib fracture.'), 'negative');
  });
  it('a copula and a hedge adjective hedge both ways', () => {
    assert.equal(ribStatus('Findings are equivocal for a left 6th rib fracture.'), 'uncertain');
    assert.equal(ribStatus('The left 6th rib fracture is equivocal.'), 'uncertain');
  });
  it('a copula with the unlikely end of the scale negates both ways (b14)', () => {
    assert.equal(ribStatus('Findings are unlikely to represent a left 6th rib fracture.'), 'negative');
    assert.equal(ribStatus('A left 6th rib fracture is unlikely.'), 'negative');
  });
  it('a modal of visibility negates: a statement about what the test can show (b14)', () => {
    assert.equal(
      ribStatus('A nondisplaced rib fracture may not be detectable radiographically.'),
      'negative',
    );
  });
  it('NegEx\'s post-negation "free" (for "pain free") is left out: "free fluid" negates nothing', () => {
    assert.equal(ribStatus('Left 6th rib fracture with free pleural fluid.'), 'positive');
  });
  it('a NegEx termination term ends the negation before an asserted fracture', () => {
    assert.equal(ribStatus('No pneumothorax because of the left 6th rib fracture.'), 'positive');
  });
});

describe('a local rules file removing a trigger term', () => {
  const without = (list: string, term: string) =>
    compileRules(
      mergeRulesFiles(structuredClone(defaultRulesFileContent), { remove: { [`triggers.${list}`]: [term] } }),
    );
  it('removes it from the lexicon entries that feed that list too', () => {
    assert.equal(
      ribStatus('Doubtful left 6th rib fracture.', without('negationPre', 'doubtful')),
      'positive',
    );
  });
  it('keeps the other side of a bidirectional entry', () => {
    const rules = without('negationPre', 'doubtful');
    assert.equal(ribStatus('Left 6th rib fracture is doubtful.', rules), 'negative');
    assert.equal(ribStatus('Left 6th rib fracture doubtful.', rules), 'negative');
  });
});

describe('comma scope (rules 1.6.1)', () => {
  it('a list elaborated after a comma stays in the negation ("including", "such as")', () => {
    assert.equal(
      ribStatus('Negative for acute osseous injury, including left 6th rib fractures.'),
      'negative',
    );
    assert.equal(ribStatus('No acute osseous abnormality, such as a displaced rib fracture.'), 'negative');
  });
  it('a fronted negated clause ends at its comma, even before a numbering joined by "and"', () => {
    assert.equal(
      ribStatus('Without pneumothorax, the right 5th and 6th rib fractures are again seen.'),
      'positive',
    );
    assert.equal(ribStatus('Without pneumothorax, the right rib fractures are again seen.'), 'positive');
  });
  it('the commas of a rib numbering end no scope', () => {
    assert.equal(ribStatus('Without radiographic evidence of 6th, 7th, and 9th rib fractures.'), 'negative');
    assert.equal(
      ribStatus('Cannot distinguish between overlapping shadows and 6th, 7th, and 9th rib fractures.'),
      'uncertain',
    );
  });
  it('a list joined by and/or after a comma still goes on', () => {
    assert.equal(ribStatus('No pneumothorax, effusion or rib fracture.'), 'negative');
    assert.equal(ribStatus('No pneumothorax, effusion, or left 5th and 6th rib fractures.'), 'negative');
  });
});

describe('negated visibility and list scope (rules 1.6.2, batch b16)', () => {
  it('a negation of visibility with an adverb of its means negates; one of degree hedges', () => {
    assert.equal(ribStatus('The left 6th rib fracture is not radiographically evident.'), 'negative');
    assert.equal(
      ribStatus('The rib fracture described on outside CT is not radiographically evident.'),
      'negative',
    );
    assert.equal(ribStatus('The known left rib fractures are not well seen on this exam.'), 'uncertain');
  });
  it('a finding before the last item of a list joined by and/or is in the list trigger scope', () => {
    assert.equal(ribStatus('No pneumothorax, rib fracture, or effusion.'), 'negative');
    assert.equal(
      ribStatus('No pneumothorax, left 6th rib fracture, effusion, or consolidation.'),
      'negative',
    );
    assert.equal(
      ribStatus(
        'Differential considerations include bone island, healing left 5th rib fracture or metastasis.',
      ),
      'uncertain',
    );
  });
  it('a finding with its own predicate after a fronted negated clause stays asserted', () => {
    assert.equal(ribStatus('No pneumothorax, left rib fractures are again seen.'), 'positive');
    assert.equal(
      ribStatus('Without pneumothorax, the left 5th rib fracture is seen and unchanged.'),
      'positive',
    );
    // An and/or that opens a new negated clause does not continue the list.
    assert.equal(ribStatus('No pneumothorax, healed left 5th rib fracture and no effusion.'), 'positive');
  });
});
