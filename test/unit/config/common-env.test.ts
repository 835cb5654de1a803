import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  consumerServiceEnvShape,
  consumerSettingsFromEnv,
  databaseEnvShape,
  schemaRegistryEnvShape,
} from '../../../services/shared/config/common-env.ts';
import { ConfigError, loadConfig } from '../../../services/shared/config/env.ts';

const schema = z.object({
  ...schemaRegistryEnvShape,
  ...databaseEnvShape,
  ...consumerServiceEnvShape('DEMO_SERVICE', {
    groupId: 'demo',
    maxBatchMessages: 50,
    fetchMaxBytes: 131_072,
    httpPort: 9999,
  }),
});
const required = {
  SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7',
  DATABASE_URL: 'postgres://db/x',
};

function configError(env: Record<string, string>): string {
  try {
    loadConfig(schema, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('shared service configuration fragments', () => {
  it('names the consumer settings after the service prefix, with the given and common defaults', () => {
    const c = loadConfig(schema, required);
    assert.equal(c.DEMO_SERVICE_GROUP_ID, 'demo');
    assert.equal(c.DEMO_SERVICE_MAX_BATCH_MESSAGES, 50);
    assert.equal(c.DEMO_SERVICE_FETCH_MAX_BYTES, 131_072);
    assert.equal(c.DEMO_SERVICE_HTTP_PORT, 9999);
    assert.equal(c.DEMO_SERVICE_HTTP_HOST, '0.0.0.0');
    assert.equal(c.DEMO_SERVICE_PARTITIONS_CONCURRENCY, 1);
    assert.equal(c.DEMO_SERVICE_FROM_BEGINNING, true);
    assert.equal(c.DEMO_SERVICE_SESSION_TIMEOUT_MS, 30_000);
    assert.equal(c.DEMO_SERVICE_RETRY_INITIAL_MS, 500);
    assert.equal(c.DEMO_SERVICE_RETRY_MAX_MS, 30_000);
  });

  it('says which prefixed variable is wrong and what it must hold', () => {
    assert.match(
      configError({ ...required, DEMO_SERVICE_SESSION_TIMEOUT_MS: '100' }),
      /DEMO_SERVICE_SESSION_TIMEOUT_MS must be at least 6000/,
    );
    assert.match(
      configError({ ...required, DEMO_SERVICE_FROM_BEGINNING: 'yes' }),
      /DEMO_SERVICE_FROM_BEGINNING must be true or false/,
    );
    assert.match(
      configError({ ...required, DEMO_SERVICE_FETCH_MAX_BYTES: '1024' }),
      /DEMO_SERVICE_FETCH_MAX_BYTES must be at least 65536/,
    );
  });

  it('says what to set for a missing registry or database', () => {
    const message = configError({});
    assert.match(
      message,
      /SCHEMA_REGISTRY_URL: set SCHEMA_REGISTRY_URL to the Confluent-compatible registry URL/,
    );
    assert.match(message, /DATABASE_URL: set DATABASE_URL to a postgres:\/\/ connection string/);
  });
});

describe('consumerSettingsFromEnv', () => {
  it('maps the prefixed variables onto the consumer settings', () => {
    const c = loadConfig(schema, {
      ...required,
      DEMO_SERVICE_GROUP_ID: 'g',
      DEMO_SERVICE_FROM_BEGINNING: 'false',
      DEMO_SERVICE_PARTITIONS_CONCURRENCY: '3',
      DEMO_SERVICE_RETRY_INITIAL_MS: '20',
      DEMO_SERVICE_RETRY_MAX_MS: '40',
      DEMO_SERVICE_SESSION_TIMEOUT_MS: '7000',
      DEMO_SERVICE_UNHEALTHY_AFTER_MS: '60000',
    });
    assert.deepEqual(consumerSettingsFromEnv(c, 'DEMO_SERVICE', ['t1', 't2']), {
      groupId: 'g',
      topics: ['t1', 't2'],
      fromBeginning: false,
      maxBatchMessages: 50,
      fetchMaxBytes: 131_072,
      partitionsConsumedConcurrently: 3,
      retryInitialMs: 20,
      retryMaxMs: 40,
      sessionTimeoutMs: 7000,
      unhealthyAfterMs: 60_000,
    });
  });
});
