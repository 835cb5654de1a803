import type pg from 'pg';
import type { EventEncoder } from '../events/encoder.ts';

/** A start-up problem an operator fixes; its message says what to do (printed as one line). */
export class StartupCheckError extends Error {
  readonly expected = true;
  override name = 'StartupCheckError';
}

/**
 * The database answers and holds the tables the service uses (in its search_path). Fails with
 * what to do: start PostgreSQL or fix DATABASE_URL, or apply the migrations.
 */
export async function checkDatabaseReady(db: pg.Pool, tables: readonly string[]): Promise<void> {
  let missing: string[];
  try {
    const { rows } = await db.query<{ name: string; found: string | null }>(
      'SELECT t AS name, to_regclass(t)::text AS found FROM unnest($1::text[]) AS t',
      [tables],
    );
    missing = rows.filter((r) => r.found === null).map((r) => r.name);
  } catch (err) {
    throw new StartupCheckError(
      `cannot use the database at DATABASE_URL: ${(err as Error).message}; start PostgreSQL ` +
        '(deploy/local/stack up) or fix DATABASE_URL',
      { cause: err },
    );
  }
  if (missing.length > 0) {
    throw new StartupCheckError(
      `the database has no ${missing.join(', ')} table${missing.length > 1 ? 's' : ''}: apply the migrations ` +
        '(harvester migrate)',
    );
  }
}

/**
 * Every event schema the service writes is registered under its topic's subject; fails with what
 * to do (harvester schemas register, or reach the registry) instead of retrying chunks later.
 */
export async function checkEventSchemas(encoders: ReadonlyArray<EventEncoder<object>>): Promise<void> {
  for (const encoder of encoders) {
    try {
      await encoder.ready();
    } catch (err) {
      const message = (err as Error).message;
      throw new StartupCheckError(
        /not registered/.test(message)
          ? message
          : `cannot reach the schema registry (SCHEMA_REGISTRY_URL) for ${encoder.event}: ${message}`,
        { cause: err },
      );
    }
  }
}
