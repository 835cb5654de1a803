import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseDocument } from 'yaml';

// No Docker here: the compose file is checked by reading it (the same settings as deploy/local/stack).
const FILE = path.resolve(import.meta.dirname, '../../../deploy/docker-compose.yml');
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const doc = parseDocument(readFileSync(FILE, 'utf8'));
const services = (doc.toJS() as Obj).services as Obj;

describe('deploy/docker-compose.yml', () => {
  it('parses', () => {
    assert.deepEqual(doc.errors, []);
    assert.deepEqual(Object.keys(services).sort(), ['kafka', 'postgres', 'registry', 'registry-database']);
  });

  it("keeps the registry's schemas in the stack's PostgreSQL, in a database of its own, started after it", () => {
    const env = services.registry.environment as Record<string, string>;
    assert.equal(env.APICURIO_STORAGE_KIND, 'sql');
    assert.equal(env.APICURIO_STORAGE_SQL_KIND, 'postgresql', 'not the in-memory H2 default');
    const jdbc = new URL(env.APICURIO_DATASOURCE_URL!.replace(/^jdbc:/, ''));
    assert.equal(jdbc.hostname, 'postgres');
    const database = jdbc.pathname.slice(1);
    assert.notEqual(database, services.postgres.environment.POSTGRES_DB, 'its own database');
    assert.equal(env.APICURIO_DATASOURCE_USERNAME, services.postgres.environment.POSTGRES_USER);
    assert.equal(env.APICURIO_DATASOURCE_PASSWORD, services.postgres.environment.POSTGRES_PASSWORD);
    // start order: postgres healthy -> the database created -> the registry
    assert.deepEqual(services.registry.depends_on, {
      'registry-database': { condition: 'service_completed_successfully' },
    });
    const job = services['registry-database'];
    assert.deepEqual(job.depends_on, { postgres: { condition: 'service_healthy' } });
    assert.equal(job.environment.PGHOST, 'postgres');
    assert.match(job.command.join(' '), new RegExp(`create database ${database}\\b`));
    assert.ok(services.postgres.healthcheck, 'service_healthy needs a health check');
  });
});
