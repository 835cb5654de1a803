import { randomBytes } from 'node:crypto';

/**
 * A name no other test (or earlier run) uses: topics, consumer groups, subjects. Kafka topic
 * names allow [a-zA-Z0-9._-]; the prefix is cleaned to that.
 */
export function uniqueTopicName(prefix = 'test'): string {
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, '-');
  return `${clean}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** A unique, unquoted-safe Postgres identifier (lower case, ≤ 63 bytes) for a per-test schema. */
export function uniqueSchemaName(prefix = 'test'): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40);
  return `${clean}_${process.pid}_${randomBytes(4).toString('hex')}`;
}
