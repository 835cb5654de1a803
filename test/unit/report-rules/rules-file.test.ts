import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRulesFileContent } from '../../../services/shared/report-rules/compile.ts';
import {
  compileRules,
  defaultRules,
  labelReport,
  rulesFileSchema,
} from '../../../services/shared/report-rules/index.ts';

describe('the shipped fracture-rules.json', () => {
  it('is valid as it is: the schema adds no defaults, so compiling it unvalidated is the same', () => {
    // defaultRules() skips zod (start-up cost of the CLI's fast entry); this keeps that honest.
    assert.deepEqual(rulesFileSchema.parse(defaultRulesFileContent), defaultRulesFileContent);
  });
  it('labels the same compiled with or without validation', () => {
    const validated = compileRules(defaultRulesFileContent);
    const t = 'FINDINGS: Possible left 6th rib fracture.\nIMPRESSION: Healed right clavicle fracture.';
    assert.deepEqual(labelReport(t, validated), labelReport(t, defaultRules()));
  });
});
