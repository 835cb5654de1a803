import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { getTestStack, type TestStack } from '../support/stack.ts';
import type { TestSchema } from '../support/postgres.ts';
import { createAnalyticsSchema } from '../support/analytics-data.ts';

// `harvester stats` as a user runs it, on the known data set of test/support/analytics-data.ts.

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('harvester stats', () => {
  let stack: TestStack;
  let db: TestSchema;

  const stats = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> => {
    try {
      const { stdout, stderr } = await execFileAsync(
        process.execPath,
        ['bin/harvester.js', 'stats', ...args],
        {
          cwd: repoRoot,
          env: { ...process.env, DATABASE_URL: stack.databaseUrl, ...env },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  before(async () => {
    stack = await getTestStack();
    db = await createAnalyticsSchema(stack, 'stats');
  });
  after(() => db?.drop());

  it('prints counts per month and class as a table (the default)', async () => {
    const run = await stats(['--schema', db.schema]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        'month    class     reports  positive  uncertain  negative  positive_rate',
        '-------  --------  -------  --------  ---------  --------  -------------',
        '2024-01  clavicle        2         1          0         1         0.5000',
        '2024-01  other           2         0          0         2         0.0000',
        '2024-01  rib             2         1          0         1         0.5000',
        '2024-02  clavicle        2         0          0         2         0.0000',
        '2024-02  other           2         1          0         1         0.5000',
        '2024-02  rib             2         1          1         0         0.5000',
        '2024-03  clavicle        1         0          0         1         0.0000',
        '2024-03  other           1         0          0         1         0.0000',
        '2024-03  rib             1         0          0         1         0.0000',
        '',
      ].join('\n'),
    );
  });

  it('--by facility --format csv', async () => {
    const run = await stats(['--schema', db.schema, '--by', 'facility', '--format', 'csv']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        'facility,class,reports,positive,uncertain,negative,positive_rate',
        'GENHOSP,clavicle,3,1,0,2,0.3333',
        'GENHOSP,other,3,0,0,3,0.0000',
        'GENHOSP,rib,3,1,0,2,0.3333',
        'NORTH,clavicle,2,0,0,2,0.0000',
        'NORTH,other,2,1,0,1,0.5000',
        'NORTH,rib,2,1,1,0,0.5000',
        '',
      ].join('\n'),
    );
  });

  it('--by view --since 2024-02 --format json', async () => {
    const run = await stats([
      '--schema',
      db.schema,
      '--by',
      'view',
      '--since',
      '2024-02',
      '--format',
      'json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const rows = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
      rows.filter((r) => r.class === 'rib'),
      [
        {
          view_position: 'AP',
          class: 'rib',
          reports: 1,
          positive: 0,
          uncertain: 1,
          negative: 0,
          positive_rate: 0,
        },
        {
          view_position: 'PA',
          class: 'rib',
          reports: 1,
          positive: 1,
          uncertain: 0,
          negative: 0,
          positive_rate: 1,
        },
        {
          view_position: 'unknown',
          class: 'rib',
          reports: 1,
          positive: 0,
          uncertain: 0,
          negative: 1,
          positive_rate: 0,
        },
      ],
    );
    assert.equal(rows.length, 9);
  });

  it('fails with one clear line on bad options, a missing schema or an unreachable server', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['--by', 'year'], {}, /^harvester: --by must be month, facility or view \(got "year"\)\n$/],
      [['--format', 'xml'], {}, /^harvester: --format must be table, csv or json/],
      [['--since', '2024-02-10'], {}, /count whole months/],
      [['--schema', 'no_such_schema_here'], {}, /does not exist .*apply the migrations first/],
      [
        [],
        { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
        /cannot connect to Postgres at 127\.0\.0\.1:1\/none/,
      ],
      [[], { DATABASE_URL: '' }, /no database: pass --database/],
    ];
    for (const [args, env, message] of cases) {
      const run = await stats(args, env);
      assert.equal(run.code, 1, `${args.join(' ')}: exit code`);
      assert.match(run.stderr, message, `${args.join(' ')}`);
      assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
    }
  });

  it('acts as harvester_analytics: a login that may not says how to fix it; --no-role uses the login', async () => {
    const login = `stats_login_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(8).toString('hex');
    await db.pool.query(`CREATE ROLE ${login} LOGIN PASSWORD '${password}'`);
    try {
      await db.pool.query(`GRANT USAGE ON SCHEMA "${db.schema}" TO ${login}`);
      const url = new URL(stack.databaseUrl);
      url.username = login;
      url.password = password;
      const refused = await stats(['--schema', db.schema], { DATABASE_URL: url.toString() });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /may not act as harvester_analytics: GRANT harvester_analytics TO/);
      // without the role, the login's own rights apply: it has none on the views
      const own = await stats(['--schema', db.schema, '--no-role'], { DATABASE_URL: url.toString() });
      assert.equal(own.code, 1);
      assert.match(own.stderr, /permission denied/);
      await db.pool.query(`GRANT harvester_analytics TO ${login}`);
      const granted = await stats(['--schema', db.schema, '--format', 'csv'], {
        DATABASE_URL: url.toString(),
      });
      assert.equal(granted.code, 0, granted.stderr);
      assert.equal(granted.stdout.split('\n').length, 11);
    } finally {
      await db.pool.query(`DROP OWNED BY ${login}`);
      await db.pool.query(`DROP ROLE ${login}`);
    }
  });
});
