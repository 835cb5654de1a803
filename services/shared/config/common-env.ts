import { z } from 'zod';
import type { ChunkedConsumerSettings } from '../kafka/chunked-consumer.ts';
import { MIN_HMAC_KEY_BYTES } from '../privacy/pseudonymise.ts';

/** An integer variable of at least `min`, `fallback` when unset; errors name the variable. */
export const envInt = (name: string, min: number, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be an integer` })
    .int(`${name} must be an integer`)
    .min(min, `${name} must be at least ${min}`)
    .default(fallback);

/** A finite number variable, `fallback` when unset. */
export const envNumber = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .finite(`${name} must be a number`)
    .default(fallback);

/** A `true`/`false` variable, `fallback` when unset. */
export const envBool = (name: string, fallback: boolean) =>
  z
    .enum(['true', 'false'], { error: `${name} must be true or false` })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true');

/** The schema registry every event-publishing service reads (merge into the service's own schema). */
export const schemaRegistryEnvShape = {
  SCHEMA_REGISTRY_URL: z
    .string({ error: 'set SCHEMA_REGISTRY_URL to the Confluent-compatible registry URL' })
    .url('SCHEMA_REGISTRY_URL must be a URL, e.g. http://localhost:8080/apis/ccompat/v7'),
  SCHEMA_REGISTRY_USERNAME: z.string().optional(),
  SCHEMA_REGISTRY_PASSWORD: z.string().optional(),
};

/** The Postgres database every stateful service connects to. */
export const databaseEnvShape = {
  DATABASE_URL: z
    .string({ error: 'set DATABASE_URL to a postgres:// connection string' })
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// connection string'),
};

/**
 * The key patient ids are pseudonymised with (required): the report-labeler's, and so that of every
 * program that must give the same pseudonyms (backfill, `harvester forget`).
 */
export const patientIdKeyEnvShape = {
  PATIENT_ID_HMAC_KEY: z
    .string({
      error: `set PATIENT_ID_HMAC_KEY to a secret of at least ${MIN_HMAC_KEY_BYTES} bytes (e.g. openssl rand -hex 32); patient ids are pseudonymised with it`,
    })
    .refine((v) => Buffer.byteLength(v, 'utf8') >= MIN_HMAC_KEY_BYTES, {
      message: `PATIENT_ID_HMAC_KEY must be at least ${MIN_HMAC_KEY_BYTES} bytes (e.g. openssl rand -hex 32)`,
    }),
};

/** The size of a service's own connection pool. */
export const databasePoolEnvShape = {
  DATABASE_POOL_SIZE: envInt('DATABASE_POOL_SIZE', 1, 4),
};

/** The defaults that differ between consumer services. */
export interface ConsumerServiceDefaults {
  groupId: string;
  maxBatchMessages: number;
  fetchMaxBytes: number;
  httpPort: number;
}

type Prefixed<P extends string, S> = { [K in keyof S & string as `${P}_${K}`]: S[K] };

function consumerServiceFields(prefix: string, d: ConsumerServiceDefaults) {
  const name = (key: string) => `${prefix}_${key}`;
  return {
    GROUP_ID: z.string().min(1).default(d.groupId),
    MAX_BATCH_MESSAGES: envInt(name('MAX_BATCH_MESSAGES'), 1, d.maxBatchMessages),
    FETCH_MAX_BYTES: envInt(name('FETCH_MAX_BYTES'), 65_536, d.fetchMaxBytes),
    PARTITIONS_CONCURRENCY: envInt(name('PARTITIONS_CONCURRENCY'), 1, 1),
    FROM_BEGINNING: envBool(name('FROM_BEGINNING'), true),
    // how long the group waits for a member that vanished (crash) before giving its partitions away
    SESSION_TIMEOUT_MS: envInt(name('SESSION_TIMEOUT_MS'), 6000, 30_000),
    RETRY_INITIAL_MS: envInt(name('RETRY_INITIAL_MS'), 10, 500),
    RETRY_MAX_MS: envInt(name('RETRY_MAX_MS'), 10, 30_000),
    // a chunk failing this long turns /health unhealthy and its retries into error logs
    UNHEALTHY_AFTER_MS: envInt(name('UNHEALTHY_AFTER_MS'), 1000, 120_000),
    HTTP_PORT: envInt(name('HTTP_PORT'), 0, d.httpPort),
    HTTP_HOST: z.string().default('0.0.0.0'),
  };
}

/**
 * The consumer-group, fetch, retry and HTTP settings of a Kafka consumer service, each named
 * `<prefix>_<SETTING>` (e.g. REPORT_LABELER_RETRY_MAX_MS).
 */
export function consumerServiceEnvShape<P extends string>(
  prefix: P,
  defaults: ConsumerServiceDefaults,
): Prefixed<P, ReturnType<typeof consumerServiceFields>> {
  const fields = consumerServiceFields(prefix, defaults);
  return Object.fromEntries(
    Object.entries(fields).map(([key, schema]) => [`${prefix}_${key}`, schema]),
  ) as Prefixed<P, typeof fields>;
}

type ConsumerServiceValues = z.infer<z.ZodObject<ReturnType<typeof consumerServiceFields>>>;

/** The validated values of consumerServiceEnvShape(prefix, ...). */
export type ConsumerServiceEnv<P extends string> = Prefixed<P, ConsumerServiceValues>;

/** The consumer settings of a service from its validated `<prefix>_*` variables. */
export function consumerSettingsFromEnv<P extends string>(
  env: ConsumerServiceEnv<P>,
  prefix: P,
  topics: string[],
): ChunkedConsumerSettings {
  const value = <K extends keyof ConsumerServiceValues>(key: K) =>
    (env as Record<string, unknown>)[`${prefix}_${key}`] as ConsumerServiceValues[K];
  return {
    groupId: value('GROUP_ID'),
    topics,
    fromBeginning: value('FROM_BEGINNING'),
    maxBatchMessages: value('MAX_BATCH_MESSAGES'),
    fetchMaxBytes: value('FETCH_MAX_BYTES'),
    partitionsConsumedConcurrently: value('PARTITIONS_CONCURRENCY'),
    retryInitialMs: value('RETRY_INITIAL_MS'),
    retryMaxMs: value('RETRY_MAX_MS'),
    sessionTimeoutMs: value('SESSION_TIMEOUT_MS'),
    unhealthyAfterMs: value('UNHEALTHY_AFTER_MS'),
  };
}
