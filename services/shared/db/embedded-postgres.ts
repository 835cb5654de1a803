import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { migrateDatabase } from './migrate.ts';
import { ExpectedError } from '../errors.ts';

/** Where `harvester backfill` and `harvester demo` keep their embedded database by default. */
export const DEFAULT_EMBEDDED_DATA_DIR = 'var/pglite';

export interface EmbeddedPostgres {
  /** postgres:// URL of the loopback socket: pg, node-pg-migrate and psycopg2 connect unchanged. */
  url: string;
  dataDir: string;
  /** Migrations applied by this start (empty when the database was up to date). */
  applied: string[];
  close(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir?: string;
  /** Connections the socket accepts at once (queries run one at a time; a transaction keeps its connection). */
  maxConnections?: number;
  log?: (message: string) => void;
}

/**
 * PostgreSQL without a server: PGlite (Postgres compiled to WebAssembly, data in a folder) behind
 * a PGlite socket on 127.0.0.1, with the repository's migrations applied through node-pg-migrate,
 * the same path a server database takes. Everything that takes a DATABASE_URL works against it,
 * including the Python distiller. Open one process per data folder at a time.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir ?? DEFAULT_EMBEDDED_DATA_DIR;
  mkdirSync(dataDir, { recursive: true });
  const releaseLock = lockDataDir(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create({ dataDir });
  } catch (err) {
    releaseLock();
    throw err;
  }
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections ?? 8,
  });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    releaseLock();
    throw err;
  }
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await server.stop();
      await db.close();
    } finally {
      releaseLock();
    }
  };
  try {
    const applied = await migrateDatabase({ database: url, log: options.log });
    return { url, dataDir, applied, close };
  } catch (err) {
    await close();
    throw err;
  }
}

const LOCK_FILE = '.harvester.lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process per data folder: PGlite is a single-process database, two writers would corrupt it.
 * A lock left by a process that died is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
        throw new ExpectedError(
          `the embedded database ${dataDir} is in use by process ${holder}; wait for it or use another folder`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`cannot lock ${path}`);
}
