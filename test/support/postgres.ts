import pg from 'pg';
import { uniqueSchemaName } from './names.ts';
import type { TestStack } from './stack.ts';

export interface TestSchema {
  /** A pool whose connections use the schema first on their search_path. */
  pool: pg.Pool;
  schema: string;
  /** Drops the schema with everything in it and closes the pool. */
  drop: () => Promise<void>;
}

/** A pool on the stack's database, for tests that need no schema of their own. */
export function createTestPool(stack: TestStack, options: pg.PoolConfig = {}): pg.Pool {
  return new pg.Pool({ connectionString: stack.databaseUrl, max: 4, ...options });
}

/**
 * A fresh schema per test, so tests (and migrations run inside it) never see each other's rows.
 * Unqualified table names resolve to this schema; `public` stays on the path for extensions.
 */
export async function createTestSchema(stack: TestStack, prefix = 'test'): Promise<TestSchema> {
  const schema = uniqueSchemaName(prefix);
  const admin = createTestPool(stack, { max: 1 });
  try {
    await admin.query(`create schema "${schema}"`);
  } finally {
    await admin.end();
  }
  const pool = createTestPool(stack, { options: `-c search_path="${schema}",public` });
  return {
    pool,
    schema,
    drop: async () => {
      try {
        await pool.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await pool.end();
      }
    },
  };
}
