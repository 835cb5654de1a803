import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ExpectedError } from '../errors.ts';

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

/** A start-up problem an operator fixes: its message names what to set (printed as one line). */
function configProblem(message: string, cause?: unknown): Error {
  return new ExpectedError(message, { cause });
}

/** A PEM file named by `variable`, read once at start-up; an unreadable one says which variable. */
function readPem(variable: string, file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw configProblem(
      `${variable}=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ` +
        `set ${variable} to a readable PEM file`,
      err,
    );
  }
}

/**
 * Builds the connection config from validated env; certificate files are read here, once. The
 * combinations a broker would only refuse later (a client certificate without its key, SASL
 * credentials without a mechanism) are refused here, naming what to set.
 */
export function kafkaConnectionFromEnv(env: KafkaEnv): KafkaConnectionConfig {
  const brokers = env.KAFKA_BROKERS.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const config: KafkaConnectionConfig = { brokers, clientId: env.KAFKA_CLIENT_ID };
  if (!env.KAFKA_SSL_CERT_FILE !== !env.KAFKA_SSL_KEY_FILE) {
    throw configProblem(
      'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (a client certificate and its key): set both or neither',
    );
  }
  const files = {
    ca: readPem('KAFKA_SSL_CA_FILE', env.KAFKA_SSL_CA_FILE),
    cert: readPem('KAFKA_SSL_CERT_FILE', env.KAFKA_SSL_CERT_FILE),
    key: readPem('KAFKA_SSL_KEY_FILE', env.KAFKA_SSL_KEY_FILE),
  };
  if (env.KAFKA_SSL || files.ca || files.cert) {
    config.ssl = files.ca || files.cert ? files : true;
  }
  if (env.KAFKA_SASL_MECHANISM) {
    if (!env.KAFKA_SASL_USERNAME || env.KAFKA_SASL_PASSWORD === undefined) {
      throw configProblem(
        `KAFKA_SASL_MECHANISM=${env.KAFKA_SASL_MECHANISM} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`,
      );
    }
    config.sasl = {
      mechanism: env.KAFKA_SASL_MECHANISM,
      username: env.KAFKA_SASL_USERNAME,
      password: env.KAFKA_SASL_PASSWORD,
    };
  } else if (env.KAFKA_SASL_USERNAME || env.KAFKA_SASL_PASSWORD !== undefined) {
    throw configProblem(
      'KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set without KAFKA_SASL_MECHANISM: set it to scram-sha-512, scram-sha-256 or plain',
    );
  }
  return config;
}
