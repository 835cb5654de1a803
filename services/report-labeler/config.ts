import { z } from 'zod';
import {
  consumerServiceEnvShape,
  databaseEnvShape,
  databasePoolEnvShape,
  envInt,
  patientIdKeyEnvShape,
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

/**
 * Environment of `harvester run report-labeler`. Required: KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * DATABASE_URL, PATIENT_ID_HMAC_KEY (at least 32 bytes; the service refuses to start without it,
 * because storing raw patient ids is not an option). Everything else has a default.
 */
export const reportLabelerEnvSchema = z.object({
  ...kafkaEnvShape,
  ...topicProvisioningEnvShape,
  ...schemaRegistryEnvShape,
  ...databaseEnvShape,
  ...databasePoolEnvShape,
  ...patientIdKeyEnvShape,
  ...consumerServiceEnvShape('REPORT_LABELER', {
    groupId: 'report-labeler',
    maxBatchMessages: 2000,
    fetchMaxBytes: 8_388_608,
    httpPort: 9464,
  }),
  REPORT_LABELER_INPUT_TOPIC: z.string().min(1).default('hl7.oru.raw'),
  REPORT_LABELER_OUTPUT_TOPIC: z.string().min(1).default('labels.report'),
  REPORT_LABELER_MAX_MESSAGE_BYTES: envInt('REPORT_LABELER_MAX_MESSAGE_BYTES', 1024, 1_048_576),
  REPORT_LABELER_MAX_REPORT_CHARS: envInt('REPORT_LABELER_MAX_REPORT_CHARS', 256, 16_384),
});

export type ReportLabelerConfig = z.infer<typeof reportLabelerEnvSchema>;

export function loadReportLabelerConfig(env: NodeJS.ProcessEnv = process.env): ReportLabelerConfig {
  return loadConfig(reportLabelerEnvSchema, withTopicDefaults(env));
}

/** The topics the report-labeler reads and writes (ensured at start-up). */
export function reportLabelerTopics(config: ReportLabelerConfig): ServiceTopic[] {
  return [
    { id: 'hl7.oru.raw', name: config.REPORT_LABELER_INPUT_TOPIC },
    { id: 'hl7.oru.raw.dlq', name: dlqTopicFor(config.REPORT_LABELER_INPUT_TOPIC) },
    { id: 'labels.report', name: config.REPORT_LABELER_OUTPUT_TOPIC },
  ];
}
