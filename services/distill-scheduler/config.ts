import { z } from 'zod';
import { databaseEnvShape, envInt, schemaRegistryEnvShape } from '../shared/config/common-env.ts';
import { loadConfig } from '../shared/config/env.ts';
import { kafkaEnvShape } from '../shared/kafka/config.ts';
import {
  topicProvisioningEnvShape,
  withTopicDefaults,
  type ServiceTopic,
} from '../shared/kafka/system-topics.ts';

const hours = (name: string) =>
  z.coerce.number({ error: `${name} must be a number of hours` }).min(0, `${name} must be >= 0`);

/** The recipe passed to every job: DISTILL_RECIPE_* variables, e.g. DISTILL_RECIPE_EPOCHS=20. */
export function recipeFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const recipe: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('DISTILL_RECIPE_') && v !== undefined && v !== '') {
      recipe[k.slice('DISTILL_RECIPE_'.length).toLowerCase().replace(/_/g, '-')] = v;
    }
  }
  return recipe;
}

/**
 * Environment of `harvester run distill-scheduler`. Required: KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * DATABASE_URL.
 */
export const distillSchedulerEnvSchema = z
  .object({
    ...kafkaEnvShape,
    ...topicProvisioningEnvShape,
    ...schemaRegistryEnvShape,
    ...databaseEnvShape,
    DISTILL_JOBS_TOPIC: z.string().min(1).default('distill.jobs'),
    /** New pseudo-labels of one class since the last job that trigger a distillation. */
    DISTILL_MIN_NEW_LABELS: envInt('DISTILL_MIN_NEW_LABELS', 1, 1000),
    /** At most one job per this many hours (0: no limit). */
    DISTILL_MIN_INTERVAL_HOURS: hours('DISTILL_MIN_INTERVAL_HOURS').default(0),
    /** At least one job per this many hours when anything is new (unset: volume only). */
    DISTILL_MAX_INTERVAL_HOURS: hours('DISTILL_MAX_INTERVAL_HOURS')
      .refine((v) => v > 0, 'DISTILL_MAX_INTERVAL_HOURS must be > 0 (or unset)')
      .optional(),
    DISTILL_MAX_ATTEMPTS: envInt('DISTILL_MAX_ATTEMPTS', 1, 3),
    /** A running job whose worker has not heartbeat for this long is retried or failed. */
    DISTILL_LEASE_SECONDS: envInt('DISTILL_LEASE_SECONDS', 5, 300),
    /** A published request no worker claimed for this long is published again. */
    DISTILL_CLAIM_TIMEOUT_SECONDS: envInt('DISTILL_CLAIM_TIMEOUT_SECONDS', 5, 900),
    DISTILL_SCHEDULER_POLL_SECONDS: z.coerce
      .number({ error: 'DISTILL_SCHEDULER_POLL_SECONDS must be a number' })
      .positive('DISTILL_SCHEDULER_POLL_SECONDS must be > 0')
      .default(60),
  })
  .refine(
    (c) =>
      c.DISTILL_MAX_INTERVAL_HOURS === undefined ||
      c.DISTILL_MAX_INTERVAL_HOURS >= c.DISTILL_MIN_INTERVAL_HOURS,
    {
      message: 'DISTILL_MAX_INTERVAL_HOURS must not be below DISTILL_MIN_INTERVAL_HOURS',
      path: ['DISTILL_MAX_INTERVAL_HOURS'],
    },
  );

export type DistillSchedulerConfig = z.infer<typeof distillSchedulerEnvSchema> & {
  recipe: Record<string, string>;
};

export function loadDistillSchedulerConfig(env: NodeJS.ProcessEnv = process.env): DistillSchedulerConfig {
  return { ...loadConfig(distillSchedulerEnvSchema, withTopicDefaults(env)), recipe: recipeFromEnv(env) };
}

/** The topics this service reads and writes (ensured at start-up). */
export function distillSchedulerTopics(config: DistillSchedulerConfig): ServiceTopic[] {
  return [{ id: 'distill.jobs', name: config.DISTILL_JOBS_TOPIC }];
}
