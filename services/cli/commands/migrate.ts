import { migrateDatabase } from '../../shared/db/migrate.ts';
import { ExpectedError } from '../../shared/errors.ts';

export interface MigrateOptions {
  database?: string;
  schema?: string;
  down?: boolean;
  count?: string;
}

/** `harvester migrate`: applies migrations/ to the database (node-pg-migrate, under a lock). */
export async function migrateCommand(opts: MigrateOptions): Promise<void> {
  const database = opts.database ?? process.env.DATABASE_URL;
  if (!database) {
    throw new ExpectedError('no database: pass --database URL or set DATABASE_URL');
  }
  const count = opts.count === undefined ? undefined : Number(opts.count);
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
    throw new ExpectedError('--count must be a positive integer');
  }
  let applied: string[];
  try {
    applied = await migrateDatabase({
      database,
      schema: opts.schema,
      direction: opts.down ? 'down' : 'up',
      count,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    // the server is not there, or refuses us: one line that says where to look
    if (code && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|28P01|28000|3D000)$/.test(code)) {
      throw new ExpectedError(
        `cannot use the database (${(err as Error).message}): start PostgreSQL (deploy/local/stack up) or fix --database / DATABASE_URL`,
      );
    }
    throw err;
  }
  const verb = opts.down ? 'reverted' : 'applied';
  if (applied.length === 0) console.log(opts.down ? 'nothing to revert' : 'database is up to date');
  for (const name of applied) console.log(`${verb} ${name}`);
}
