import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ExpectedError, FailureError, HarvesterError } from '../../services/shared/errors.ts';
import { ConfigError } from '../../services/shared/config/config-error.ts';
import { RulesError } from '../../services/shared/report-rules/compile.ts';

const root = join(import.meta.dirname, '..', '..');
const BASE = 'services/shared/errors.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the one error base', () => {
  it('is what every error class in services/ and tools/ extends (no class extends Error itself)', () => {
    const offenders = ['services', 'tools']
      .flatMap((dir) => sourceFiles(join(root, dir)))
      .filter((file) => relative(root, file) !== BASE)
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .flatMap((line, i) =>
            /\bextends\s+Error\b/.test(line) ? [`${relative(root, file)}:${i + 1}: ${line.trim()}`] : [],
          ),
      );
    assert.deepEqual(offenders, [], 'extend HarvesterError (services/shared/errors.ts) instead');
  });

  it('says "expected" in one way: a field the CLI reads to print one line without a stack', () => {
    const input = new RulesError('rule 3: no pattern');
    assert.ok(input instanceof HarvesterError && input instanceof ExpectedError);
    assert.equal(input.expected, true);
    assert.equal(input.retriable, false);
    assert.equal(input.name, 'RulesError');
    assert.equal(input.message, 'rule 3: no pattern');

    const fault = new FailureError('broken', { cause: new Error('underneath') });
    assert.equal(fault.expected, false);
    assert.equal((fault.cause as Error).message, 'underneath');
    assert.equal(new ConfigError('set DATABASE_URL').expected, false);
  });
});
