import assert from 'node:assert/strict';
import { once, type EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { createPool } from '../../services/shared/db/pool.ts';
import { withTransaction } from '../../services/shared/db/transaction.ts';
import { createTestPool, getTestStack, type TestStack } from '../support/index.ts';

// A connection lost while a service holds a pooled client between two statements (PostgreSQL
// restarting under load) used to end the process with an unhandled 'error' event; the reliability
// test "PostgreSQL stopped for 30 s under load" lost its report-labeler that way. node:test fails a
// test on an uncaught exception, so these fail on the old code.
describe('a database connection lost while a client is checked out', () => {
  let stack: TestStack;
  let admin: ReturnType<typeof createTestPool>;
  before(async () => {
    stack = await getTestStack();
    admin = createTestPool(stack, { max: 1 });
  });
  after(async () => {
    await admin.end();
  });

  const terminate = (pid: number) => admin.query('SELECT pg_terminate_backend($1)', [pid]);

  it('is an error of the transaction, not of the process; the pool serves the next one', async () => {
    const pool = createPool({ url: stack.databaseUrl, maxConnections: 1, applicationName: 'conn-loss' });
    try {
      const failed = withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // the connection ends while no statement of this client is running (pg's socket is
        // watched, not the client: a listener on the client would hide the unhandled 'error')
        const socket = (client as unknown as { connection: { stream: EventEmitter } }).connection.stream;
        const closed = once(socket, 'close');
        await terminate(rows[0]!.pid);
        await closed;
        await client.query('SELECT 1');
      });
      await assert.rejects(failed, /not queryable|Connection terminated/);
      // the broken client was discarded: the pool's one slot opens a fresh connection
      const ok = await withTransaction(pool, async (client) => (await client.query('SELECT 2 AS n')).rows[0]);
      assert.deepEqual(ok, { n: 2 });
    } finally {
      await pool.end();
    }
  });

  it('a client returned healthy to the pool is still watched while idle (a later loss is not fatal)', async () => {
    const pool = createPool({ url: stack.databaseUrl, maxConnections: 1, applicationName: 'conn-loss' });
    const idleErrors: Error[] = [];
    pool.on('error', (err) => idleErrors.push(err));
    try {
      const pid = await withTransaction(
        pool,
        async (client) =>
          (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid,
      );
      await terminate(pid);
      while (idleErrors.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const { rows } = await pool.query('SELECT 3 AS n');
      assert.deepEqual(rows, [{ n: 3 }]);
    } finally {
      await pool.end();
    }
  });
});
