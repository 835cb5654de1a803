import type pg from 'pg';

/** A pool that remembers each distinct SQL statement it ran, for the report's "SQL it ran" section. */
export interface RecordingQueryable {
  db: Pick<pg.Pool, 'query'>;
  statements: string[];
}

export function recordingQueryable(pool: pg.Pool): RecordingQueryable {
  const statements: string[] = [];
  const query = (text: string | pg.QueryConfig, values?: unknown[]) => {
    const sql = typeof text === 'string' ? text : text.text;
    const normalised = sql.replace(/^\s+/gm, (indent) => indent.slice(Math.min(indent.length, 4)));
    if (!statements.includes(normalised)) statements.push(normalised);
    return pool.query(text as string, values);
  };
  return { db: { query } as unknown as Pick<pg.Pool, 'query'>, statements };
}
