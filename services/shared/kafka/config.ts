import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Environment variables every Kafka-using service reads (merge into the service's own schema). */
export const kafkaEnvShape = {
  KAFKA_BROKERS: z
    .string({ error: 'set KAFKA_BROKERS to a comma-separated list of host:port bootstrap brokers' })
    .min(1, 'set KAFKA_BROKERS to a comma-separated list of host:port bootstrap brokers'),
  KAFKA_CLIENT_ID: z.string().default('fracture-harvester'),
  KAFKA_SSL: z
    .enum(['true', 'false'], { error: 'KAFKA_SSL must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  KAFKA_SSL_CA_FILE: z.string().optional(),
  KAFKA_SSL_CERT_FILE: z.string().optional(),
  KAFKA_SSL_KEY_FILE: z.string().optional(),
  KAFKA_SASL_MECHANISM: z
    .enum(['scram-sha-256', 'scram-sha-512', 'plain'], {
      error: 'KAFKA_SASL_MECHANISM must be scram-sha-256, scram-sha-512 or plain',
    })
    .optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
};

export const kafkaEnvSchema = z.object(kafkaEnvShape);
export type KafkaEnv = z.infer<typeof kafkaEnvSchema>;

export interface KafkaConnectionConfig {
  brokers: string[];
  clientId: string;
  ssl?: { ca?: string; cert?: string; key?: string } | true;
  sasl?: { mechanism: 'scram-sha-256' | 'scram-sha-512' | 'plain'; username: string; password: string };
}

/** Builds the connection config from validated env; certificate files are read here, once. */
export function kafkaConnectionFromEnv(env: KafkaEnv): KafkaConnectionConfig {
  const brokers = env.KAFKA_BROKERS.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const config: KafkaConnectionConfig = { brokers, clientId: env.KAFKA_CLIENT_ID };
  const files = {
    ca: env.KAFKA_SSL_CA_FILE,
    cert: env.KAFKA_SSL_CERT_FILE,
    key: env.KAFKA_SSL_KEY_FILE,
  };
  if (env.KAFKA_SSL || files.ca || files.cert || files.key) {
    const read = (f: string | undefined) => (f ? readFileSync(f, 'utf8') : undefined);
    config.ssl =
      files.ca || files.cert || files.key
        ? { ca: read(files.ca), cert: read(files.cert), key: read(files.key) }
        : true;
  }
  if (env.KAFKA_SASL_MECHANISM) {
    if (!env.KAFKA_SASL_USERNAME || env.KAFKA_SASL_PASSWORD === undefined) {
      const err = new Error(
        `KAFKA_SASL_MECHANISM=${env.KAFKA_SASL_MECHANISM} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`,
      );
      (err as Error & { expected: boolean }).expected = true;
      throw err;
    }
    config.sasl = {
      mechanism: env.KAFKA_SASL_MECHANISM,
      username: env.KAFKA_SASL_USERNAME,
      password: env.KAFKA_SASL_PASSWORD,
    };
  }
  return config;
}
