import { z } from 'zod';
import { databaseEnvShape, envInt, schemaRegistryEnvShape } from '../shared/config/common-env.ts';
import { loadConfig } from '../shared/config/env.ts';
import { kafkaEnvShape } from '../shared/kafka/config.ts';
import { executionProvidersEnv } from '../pseudo-labeler/config.ts';

const nonNegative = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .min(0, `${name} must be >= 0`)
    .default(fallback);

/**
 * Environment of `harvester run distill-worker`. Required: KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * DATABASE_URL and DISTILL_PREPARED_DIR (the prepared cohort the student trains on; its
 * region-test split is the gate's held-out set unless PROMOTION_HELD_OUT_DIR says otherwise).
 */
export const distillWorkerEnvSchema = z.object({
  ...kafkaEnvShape,
  ...schemaRegistryEnvShape,
  ...databaseEnvShape,
  /** The URL the distiller itself connects with (default DATABASE_URL); in Kubernetes `$(DATABASE_URL)`. */
  DISTILLER_DATABASE_URL: z.string().min(1).optional(),
  DISTILL_JOBS_TOPIC: z.string().min(1).default('distill.jobs'),
  MODELS_RELEASED_TOPIC: z.string().min(1).default('models.released'),
  DISTILL_WORKER_GROUP_ID: z.string().min(1).default('distill-worker'),
  DISTILL_RUNNER: z
    .enum(['local', 'kubernetes'], { error: 'DISTILL_RUNNER must be local or kubernetes' })
    .default('local'),
  DISTILL_PREPARED_DIR: z
    .string({ error: 'set DISTILL_PREPARED_DIR to a prepared cohort (harvester prepare) to train on' })
    .min(1, 'set DISTILL_PREPARED_DIR to a prepared cohort (harvester prepare) to train on'),
  DISTILL_WORK_DIR: z.string().min(1).default('var/distill'),
  DISTILLER_PYTHON: z.string().min(1).default('/usr/bin/python3'),
  DISTILL_HEARTBEAT_SECONDS: envInt('DISTILL_HEARTBEAT_SECONDS', 1, 10),
  DISTILL_MAX_ATTEMPTS: envInt('DISTILL_MAX_ATTEMPTS', 1, 3),
  PROMOTION_CLASSES: z
    .string()
    .default('rib,clavicle')
    .transform((v) =>
      v
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.enum(['rib', 'clavicle'], { error: 'PROMOTION_CLASSES must list rib and/or clavicle' }))
        .min(1),
    ),
  /** Largest drop of any gated metric (AUROC, FROC score, per class) still accepted. */
  PROMOTION_MARGIN: nonNegative('PROMOTION_MARGIN', 0.01),
  /** At least one gated metric must improve by more than this. */
  PROMOTION_MIN_IMPROVEMENT: nonNegative('PROMOTION_MIN_IMPROVEMENT', 0),
  PROMOTION_HELD_OUT_DIR: z.string().min(1).optional(),
  PROMOTION_HELD_OUT_SPLIT: z.string().min(1).default('region-test'),
  PROMOTION_EXECUTION_PROVIDERS: executionProvidersEnv('PROMOTION_EXECUTION_PROVIDERS'),
  MODEL_CACHE_DIR: z.string().min(1).optional(),
  K8S_NAMESPACE: z.string().min(1).default('fracture-harvester'),
  K8S_JOB_TEMPLATE: z.string().min(1).default('deploy/k8s/distill-job.yaml'),
  K8S_IMAGE: z.string().min(1).optional(),
  K8S_GPUS: envInt('K8S_GPUS', 0, 1),
  K8S_POLL_SECONDS: envInt('K8S_POLL_SECONDS', 1, 15),
});

export type DistillWorkerConfig = z.infer<typeof distillWorkerEnvSchema>;

export function loadDistillWorkerConfig(env: NodeJS.ProcessEnv = process.env): DistillWorkerConfig {
  return loadConfig(distillWorkerEnvSchema, env);
}
