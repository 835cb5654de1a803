import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

/** The repository's migrations/ folder: plain SQL files, shared by server Postgres and PGlite. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** The table node-pg-migrate records applied migrations in. */
export const MIGRATIONS_TABLE = 'pgmigrations';

export interface MigrateOptions {
  /** A connection string, or an already connected client (e.g. a socket to PGlite). */
  database: string | pg.ClientBase;
  direction?: 'up' | 'down';
  /** How many migrations to apply (default: all pending for up, one for down). */
  count?: number;
  /**
   * The schema to create the tables in (tests use one schema each). Default: the first schema of
   * the connection's search_path (a DATABASE_URL with options=-c search_path=x migrates x, as the
   * services will read it), else public.
   */
  schema?: string;
  log?: (message: string) => void;
}

/**
 * Applies the migrations with node-pg-migrate's programmatic runner. All pending migrations run in
 * one transaction under an advisory lock, so two services starting at once cannot both apply them.
 */
export async function migrateDatabase(options: MigrateOptions): Promise<string[]> {
  const direction = options.direction ?? 'up';
  const schema = options.schema ?? (await searchPathSchema(options.database));
  const connection =
    typeof options.database === 'string' ? { databaseUrl: options.database } : { dbClient: options.database };
  const applied = await runner({
    ...connection,
    dir: MIGRATIONS_DIR,
    schema,
    // a named schema that does not exist yet is created (CREATE SCHEMA IF NOT EXISTS)
    createSchema: true,
    migrationsTable: MIGRATIONS_TABLE,
    direction,
    count: options.count ?? (direction === 'up' ? Infinity : 1),
    singleTransaction: true,
    checkOrder: true,
    advisoryLockMode: 'wait',
    log: options.log ?? (() => {}),
  });
  return applied.map((m) => m.name);
}

/**
 * The schema unqualified names resolve to first for this connection, named even when it does not
 * exist yet (current_schema() would skip it): the search_path's first entry, `"$user"` meaning the
 * login role's schema when there is one, and public otherwise.
 */
export async function searchPathSchema(database: string | pg.ClientBase): Promise<string> {
  const client = typeof database === 'string' ? new pg.Client({ connectionString: database }) : database;
  if (typeof database === 'string') await client.connect();
  try {
    const { rows } = await client.query<{ path: string; current: string | null }>(
      `SELECT current_setting('search_path') AS path, current_schema() AS current`,
    );
    const first = parseSearchPath(rows[0]!.path)[0];
    if (first === undefined || first === '$user') return rows[0]!.current ?? 'public';
    return first;
  } finally {
    if (typeof database === 'string') await (client as pg.Client).end();
  }
}

/** `a, "B c", public` -> ['a', 'B c', 'public'] (quoted names keep their case). */
export function parseSearchPath(path: string): string[] {
  const out: string[] = [];
  for (const m of path.matchAll(/\s*(?:"((?:[^"]|"")*)"|([^,\s]+))\s*(?:,|$)/g)) {
    if (m[1] !== undefined) out.push(m[1].replace(/""/g, '"'));
    else if (m[2] !== undefined) out.push(m[2].toLowerCase());
  }
  return out;
}
