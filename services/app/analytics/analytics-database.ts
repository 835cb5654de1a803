import pg from 'pg';
import { userError } from './user-error.ts';

/** The read-only role the analytics views are granted to (migrations/*_analytics-views.sql). */
export const ANALYTICS_ROLE = 'harvester_analytics';

export interface AnalyticsDatabaseOptions {
  /** postgres:// connection string. */
  url: string;
  /** Role to act as (SET ROLE at connection start); null keeps the login user's own rights. */
  role?: string | null;
  /** Schema holding the views (default: the login's search_path). */
  schema?: string;
  maxConnections?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/**
 * Session settings of every analytics connection: read-only, and enough memory for the views'
 * hash aggregates and sorts over a million labels not to spill to disk (bench/analytics-views.ts).
 */
export const ANALYTICS_SESSION_SETTINGS = ['-c default_transaction_read_only=on', '-c work_mem=64MB'];

/**
 * A pool whose every session is read-only (default_transaction_read_only) and, by default, acts
 * as harvester_analytics, so stats and the dashboard can only read the de-identified views even
 * when the login user could read more.
 */
export function openAnalyticsDatabase(options: AnalyticsDatabaseOptions): pg.Pool {
  const role = options.role === undefined ? ANALYTICS_ROLE : options.role;
  if (role !== null && !IDENTIFIER.test(role)) throw userError(`--role "${role}" is not a role name`);
  if (options.schema !== undefined && !IDENTIFIER.test(options.schema)) {
    throw userError(`--schema "${options.schema}" is not a schema name`);
  }
  const settings = [...ANALYTICS_SESSION_SETTINGS];
  if (role !== null) settings.push(`-c role=${role}`);
  if (options.schema !== undefined) settings.push(`-c search_path=${options.schema}`);
  let connectionString: string;
  try {
    connectionString = new URL(options.url).protocol.startsWith('postgres') ? options.url : '';
  } catch {
    connectionString = '';
  }
  if (!connectionString) {
    throw userError(
      '--database must be a postgres:// URL (or set DATABASE_URL), e.g. postgres://user@host/db',
    );
  }
  const pool = new pg.Pool({
    connectionString,
    options: settings.join(' '),
    max: options.maxConnections ?? 2,
    application_name: 'harvester-analytics',
    connectionTimeoutMillis: 10_000,
  });
  pool.on('error', () => {}); // an idle client's error (server restart) is seen by the next query
  return pool;
}

/** Where a connection string points, without its password, for messages. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the database';
  }
}

/**
 * Turns the usual failures into one clear line: the server down, a login or role problem, the
 * views not migrated yet. Anything else is returned unchanged (a bug, with its stack).
 */
export function explainDatabaseError(err: unknown, url: string, role: string | null): Error {
  const e = err as { code?: string; message?: string };
  const where = describeDatabase(url);
  if (
    e.code === 'ECONNREFUSED' ||
    e.code === 'ENOTFOUND' ||
    e.code === 'ETIMEDOUT' ||
    e.code === 'EAI_AGAIN'
  ) {
    return userError(
      `cannot connect to Postgres at ${where} (${e.code}); is it running? (deploy/local/stack up)`,
      err,
    );
  }
  if (e.message?.includes('timeout expired') || e.message?.includes('Connection terminated')) {
    return userError(`cannot connect to Postgres at ${where}: ${e.message}`, err);
  }
  if (e.code === '42501' && role !== null && e.message?.includes('set role')) {
    return userError(
      `the login in --database may not act as ${role}: GRANT ${role} TO <login user>, ` +
        `or pass --no-role to use the login's own rights`,
      err,
    );
  }
  if (e.code === '42501') {
    return userError(
      `permission denied at ${where}: ${e.message} (the analytics views are granted to ${ANALYTICS_ROLE})`,
      err,
    );
  }
  if (e.code === '42P01' || e.code === '3F000') {
    return userError(
      `${e.message} at ${where}: apply the migrations first (harvester migrate), or pass --schema`,
      err,
    );
  }
  if (e.code === '28P01' || e.code === '28000' || e.code === '3D000') {
    return userError(`cannot log in to ${where}: ${e.message}`, err);
  }
  return err instanceof Error ? err : new Error(String(err));
}
