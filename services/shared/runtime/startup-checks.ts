import type pg from 'pg';
import type { EventEncoder } from '../events/encoder.ts';
import type { Logger } from '../observability/logger.ts';
import { ExpectedError } from '../errors.ts';

/** A start-up problem an operator fixes; its message says what to do (printed as one line). */
export class StartupCheckError extends ExpectedError {}

/** Postgres errors that are a deployment mistake, not an outage: wrong password or role, no such database. */
const MISCONFIGURED_DATABASE = /^(28|3D000)/;

/**
 * The database holds the tables the service uses (in its search_path), and the credentials work:
 * otherwise the start fails with what to do (apply the migrations, fix DATABASE_URL). A database
 * that does not answer yet is an outage, not a mistake: the service starts anyway (its chunks are
 * retried with back-off until it answers), and says so.
 */
export async function checkDatabaseReady(
  db: pg.Pool,
  tables: readonly string[],
  logger: Logger,
): Promise<void> {
  let missing: string[];
  try {
    const { rows } = await db.query<{ name: string; found: string | null }>(
      'SELECT t AS name, to_regclass(t)::text AS found FROM unnest($1::text[]) AS t',
      [tables],
    );
    missing = rows.filter((r) => r.found === null).map((r) => r.name);
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (MISCONFIGURED_DATABASE.test(code)) {
      throw new StartupCheckError(
        `cannot use the database at DATABASE_URL: ${(err as Error).message}; fix DATABASE_URL`,
        {
          cause: err,
        },
      );
    }
    logger.warn(
      { err: (err as Error).message },
      'the database does not answer at start-up: starting anyway, each chunk is retried until it does',
    );
    return;
  }
  if (missing.length > 0) {
    throw new StartupCheckError(
      `the database has no ${missing.join(', ')} table${missing.length > 1 ? 's' : ''}: apply the migrations ` +
        '(harvester migrate)',
    );
  }
}

/**
 * Every event schema the service writes is registered under its topic's subject: otherwise the
 * start fails saying `harvester schemas register` (a deployment step missed). A registry that does
 * not answer yet is an outage: the service starts and its chunks are retried until it answers.
 */
export async function checkEventSchemas(
  encoders: ReadonlyArray<EventEncoder<object>>,
  logger: Logger,
): Promise<void> {
  for (const encoder of encoders) {
    try {
      await encoder.ready();
    } catch (err) {
      const message = (err as Error).message;
      if (/not registered/.test(message)) throw new StartupCheckError(message, { cause: err });
      logger.warn(
        { err: message, event: encoder.event },
        'the schema registry does not answer at start-up: starting anyway, each chunk is retried until it does',
      );
      return;
    }
  }
}
