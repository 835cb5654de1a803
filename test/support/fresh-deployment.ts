import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Cleanup } from './cleanup.ts';
import { createTestKafka } from './kafka.ts';
import { uniqueSchemaName } from './names.ts';
import type { TestStack } from './stack.ts';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A deployment of its own on the shared stack, as empty as a new cluster: a topic prefix no topic
 * has yet and a schema that does not exist yet (the harness creates neither: the services and the
 * documented commands do). Cleaned up, topics and schema, when `cleanup` runs.
 */
export interface FreshDeployment {
  /** KAFKA_TOPIC_PREFIX. */
  prefix: string;
  schema: string;
  /** DATABASE_URL for the services and commands: only this schema on the search_path. */
  databaseUrl: string;
  /** A pool for the test's own queries, on the same search_path. */
  pool: pg.Pool;
  /** The broker's topics under the prefix. */
  topics(): Promise<string[]>;
}

export async function freshDeployment(
  stack: TestStack,
  name: string,
  cleanup: Cleanup,
): Promise<FreshDeployment> {
  const prefix = `${name}${process.pid}x${Date.now().toString(36)}.`;
  const schema = uniqueSchemaName(name);
  const sep = stack.databaseUrl.includes('?') ? '&' : '?';
  const pool = new pg.Pool({
    connectionString: stack.databaseUrl,
    options: `-c search_path=${schema}`,
    max: 2,
  });
  cleanup.add(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });
  const admin = createTestKafka(stack).admin();
  await admin.connect();
  const topics = async () => (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  cleanup.add(async () => {
    const mine = await topics();
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    await admin.disconnect();
  });
  return {
    prefix,
    schema,
    databaseUrl: `${stack.databaseUrl}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    pool,
    topics,
  };
}

/** `node bin/harvester.js ARGS` from the repository root, as a user runs it; never rejects. */
export function runHarvester(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, ['bin/harvester.js', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}
