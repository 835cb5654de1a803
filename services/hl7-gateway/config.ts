import { z } from 'zod';
import { envInt } from '../shared/config/common-env.ts';
import { loadConfig } from '../shared/config/env.ts';
import { kafkaEnvShape } from '../shared/kafka/config.ts';
import { topicProvisioningEnvShape, withTopicDefaults } from '../shared/kafka/system-topics.ts';

/**
 * Environment of `harvester run hl7-gateway`. Required: KAFKA_BROKERS. The gateway needs no
 * database and no schema registry: it publishes the raw HL7 bytes.
 */
export const hl7GatewayEnvSchema = z.object({
  ...kafkaEnvShape,
  ...topicProvisioningEnvShape,
  HL7_GATEWAY_PORT: envInt('HL7_GATEWAY_PORT', 0, 2575),
  HL7_GATEWAY_HOST: z.string().default('0.0.0.0'),
  HL7_GATEWAY_TOPIC: z.string().min(1).default('hl7.oru.raw'),
  /** MSH-9 types accepted, comma-separated; `ORU` alone accepts every ORU event. */
  HL7_GATEWAY_ACCEPTED_TYPES: z
    .string()
    .min(1, 'HL7_GATEWAY_ACCEPTED_TYPES must list at least one type, e.g. ORU^R01')
    .default('ORU^R01'),
  HL7_GATEWAY_MAX_MESSAGE_BYTES: envInt('HL7_GATEWAY_MAX_MESSAGE_BYTES', 1024, 1_048_576),
  /** Peers allowed to connect: IP addresses and CIDR subnets, comma-separated; empty = any. */
  HL7_GATEWAY_ALLOWED_PEERS: z.string().default(''),
  HL7_GATEWAY_MAX_CONNECTIONS: envInt('HL7_GATEWAY_MAX_CONNECTIONS', 1, 256),
  /** Connections silent this long are closed (0: never). */
  HL7_GATEWAY_IDLE_TIMEOUT_MS: envInt('HL7_GATEWAY_IDLE_TIMEOUT_MS', 0, 600_000),
  /** A publish not acknowledged by Kafka within this is given up: no ACK, the connection closes. */
  HL7_GATEWAY_PUBLISH_TIMEOUT_MS: envInt('HL7_GATEWAY_PUBLISH_TIMEOUT_MS', 100, 15_000),
  HL7_GATEWAY_TLS_CERT_FILE: z.string().optional(),
  HL7_GATEWAY_TLS_KEY_FILE: z.string().optional(),
  HL7_GATEWAY_TLS_CA_FILE: z.string().optional(),
  HL7_GATEWAY_HTTP_PORT: envInt('HL7_GATEWAY_HTTP_PORT', 0, 9470),
  HL7_GATEWAY_HTTP_HOST: z.string().default('0.0.0.0'),
});

export type Hl7GatewayConfig = z.infer<typeof hl7GatewayEnvSchema>;

export function loadHl7GatewayConfig(env: NodeJS.ProcessEnv = process.env): Hl7GatewayConfig {
  return loadConfig(hl7GatewayEnvSchema, withTopicDefaults(env));
}
