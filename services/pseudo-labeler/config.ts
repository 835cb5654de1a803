import { z } from 'zod';
import { TARGET_METHODS } from '../shared/aals/index.ts';
import {
  consumerServiceEnvShape,
  databaseEnvShape,
  databasePoolEnvShape,
  envBool,
  envInt,
  envNumber,
  schemaRegistryEnvShape,
} from '../shared/config/common-env.ts';
import { loadConfig } from '../shared/config/env.ts';
import { kafkaEnvShape } from '../shared/kafka/config.ts';
import { dlqTopicFor } from '../shared/kafka/dlq.ts';
import {
  topicProvisioningEnvShape,
  withTopicDefaults,
  type ServiceTopic,
} from '../shared/kafka/system-topics.ts';
import { trainingStoreEnvShape } from '../shared/training-store/training-store.ts';
import type { ProcessorSettings } from './batch-processor.ts';
import { UNCERTAIN_POLICIES } from './join-decision.ts';
import { executionProvidersEnv } from '../shared/onnx/execution-providers.ts';

/**
 * Environment of `harvester run pseudo-labeler`. Required: KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * DATABASE_URL; the teacher is TEACHER_MODEL_PATH (default models/teacher/teacher.onnx).
 */
export const pseudoLabelerEnvSchema = z.object({
  ...kafkaEnvShape,
  ...topicProvisioningEnvShape,
  ...schemaRegistryEnvShape,
  ...databaseEnvShape,
  ...databasePoolEnvShape,

  ...trainingStoreEnvShape,
  TEACHER_MODEL_PATH: z.string().min(1).default('models/teacher/teacher.onnx'),
  /** Recorded with every pseudo-label; default: "sha256-" + the first 12 hex digits of the file's hash. */
  TEACHER_MODEL_VERSION: z.string().min(1).optional(),
  TEACHER_EXECUTION_PROVIDERS: executionProvidersEnv('TEACHER_EXECUTION_PROVIDERS'),
  TEACHER_INTRA_OP_THREADS: envInt('TEACHER_INTRA_OP_THREADS', 0, 0),
  /** Follow models.released and hot-swap the teacher (teacher-swap.ts); off: the file above only. */
  TEACHER_HOT_SWAP: envBool('TEACHER_HOT_SWAP', false),
  TEACHER_RELEASES_TOPIC: z.string().min(1).default('models.released'),
  /** Where verified released models are cached (default: the system temp folder). */
  MODEL_CACHE_DIR: z.string().min(1).optional(),
  /** Input side when the model's input shape is symbolic. */
  TEACHER_INPUT_SIZE: envInt('TEACHER_INPUT_SIZE', 16, 256),
  TEACHER_TARGET_METHOD: z
    .enum(TARGET_METHODS, { error: `TEACHER_TARGET_METHOD must be one of ${TARGET_METHODS.join(', ')}` })
    .default('aals'),
  AALS_T: envNumber('AALS_T', 0.4),
  AALS_A0: envNumber('AALS_A0', 4),
  AALS_EPS: envNumber('AALS_EPS', 1e-6),

  ...consumerServiceEnvShape('PSEUDO_LABELER', {
    groupId: 'pseudo-labeler',
    maxBatchMessages: 200,
    fetchMaxBytes: 1_048_576,
    httpPort: 9465,
  }),
  PSEUDO_LABELER_DICOM_TOPIC: z.string().min(1).default('dicom.arrived'),
  PSEUDO_LABELER_LABELS_TOPIC: z.string().min(1).default('labels.report'),
  PSEUDO_LABELER_OUTPUT_TOPIC: z.string().min(1).default('labels.pseudo'),
  PSEUDO_LABELER_UNCERTAIN: z
    .enum(UNCERTAIN_POLICIES, {
      error: `PSEUDO_LABELER_UNCERTAIN must be one of ${UNCERTAIN_POLICIES.join(', ')}`,
    })
    .default('skip'),
  /** Label from preliminary (P) reports too; by default images wait for the final report. */
  PSEUDO_LABELER_ACCEPT_PROVISIONAL: envBool('PSEUDO_LABELER_ACCEPT_PROVISIONAL', false),
  PSEUDO_LABELER_INFERENCE_BATCH_SIZE: envInt('PSEUDO_LABELER_INFERENCE_BATCH_SIZE', 1, 8),
  PSEUDO_LABELER_INFERENCE_MAX_WAIT_MS: envInt('PSEUDO_LABELER_INFERENCE_MAX_WAIT_MS', 0, 20),
  /** Images decoded or waiting for inference above which the consumer pauses (resumes at half). */
  PSEUDO_LABELER_MAX_QUEUE: envInt('PSEUDO_LABELER_MAX_QUEUE', 1, 64),
  PSEUDO_LABELER_DECODE_CONCURRENCY: envInt('PSEUDO_LABELER_DECODE_CONCURRENCY', 1, 2),
  PSEUDO_LABELER_MAX_DICOM_BYTES: envInt('PSEUDO_LABELER_MAX_DICOM_BYTES', 1024, 268_435_456),
});

export type PseudoLabelerConfig = z.infer<typeof pseudoLabelerEnvSchema>;

export function loadPseudoLabelerConfig(env: NodeJS.ProcessEnv = process.env): PseudoLabelerConfig {
  return loadConfig(pseudoLabelerEnvSchema, withTopicDefaults(env));
}

/** The topics the pseudo-labeler reads and writes (ensured at start-up). */
export function pseudoLabelerTopics(config: PseudoLabelerConfig): ServiceTopic[] {
  const topics: ServiceTopic[] = [
    { id: 'dicom.arrived', name: config.PSEUDO_LABELER_DICOM_TOPIC },
    { id: 'labels.report', name: config.PSEUDO_LABELER_LABELS_TOPIC },
    { id: 'dicom.arrived.dlq', name: dlqTopicFor(config.PSEUDO_LABELER_DICOM_TOPIC) },
    { id: 'labels.report.dlq', name: dlqTopicFor(config.PSEUDO_LABELER_LABELS_TOPIC) },
    { id: 'labels.pseudo', name: config.PSEUDO_LABELER_OUTPUT_TOPIC },
  ];
  if (config.TEACHER_HOT_SWAP) topics.push({ id: 'models.released', name: config.TEACHER_RELEASES_TOPIC });
  return topics;
}

/** The processor's settings as the service and `harvester relabel` both derive them from config. */
export function processorSettingsFromConfig(config: PseudoLabelerConfig): ProcessorSettings {
  return {
    dicomTopic: config.PSEUDO_LABELER_DICOM_TOPIC,
    labelsTopic: config.PSEUDO_LABELER_LABELS_TOPIC,
    outputTopic: config.PSEUDO_LABELER_OUTPUT_TOPIC,
    policy: {
      uncertain: config.PSEUDO_LABELER_UNCERTAIN,
      acceptProvisional: config.PSEUDO_LABELER_ACCEPT_PROVISIONAL,
    },
    targetMethod: config.TEACHER_TARGET_METHOD,
    aals: { t: config.AALS_T, a0: config.AALS_A0, eps: config.AALS_EPS },
    maxQueue: config.PSEUDO_LABELER_MAX_QUEUE,
    decodeConcurrency: config.PSEUDO_LABELER_DECODE_CONCURRENCY,
  };
}
