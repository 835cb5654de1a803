import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSinceMonth } from '../../../services/app/analytics/since-month.ts';
import {
  formatCsv,
  formatJson,
  formatTable,
  type Column,
} from '../../../services/app/analytics/output-format.ts';
import {
  loadAnalyticsEnv,
  resolveDatabaseUrl,
  resolveRole,
} from '../../../services/app/analytics/database-option.ts';

describe('parseSinceMonth', () => {
  it('accepts a month or the first day of one', () => {
    assert.equal(parseSinceMonth('2024-03'), '2024-03-01');
    assert.equal(parseSinceMonth('2024-03-01'), '2024-03-01');
  });

  it('refuses days within a month, saying why and what to pass instead', () => {
    assert.throws(() => parseSinceMonth('2024-03-15'), {
      message: /count whole months.*use 2024-03 or the next month/,
      expected: true,
    } as object);
  });

  it('refuses what is not a month', () => {
    for (const bad of ['2024', '2024-13', '03/2024', 'yesterday', '2024-00']) {
      assert.throws(() => parseSinceMonth(bad), { expected: true } as object, bad);
    }
  });
});

interface Row {
  name: string;
  n: number;
  rate: number | null;
}
const columns: Column<Row>[] = [
  { header: 'name', value: (r) => r.name },
  { header: 'n', value: (r) => r.n },
  { header: 'rate', value: (r) => r.rate, decimals: 2 },
];
const rows: Row[] = [
  { name: 'rib', n: 12, rate: 0.125 },
  { name: 'a, "quoted"\nname', n: 3, rate: null },
];

describe('stats output formats', () => {
  it('table: header, rule, numbers right-aligned and rounded', () => {
    assert.equal(
      formatTable(columns, [rows[0]!, { name: 'clavicle', n: 7, rate: 1 / 3 }]),
      ['name       n  rate', '--------  --  ----', 'rib       12  0.13', 'clavicle   7  0.33'].join('\n'),
    );
  });

  it('csv: RFC 4180 quoting, empty for null', () => {
    assert.equal(formatCsv(columns, rows), 'name,n,rate\nrib,12,0.13\n"a, ""quoted""\nname",3,');
  });

  it('json: objects keyed by header, numbers unrounded', () => {
    assert.deepEqual(JSON.parse(formatJson(columns, rows)), [
      { name: 'rib', n: 12, rate: 0.125 },
      { name: 'a, "quoted"\nname', n: 3, rate: null },
    ]);
  });
});

describe('analytics options', () => {
  it('takes the database from the option, else DATABASE_URL, else says what to set', () => {
    const env = loadAnalyticsEnv({ DATABASE_URL: 'postgres://env/db' });
    assert.equal(resolveDatabaseUrl('postgres://opt/db', env), 'postgres://opt/db');
    assert.equal(resolveDatabaseUrl(undefined, env), 'postgres://env/db');
    assert.throws(() => resolveDatabaseUrl(undefined, loadAnalyticsEnv({ DATABASE_URL: '' })), {
      message: /pass --database .* or set DATABASE_URL/,
    });
  });

  it('validates DISTILL_LABEL_THRESHOLD', () => {
    assert.equal(loadAnalyticsEnv({ DISTILL_LABEL_THRESHOLD: '500' }).DISTILL_LABEL_THRESHOLD, 500);
    assert.throws(() => loadAnalyticsEnv({ DISTILL_LABEL_THRESHOLD: '-3' }), /DISTILL_LABEL_THRESHOLD/);
  });

  it('maps --role NAME, --no-role and the default', () => {
    assert.equal(resolveRole('reader'), 'reader');
    assert.equal(resolveRole(false), null);
    assert.equal(resolveRole(undefined), undefined);
  });
});
