import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { outputLine } from '../../../services/cli/commands/label-output.ts';
import { labelReport } from '../../../services/shared/report-rules/index.ts';

describe('label-reports output lines', () => {
  it('are exactly JSON.stringify of {id, rib, clavicle, other, ruleVersion}, for every challenge case', () => {
    const file = join(import.meta.dirname, '../../fixtures/report-rules/challenge.jsonl');
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const { id, text } = JSON.parse(line) as { id: string; text: string };
      const l = labelReport(`${text}\n"quoted" \\ tab\t`, undefined);
      assert.equal(outputLine(`${id}"\\`, l), JSON.stringify({ id: `${id}"\\`, ...l }), id);
    }
  });
});
