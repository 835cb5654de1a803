import type { Server } from 'node:http';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { createPool } from '../db/pool.ts';
import { schemaRegistryFromEnv } from '../events/registry.ts';
import { createKafka } from '../kafka/client.ts';
import { kafkaConnectionFromEnv, type KafkaEnv } from '../kafka/config.ts';
import type { Logger } from '../observability/logger.ts';

/** The validated variables a consumer service connects with (see shared/config/common-env.ts). */
export type ServiceConnectionEnv = KafkaEnv & {
  SCHEMA_REGISTRY_URL: string;
  SCHEMA_REGISTRY_USERNAME?: string;
  SCHEMA_REGISTRY_PASSWORD?: string;
  DATABASE_URL: string;
  DATABASE_POOL_SIZE: number;
};

export interface ServiceConnections {
  pool: pg.Pool;
  /** Whether the pool was opened here (and is the service's to end) rather than handed in. */
  ownPool: boolean;
  kafka: Kafka;
  registry: SchemaRegistry;
}

/**
 * The database pool (the given one, e.g. a test's, or one from DATABASE_URL named after the
 * service in pg_stat_activity), the Kafka client and the schema registry client of a service.
 */
export function openServiceConnections(
  config: ServiceConnectionEnv,
  applicationName: string,
  logger: Logger,
  givenPool?: pg.Pool,
): ServiceConnections {
  const pool =
    givenPool ??
    createPool(
      {
        url: config.DATABASE_URL,
        maxConnections: config.DATABASE_POOL_SIZE,
        applicationName,
      },
      (err) => logger.warn({ err: err.message }, 'idle database connection failed'),
    );
  const kafka = createKafka(kafkaConnectionFromEnv(config), logger);
  const registry = schemaRegistryFromEnv(config);
  return { pool, ownPool: !givenPool, kafka, registry };
}

/** The port a started server listens on (the configured one may be 0: any free port). */
export function listeningPort(server: Server, configured: number): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : configured;
}
