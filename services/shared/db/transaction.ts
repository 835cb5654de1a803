import type pg from 'pg';
import { checkOutClient } from './checked-out-client.ts';

/**
 * Runs `work` inside one transaction on a pooled client: COMMIT when it resolves, ROLLBACK when it
 * throws (the error is re-thrown). A client whose connection broke is discarded, not returned, and
 * a connection lost between two statements is an error of `work`, never of the process.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const { client, release } = await checkOutClient(pool);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr as Error;
    }
    throw err;
  } finally {
    release(broken);
  }
}
