import pg from 'pg';

export interface DatabaseConfig {
  /** postgres://user:password@host:port/database (libpq-style parameters such as sslmode allowed). */
  url: string;
  /** Most connections the pool opens. */
  maxConnections?: number;
  /** Application name shown in pg_stat_activity, so operators see which service holds a connection. */
  applicationName?: string;
}

/** A pg connection pool. Idle-client errors (server restart) are logged by the caller, never fatal. */
export function createPool(config: DatabaseConfig, onIdleError?: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.maxConnections ?? 4,
    application_name: config.applicationName ?? 'fracture-harvester',
    connectionTimeoutMillis: 10_000,
  });
  // Without a listener, an idle client's error (e.g. Postgres restarting) would crash the process.
  pool.on('error', (err) => onIdleError?.(err));
  return pool;
}

export type { Pool, PoolClient } from 'pg';
