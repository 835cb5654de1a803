import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';

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
  /** The schema to create the tables in (default public); tests use one schema each. */
  schema?: string;
  log?: (message: string) => void;
}

/**
 * Applies the migrations with node-pg-migrate's programmatic runner. All pending migrations run in
 * one transaction under an advisory lock, so two services starting at once cannot both apply them.
 */
export async function migrateDatabase(options: MigrateOptions): Promise<string[]> {
  const direction = options.direction ?? 'up';
  const connection =
    typeof options.database === 'string' ? { databaseUrl: options.database } : { dbClient: options.database };
  const applied = await runner({
    ...connection,
    dir: MIGRATIONS_DIR,
    schema: options.schema ?? 'public',
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
