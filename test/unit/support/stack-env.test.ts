import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStackEnv, stackFromEnvironment } from '../../support/stack.ts';

describe('test stack endpoints', () => {
  it('are read from the line `deploy/local/stack env` prints', () => {
    const env = parseStackEnv(
      'export KAFKA_BROKERS=127.0.0.1:9092 SCHEMA_REGISTRY_URL=http://127.0.0.1:8081/apis/ccompat/v7 DATABASE_URL=postgres://h:h@127.0.0.1:54329/harvester\n',
    );
    assert.deepEqual(stackFromEnvironment(env), {
      kafkaBrokers: ['127.0.0.1:9092'],
      schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
      databaseUrl: 'postgres://h:h@127.0.0.1:54329/harvester',
      source: 'environment',
    });
  });

  it('come from the environment only when all three variables are set', () => {
    assert.equal(stackFromEnvironment({ KAFKA_BROKERS: 'a:1,b:2', DATABASE_URL: 'postgres://x' }), null);
    assert.deepEqual(
      stackFromEnvironment({ KAFKA_BROKERS: 'a:1, b:2', SCHEMA_REGISTRY_URL: 'http://r/', DATABASE_URL: 'p' })
        ?.kafkaBrokers,
      ['a:1', 'b:2'],
    );
  });
});
