import { z } from 'zod';
import { loadConfig } from '../shared/config/env.ts';
import { kafkaEnvShape } from '../shared/kafka/config.ts';
import { MIN_HMAC_KEY_BYTES } from '../shared/privacy/pseudonymise.ts';

const int = (name: string, min: number, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be an integer` })
    .int(`${name} must be an integer`)
    .min(min, `${name} must be at least ${min}`)
    .default(fallback);

const bool = (name: string, fallback: boolean) =>
  z
    .enum(['true', 'false'], { error: `${name} must be true or false` })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true');

/**
 * Environment of `harvester run report-labeler`. Required: KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * DATABASE_URL, PATIENT_ID_HMAC_KEY (at least 32 bytes; the service refuses to start without it,
 * because storing raw patient ids is not an option). Everything else has a default.
 */
export const reportLabelerEnvSchema = z.object({
  ...kafkaEnvShape,
  SCHEMA_REGISTRY_URL: z
    .string({ error: 'set SCHEMA_REGISTRY_URL to the Confluent-compatible registry URL' })
    .url('SCHEMA_REGISTRY_URL must be a URL, e.g. http://localhost:8080/apis/ccompat/v7'),
  SCHEMA_REGISTRY_USERNAME: z.string().optional(),
  SCHEMA_REGISTRY_PASSWORD: z.string().optional(),
  DATABASE_URL: z
    .string({ error: 'set DATABASE_URL to a postgres:// connection string' })
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// connection string'),
  DATABASE_POOL_SIZE: int('DATABASE_POOL_SIZE', 1, 4),
  PATIENT_ID_HMAC_KEY: z
    .string({
      error: `set PATIENT_ID_HMAC_KEY to a secret of at least ${MIN_HMAC_KEY_BYTES} bytes (e.g. openssl rand -hex 32); patient ids are pseudonymised with it`,
    })
    .refine((v) => Buffer.byteLength(v, 'utf8') >= MIN_HMAC_KEY_BYTES, {
      message: `PATIENT_ID_HMAC_KEY must be at least ${MIN_HMAC_KEY_BYTES} bytes (e.g. openssl rand -hex 32)`,
    }),
  REPORT_LABELER_GROUP_ID: z.string().min(1).default('report-labeler'),
  REPORT_LABELER_INPUT_TOPIC: z.string().min(1).default('hl7.oru.raw'),
  REPORT_LABELER_OUTPUT_TOPIC: z.string().min(1).default('labels.report'),
  REPORT_LABELER_MAX_MESSAGE_BYTES: int('REPORT_LABELER_MAX_MESSAGE_BYTES', 1024, 1_048_576),
  REPORT_LABELER_MAX_REPORT_CHARS: int('REPORT_LABELER_MAX_REPORT_CHARS', 256, 16_384),
  REPORT_LABELER_MAX_BATCH_MESSAGES: int('REPORT_LABELER_MAX_BATCH_MESSAGES', 1, 2000),
  REPORT_LABELER_FETCH_MAX_BYTES: int('REPORT_LABELER_FETCH_MAX_BYTES', 65_536, 8_388_608),
  REPORT_LABELER_PARTITIONS_CONCURRENCY: int('REPORT_LABELER_PARTITIONS_CONCURRENCY', 1, 1),
  REPORT_LABELER_FROM_BEGINNING: bool('REPORT_LABELER_FROM_BEGINNING', true),
  // create the input, output and DLQ topics at start when missing (brokers here do not auto-create)
  REPORT_LABELER_ENSURE_TOPICS: bool('REPORT_LABELER_ENSURE_TOPICS', true),
  REPORT_LABELER_TOPIC_PARTITIONS: int('REPORT_LABELER_TOPIC_PARTITIONS', 1, 6),
  // how long the group waits for a member that vanished (crash) before giving its partitions away
  REPORT_LABELER_SESSION_TIMEOUT_MS: int('REPORT_LABELER_SESSION_TIMEOUT_MS', 6000, 30_000),
  REPORT_LABELER_RETRY_INITIAL_MS: int('REPORT_LABELER_RETRY_INITIAL_MS', 10, 500),
  REPORT_LABELER_RETRY_MAX_MS: int('REPORT_LABELER_RETRY_MAX_MS', 10, 30_000),
  REPORT_LABELER_HTTP_PORT: int('REPORT_LABELER_HTTP_PORT', 0, 9464),
  REPORT_LABELER_HTTP_HOST: z.string().default('0.0.0.0'),
});

export type ReportLabelerConfig = z.infer<typeof reportLabelerEnvSchema>;

export function loadReportLabelerConfig(env: NodeJS.ProcessEnv = process.env): ReportLabelerConfig {
  return loadConfig(reportLabelerEnvSchema, env);
}
