import { z } from 'zod';
import { TARGET_METHODS } from '../shared/aals/index.ts';
import { loadConfig } from '../shared/config/env.ts';
import { kafkaEnvShape } from '../shared/kafka/config.ts';

const int = (name: string, min: number, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be an integer` })
    .int(`${name} must be an integer`)
    .min(min, `${name} must be at least ${min}`)
    .default(fallback);

const num = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .finite(`${name} must be a number`)
    .default(fallback);

const bool = (name: string, fallback: boolean) =>
  z
    .enum(['true', 'false'], { error: `${name} must be true or false` })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true');

export const EXECUTION_PROVIDERS = ['cuda', 'cpu'] as const;
export type ExecutionProviderName = (typeof EXECUTION_PROVIDERS)[number];

/** What to do with a class the report calls uncertain (PAPER.md: excluded by default). */
export const UNCERTAIN_POLICIES = ['skip', 'as-negative', 'as-positive'] as const;
export type UncertainPolicy = (typeof UNCERTAIN_POLICIES)[number];

/**
 * Environment of `harvester run pseudo-labeler`. Required: KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * DATABASE_URL; the teacher is TEACHER_MODEL_PATH (default models/teacher/teacher.onnx).
 */
export const pseudoLabelerEnvSchema = z.object({
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

  TEACHER_MODEL_PATH: z.string().min(1).default('models/teacher/teacher.onnx'),
  /** Recorded with every pseudo-label; default: "sha256-" + the first 12 hex digits of the file's hash. */
  TEACHER_MODEL_VERSION: z.string().min(1).optional(),
  TEACHER_EXECUTION_PROVIDERS: z
    .string()
    .default('cuda,cpu')
    .transform((v) =>
      v
        .split(',')
        .map((p) => p.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z.enum(EXECUTION_PROVIDERS, {
            error: `TEACHER_EXECUTION_PROVIDERS must list providers from: ${EXECUTION_PROVIDERS.join(', ')}`,
          }),
        )
        .min(1, 'TEACHER_EXECUTION_PROVIDERS must name at least one provider, e.g. cuda,cpu'),
    ),
  TEACHER_INTRA_OP_THREADS: int('TEACHER_INTRA_OP_THREADS', 0, 0),
  /** Follow models.released and hot-swap the teacher (teacher-swap.ts); off: the file above only. */
  TEACHER_HOT_SWAP: bool('TEACHER_HOT_SWAP', false),
  TEACHER_RELEASES_TOPIC: z.string().min(1).default('models.released'),
  /** Where verified released models are cached (default: the system temp folder). */
  MODEL_CACHE_DIR: z.string().min(1).optional(),
  /** Input side when the model's input shape is symbolic. */
  TEACHER_INPUT_SIZE: int('TEACHER_INPUT_SIZE', 16, 256),
  TEACHER_TARGET_METHOD: z
    .enum(TARGET_METHODS, { error: `TEACHER_TARGET_METHOD must be one of ${TARGET_METHODS.join(', ')}` })
    .default('aals'),
  AALS_T: num('AALS_T', 0.4),
  AALS_A0: num('AALS_A0', 4),
  AALS_EPS: num('AALS_EPS', 1e-6),

  PSEUDO_LABELER_GROUP_ID: z.string().min(1).default('pseudo-labeler'),
  PSEUDO_LABELER_DICOM_TOPIC: z.string().min(1).default('dicom.arrived'),
  PSEUDO_LABELER_LABELS_TOPIC: z.string().min(1).default('labels.report'),
  PSEUDO_LABELER_OUTPUT_TOPIC: z.string().min(1).default('labels.pseudo'),
  PSEUDO_LABELER_UNCERTAIN: z
    .enum(UNCERTAIN_POLICIES, {
      error: `PSEUDO_LABELER_UNCERTAIN must be one of ${UNCERTAIN_POLICIES.join(', ')}`,
    })
    .default('skip'),
  /** Label from preliminary (P) reports too; by default images wait for the final report. */
  PSEUDO_LABELER_ACCEPT_PROVISIONAL: bool('PSEUDO_LABELER_ACCEPT_PROVISIONAL', false),
  PSEUDO_LABELER_INFERENCE_BATCH_SIZE: int('PSEUDO_LABELER_INFERENCE_BATCH_SIZE', 1, 8),
  PSEUDO_LABELER_INFERENCE_MAX_WAIT_MS: int('PSEUDO_LABELER_INFERENCE_MAX_WAIT_MS', 0, 20),
  /** Images decoded or waiting for inference above which the consumer pauses (resumes at half). */
  PSEUDO_LABELER_MAX_QUEUE: int('PSEUDO_LABELER_MAX_QUEUE', 1, 64),
  PSEUDO_LABELER_DECODE_CONCURRENCY: int('PSEUDO_LABELER_DECODE_CONCURRENCY', 1, 2),
  PSEUDO_LABELER_MAX_DICOM_BYTES: int('PSEUDO_LABELER_MAX_DICOM_BYTES', 1024, 268_435_456),
  PSEUDO_LABELER_MAX_BATCH_MESSAGES: int('PSEUDO_LABELER_MAX_BATCH_MESSAGES', 1, 200),
  PSEUDO_LABELER_FETCH_MAX_BYTES: int('PSEUDO_LABELER_FETCH_MAX_BYTES', 65_536, 1_048_576),
  PSEUDO_LABELER_PARTITIONS_CONCURRENCY: int('PSEUDO_LABELER_PARTITIONS_CONCURRENCY', 1, 1),
  PSEUDO_LABELER_FROM_BEGINNING: bool('PSEUDO_LABELER_FROM_BEGINNING', true),
  PSEUDO_LABELER_SESSION_TIMEOUT_MS: int('PSEUDO_LABELER_SESSION_TIMEOUT_MS', 6000, 30_000),
  PSEUDO_LABELER_RETRY_INITIAL_MS: int('PSEUDO_LABELER_RETRY_INITIAL_MS', 10, 500),
  PSEUDO_LABELER_RETRY_MAX_MS: int('PSEUDO_LABELER_RETRY_MAX_MS', 10, 30_000),
  PSEUDO_LABELER_HTTP_PORT: int('PSEUDO_LABELER_HTTP_PORT', 0, 9465),
  PSEUDO_LABELER_HTTP_HOST: z.string().default('0.0.0.0'),
});

export type PseudoLabelerConfig = z.infer<typeof pseudoLabelerEnvSchema>;

export function loadPseudoLabelerConfig(env: NodeJS.ProcessEnv = process.env): PseudoLabelerConfig {
  return loadConfig(pseudoLabelerEnvSchema, env);
}
