import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requiredSubstrings } from '../../../services/shared/report-rules/anchors.ts';
import { defaultRules, labelReport } from '../../../services/shared/report-rules/index.ts';

describe('requiredSubstrings (the shortcut for reports without a finding term)', () => {
  it('keeps the shortest word that covers the others and one word per uncovered phrase', () => {
    assert.deepEqual(
      requiredSubstrings(['fracture', 'fractures', 'fx', "fx's", 'callus formation', 'callus']),
      ['fx', 'callus', 'fracture'],
    );
  });
  it('reads a literal run off a pattern, and gives up on one it cannot read safely', () => {
    assert.deepEqual(requiredSubstrings([{ pattern: '(?<!no\\s)post-?\\s?traumatic(?!\\s+or)' }]), [
      'traumatic',
    ]);
    assert.equal(requiredSubstrings([{ pattern: 'frac(?:ture)?|fx' }]), null);
    assert.equal(requiredSubstrings([{ pattern: '(?:fracture)?x' }]), null);
  });
  it('labels every challenge case exactly as without the shortcut', () => {
    const rules = defaultRules();
    const without = { ...rules, findingAnchors: null };
    const file = join(import.meta.dirname, '../../fixtures/report-rules/challenge.jsonl');
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const { id, text } = JSON.parse(line) as { id: string; text: string };
      assert.deepEqual(labelReport(text, rules), labelReport(text, without), id);
    }
  });
});
