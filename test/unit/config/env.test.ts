import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../../../services/shared/config/env.ts';

const schema = z.object({
  DATABASE_URL: z.string().min(1),
  KAFKA_BROKERS: z.string().min(1),
});

describe('loadConfig', () => {
  it('returns the validated values when every variable is set', () => {
    const config = loadConfig(schema, { DATABASE_URL: 'postgres://x', KAFKA_BROKERS: 'b:9092' });
    assert.deepEqual(config, { DATABASE_URL: 'postgres://x', KAFKA_BROKERS: 'b:9092' });
  });

  it('names each missing variable in a ConfigError', () => {
    assert.throws(
      () => loadConfig(schema, { KAFKA_BROKERS: 'b:9092' }),
      (err: unknown) =>
        err instanceof ConfigError && /DATABASE_URL/.test(err.message) && !/KAFKA_BROKERS/.test(err.message),
    );
  });
});
