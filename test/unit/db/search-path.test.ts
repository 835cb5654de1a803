import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSearchPath } from '../../../services/shared/db/migrate.ts';

describe('the schema migrations go to by default', () => {
  it('is read from the search_path as Postgres writes it: unquoted names fold to lower case', () => {
    assert.deepEqual(parseSearchPath('"$user", public'), ['$user', 'public']);
    assert.deepEqual(parseSearchPath('Fresh_1_AB,public'), ['fresh_1_ab', 'public']);
    assert.deepEqual(parseSearchPath('"My ""S""", x'), ['My "S"', 'x']);
    assert.deepEqual(parseSearchPath(''), []);
  });
});
