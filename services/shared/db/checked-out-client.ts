import type pg from 'pg';

export interface CheckedOutClient {
  client: pg.PoolClient;
  /** Returns the client to the pool, or discards it when its connection broke meanwhile. */
  release(err?: Error): void;
}

/**
 * A client taken from the pool for several statements. pg-pool listens for a client's errors only
 * while it is idle: a connection that ends while a client is checked out and between two queries
 * (PostgreSQL restarting, a backend terminated) emits an 'error' nobody handles, which ends the
 * process. Here that error is kept instead: the next query on the client fails with an ordinary,
 * retriable error, and the client is discarded on release rather than returned.
 */
export async function checkOutClient(pool: pg.Pool): Promise<CheckedOutClient> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken ??= err;
  };
  client.on('error', onError);
  return {
    client,
    release(err?: Error) {
      const reason = err ?? broken;
      // a discarded client may still report its closing socket: nothing left to tell anyone
      if (!reason) client.removeListener('error', onError);
      client.release(reason);
    },
  };
}
