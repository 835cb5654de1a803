import { z } from 'zod';
import { databaseEnvShape, envInt, schemaRegistryEnvShape } from '../shared/config/common-env.ts';
import { loadConfig } from '../shared/config/env.ts';
import { kafkaEnvShape } from '../shared/kafka/config.ts';
import {
  topicProvisioningEnvShape,
  withTopicDefaults,
  type ServiceTopic,
} from '../shared/kafka/system-topics.ts';
import { executionProvidersEnv } from '../shared/onnx/execution-providers.ts';
import { trainingStoreEnvShape } from '../shared/training-store/training-store.ts';

const nonNegative = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .min(0, `${name} must be >= 0`)
    .default(fallback);

/**
 * Environment of `harvester run distill-worker`. Required: KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * DATABASE_URL. The student trains on what the system harvested (the database and the training
 * store at TRAINING_STORE_URL); the gate evaluates on the region-test split of the expert-reviewed
 * images there. DISTILL_PREPARED_DIR / PROMOTION_HELD_OUT_DIR name a prepared cohort folder
 * instead (offline experiments).
 */
export const distillWorkerEnvSchema = z.object({
  ...kafkaEnvShape,
  ...topicProvisioningEnvShape,
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
  ...trainingStoreEnvShape,
  /** The store URL the distiller itself reads (default TRAINING_STORE_URL); in Kubernetes its mount. */
  DISTILLER_TRAINING_STORE_URL: z.string().min(1).optional(),
  /** A prepared cohort (harvester prepare) to train on instead of the database (offline runs). */
  DISTILL_PREPARED_DIR: z.string().min(1).optional(),
  /** How often candidates whose gate decision is still pending (no test split yet, a crash) are retried. */
  DISTILL_GATE_RETRY_SECONDS: envInt('DISTILL_GATE_RETRY_SECONDS', 1, 60),
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
  return loadConfig(distillWorkerEnvSchema, withTopicDefaults(env));
}

/** The topics this service reads and writes (ensured at start-up). */
export function distillWorkerTopics(config: DistillWorkerConfig): ServiceTopic[] {
  return [
    { id: 'distill.jobs', name: config.DISTILL_JOBS_TOPIC },
    { id: 'models.released', name: config.MODELS_RELEASED_TOPIC },
  ];
}
