import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { buildOruMessage, FINDINGS } from '../support/hl7-builder.ts';
import { waitForProgress } from '../support/progress.ts';
import { ReportLabelerHarness, TEST_HMAC_KEY } from '../support/report-labeler.ts';

const TEXTS = [FINDINGS.ribPositive, FINDINGS.normal, FINDINGS.clavicleOld, FINDINGS.uncertain];

/** n messages over n/2 accessions: a preliminary and a final of each. */
function stream(prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) => {
    const accession = `${prefix}-ACC-${Math.floor(i / 2)}`;
    const id = `${prefix}-${i}`;
    return {
      key: `GENHOSP|${id}`,
      value: buildOruMessage({
        messageControlId: id,
        accession,
        status: i % 2 === 0 ? 'P' : 'F',
        text: TEXTS[i % TEXTS.length]!,
      }),
    };
  });
}

async function assertExactlyOnceRows(h: ReportLabelerHarness, prefix: string, n: number): Promise<void> {
  const { rows } = await h.pool.query(
    `SELECT (SELECT count(*)::int FROM hl7_message_ledger WHERE message_control_id LIKE $1) AS ledger,
            (SELECT count(*)::int FROM report_versions WHERE message_control_id LIKE $1) AS versions,
            (SELECT count(*)::int FROM reports WHERE accession LIKE $1) AS reports,
            (SELECT count(*)::int FROM reports WHERE accession LIKE $1 AND result_status = 'F') AS finals,
            (SELECT count(*)::int FROM report_labels l JOIN reports r ON r.id = l.report_id WHERE r.accession LIKE $1) AS labels`,
    [`${prefix}-%`],
  );
  assert.deepEqual(rows[0], { ledger: n, versions: n, reports: n / 2, finals: n / 2, labels: (n / 2) * 3 });
}

// Every wait below lasts as long as the labeler makes progress (progress.ts), not a fixed time.
function ledgerReaches(h: ReportLabelerHarness, what: string, done: (rows: number) => boolean) {
  return waitForProgress({ what, measure: () => h.ledgerCount(), done });
}

function eventsUntil(h: ReportLabelerHarness, what: string, done: () => boolean) {
  return waitForProgress({ what, measure: () => h.events.length, done: () => done() });
}

/** Waits for the labeler's /metrics to count `n` failed commit attempts. */
function failedAttempts(httpPort: number, n: number) {
  return waitForProgress({
    what: `${n} failed attempts`,
    measure: async () => {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      return Number(/harvester_report_labeler_errors_total\{stage="commit"\} (\d+)/.exec(text)?.[1] ?? 0);
    },
    done: (errors) => errors >= n,
  });
}

describe('report-labeler restarts and outages', () => {
  const h = new ReportLabelerHarness();
  before(() => h.setUp(2));
  after(() => h.tearDown());

  it('loses and duplicates nothing when stopped gracefully mid-stream and started again', async () => {
    const n = 400;
    await h.produce(stream('GR', n));
    const first = await h.startLabeler({ REPORT_LABELER_MAX_BATCH_MESSAGES: '25' });
    await ledgerReaches(h, 'some progress', (c) => c >= 50);
    await first.stop();
    const afterStop = await h.ledgerCount();
    const second = await h.startLabeler({ REPORT_LABELER_MAX_BATCH_MESSAGES: '25' });
    await ledgerReaches(h, `all ${n} messages`, (c) => c >= n);
    await second.stop();
    assert.ok(afterStop < n, 'the first instance was stopped mid-stream');
    await assertExactlyOnceRows(h, 'GR', n);
    // graceful: every event exactly once (offsets committed before the stop)
    await eventsUntil(
      h,
      'every final event',
      () => h.events.filter((e) => e.accession.startsWith('GR-') && e.reportStatus === 'F').length >= n / 2,
    );
    const keys = h.events.filter((e) => e.accession.startsWith('GR-')).map((e) => e.messageControlId);
    assert.equal(new Set(keys).size, keys.length, 'no duplicate events after a graceful stop');
  });

  it('loses and duplicates no rows when the process is killed mid-stream (SIGKILL)', async () => {
    const n = 400;
    const before = await h.ledgerCount();
    await h.produce(stream('KL', n));
    const child = spawnLabeler(h);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await ledgerReaches(h, 'the child to make progress', (c) => c - before >= 50);
    child.kill('SIGKILL');
    await exited;
    const second = await h.startLabeler({ REPORT_LABELER_MAX_BATCH_MESSAGES: '25' });
    await ledgerReaches(h, `all ${n} messages`, (c) => c - before >= n);
    await second.stop();
    await assertExactlyOnceRows(h, 'KL', n);
    await eventsUntil(h, 'an event for every report', () =>
      Array.from({ length: n / 2 }, (_, i) => `KL-ACC-${i}`).every((a) =>
        h.events.some((e) => e.accession === a && e.reportStatus === 'F'),
      ),
    );
  });

  it('on SIGTERM finishes the batch, commits and exits 0; the next instance repeats nothing', async () => {
    const n = 400;
    const before = await h.ledgerCount();
    await h.produce(stream('TM', n));
    const child = spawnLabeler(h);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await ledgerReaches(h, 'the child to make progress', (c) => c - before >= 50);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'a clean exit after SIGTERM');
    const atExit = (await h.ledgerCount()) - before;
    assert.ok(atExit < n, 'stopped mid-stream');
    const second = await h.startLabeler({ REPORT_LABELER_MAX_BATCH_MESSAGES: '25' });
    await ledgerReaches(h, `all ${n} messages`, (c) => c - before >= n);
    await second.stop();
    await assertExactlyOnceRows(h, 'TM', n);
    await eventsUntil(h, 'every final event', () =>
      Array.from({ length: n / 2 }, (_, i) => `TM-ACC-${i}`).every((a) =>
        h.events.some((e) => e.accession === a && e.reportStatus === 'F'),
      ),
    );
    // offsets were committed for everything written: nothing was redelivered, no event repeated
    const ids = h.events.filter((e) => e.accession.startsWith('TM-')).map((e) => e.messageControlId);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('backs off while Postgres is unavailable and catches up without loss or duplicates', async () => {
    const flaky = new FlakyPool(h.pool);
    flaky.down = true;
    const labeler = await h.startLabeler({}, flaky as unknown as pg.Pool);
    const n = 40;
    await h.produce(stream('PG', n));
    await failedAttempts(labeler.httpPort, 2);
    assert.equal(
      (await fetch(`http://127.0.0.1:${labeler.httpPort}/health`)).status,
      503,
      'degraded while retrying',
    );
    const { rows } = await h.pool.query(
      `SELECT count(*)::int AS n FROM hl7_message_ledger WHERE message_control_id LIKE 'PG-%'`,
    );
    assert.equal(rows[0].n, 0);
    flaky.down = false;
    await waitForProgress({
      what: `all ${n} messages`,
      measure: async () =>
        (
          await h.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM hl7_message_ledger WHERE message_control_id LIKE 'PG-%'`,
          )
        ).rows[0]!.n,
      done: (c) => c === n,
    });
    await labeler.stop();
    await assertExactlyOnceRows(h, 'PG', n);
  });

  it('backs off while the schema registry is unavailable and catches up without loss or duplicates', async () => {
    const proxy = await startSwitchableProxy(h.stack.schemaRegistryUrl);
    try {
      proxy.down = true;
      const labeler = await h.startLabeler({ SCHEMA_REGISTRY_URL: proxy.url });
      const n = 40;
      await h.produce(stream('RG', n));
      await failedAttempts(labeler.httpPort, 2);
      const { rows } = await h.pool.query(
        `SELECT count(*)::int AS n FROM hl7_message_ledger WHERE message_control_id LIKE 'RG-%'`,
      );
      assert.equal(rows[0].n, 0, 'nothing written while events cannot be encoded');
      proxy.down = false;
      await waitForProgress({
        what: `all ${n} messages`,
        measure: async () =>
          (
            await h.pool.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM hl7_message_ledger WHERE message_control_id LIKE 'RG-%'`,
            )
          ).rows[0]!.n,
        done: (c) => c === n,
      });
      await labeler.stop();
      await assertExactlyOnceRows(h, 'RG', n);
      await eventsUntil(h, 'an event for every report', () =>
        Array.from({ length: n / 2 }, (_, i) => `RG-ACC-${i}`).every((a) =>
          h.events.some((e) => e.accession === a && e.reportStatus === 'F'),
        ),
      );
    } finally {
      await proxy.close();
    }
  });
});

/** `harvester run report-labeler` as a child process on the harness's topics and schema. */
function spawnLabeler(h: ReportLabelerHarness) {
  return spawn(process.execPath, ['bin/harvester.js', 'run', 'report-labeler'], {
    env: {
      ...process.env,
      KAFKA_BROKERS: h.stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: h.stack.schemaRegistryUrl,
      DATABASE_URL: withSearchPath(h.stack.databaseUrl, h.db.schema),
      PATIENT_ID_HMAC_KEY: TEST_HMAC_KEY,
      REPORT_LABELER_GROUP_ID: h.groupId,
      REPORT_LABELER_INPUT_TOPIC: h.input,
      REPORT_LABELER_OUTPUT_TOPIC: h.output,
      REPORT_LABELER_HTTP_PORT: '0',
      REPORT_LABELER_MAX_BATCH_MESSAGES: '25',
      REPORT_LABELER_SESSION_TIMEOUT_MS: '8000',
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
}

/** A pool stand-in that refuses connections while `down`, like a Postgres that is restarting. */
class FlakyPool {
  down = false;
  constructor(private readonly pool: pg.Pool) {}
  connect(): Promise<pg.PoolClient> {
    if (this.down) return Promise.reject(new Error('connect ECONNREFUSED (simulated Postgres outage)'));
    return this.pool.connect();
  }
  query(...args: Parameters<pg.Pool['query']>) {
    if (this.down) return Promise.reject(new Error('connect ECONNREFUSED (simulated Postgres outage)'));
    return (this.pool.query as (...a: unknown[]) => unknown)(...args);
  }
  async end(): Promise<void> {}
}

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema},public`);
  return u.toString();
}

/** An HTTP proxy to the registry that answers 503 while `down`, like a registry being redeployed. */
async function startSwitchableProxy(target: string) {
  const base = new URL(target);
  const server = createServer((req, res) => {
    if (state.down) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error_code":503,"message":"simulated registry outage"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(new URL(req.url!, base.origin), {
        method: req.method,
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/json',
          accept: req.headers.accept ?? '*/*',
        },
        body,
      }).then(
        async (upstream) => {
          res.writeHead(upstream.status, {
            'content-type': upstream.headers.get('content-type') ?? 'application/json',
          });
          res.end(Buffer.from(await upstream.arrayBuffer()));
        },
        () => {
          res.writeHead(502);
          res.end();
        },
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const state = {
    down: false,
    url: `http://127.0.0.1:${port}${base.pathname}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return state;
}
