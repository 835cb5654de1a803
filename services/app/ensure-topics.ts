/**
 * Use case: every topic of the system made sure of on the broker (and, with `acls`, the grants
 * the topic catalog implies written), for `harvester topics ensure` and `harvester up`.
 */
import { z } from 'zod';
import { loadConfig } from '../shared/config/env.ts';
import { createKafka } from '../shared/kafka/client.ts';
import { kafkaConnectionFromEnv, kafkaEnvShape } from '../shared/kafka/config.ts';
import {
  resolveSystemTopics,
  topicProvisioningEnvShape,
  withTopicDefaults,
  type ResolvedTopic,
} from '../shared/kafka/system-topics.ts';
import { aclGrants, type AclGrant } from '../shared/kafka/topic-access.ts';
import { createLogger } from '../shared/observability/logger.ts';
import kafkajs, { type Admin } from 'kafkajs';
import { ExpectedError } from '../shared/errors.ts';

export interface TopicsEnsureOptions {
  check?: boolean;
  brokers?: string;
  partitions?: string;
  replicationFactor?: string;
  prefix?: string;
  acls?: boolean;
}

export interface TopicState extends ResolvedTopic {
  state: 'created' | 'exists' | 'missing';
  /** Partitions the topic has on the broker (null when missing). */
  actualPartitions: number | null;
}

const envSchema = z.object({ ...kafkaEnvShape, ...topicProvisioningEnvShape });

/** The environment with the command's options applied over it (options win). */
function optionsEnv(opts: TopicsEnsureOptions, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    ...(opts.brokers !== undefined ? { KAFKA_BROKERS: opts.brokers } : {}),
    ...(opts.partitions !== undefined ? { KAFKA_TOPIC_PARTITIONS: opts.partitions } : {}),
    ...(opts.replicationFactor !== undefined
      ? { KAFKA_TOPIC_REPLICATION_FACTOR: opts.replicationFactor }
      : {}),
    ...(opts.prefix !== undefined ? { KAFKA_TOPIC_PREFIX: opts.prefix } : {}),
  };
}

/**
 * Every topic of the system as the environment names it (KAFKA_TOPIC_PREFIX and each service's
 * topic variables), created where missing unless `check`; existing topics are never changed.
 */
export async function ensureSystemTopics(
  opts: TopicsEnsureOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TopicState[]> {
  const merged = optionsEnv(opts, env);
  const config = loadConfig(envSchema, merged);
  const topics = resolveSystemTopics(withTopicDefaults(merged), config);
  const kafka = createKafka(
    kafkaConnectionFromEnv(config),
    createLogger('topics', process.env.LOG_LEVEL ?? 'fatal'),
  );
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new ExpectedError(
      `cannot reach the Kafka brokers (${config.KAFKA_BROKERS}): ${(err as Error).message}`,
    );
  }
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    const created = new Set<string>();
    if (!opts.check && missing.length > 0) {
      const unique = [...new Map(missing.map((t) => [t.name, t])).values()];
      await admin.createTopics({
        waitForLeaders: true,
        topics: unique.map((t) => ({
          topic: t.name,
          numPartitions: t.numPartitions,
          replicationFactor: t.replicationFactor,
        })),
      });
      for (const t of unique) created.add(t.name);
    }
    if (opts.acls && !opts.check) await writeAcls(admin, aclGrants(withTopicDefaults(merged), config));
    const present = topics.filter((t) => existing.has(t.name) || created.has(t.name)).map((t) => t.name);
    const metadata =
      present.length > 0 ? await admin.fetchTopicMetadata({ topics: [...new Set(present)] }) : null;
    const partitions = new Map(metadata?.topics.map((t) => [t.name, t.partitions.length]) ?? []);
    return topics.map((t) => ({
      ...t,
      state: created.has(t.name) ? 'created' : existing.has(t.name) ? 'exists' : 'missing',
      actualPartitions: partitions.get(t.name) ?? null,
    }));
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// kafkajs is CommonJS: its enums are properties of the default export, not named ESM exports
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

const OPERATIONS = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  describe: AclOperationTypes.DESCRIBE,
} as const;

/**
 * Writes the grants as ALLOW ACLs for User:<principal> (the SCRAM user names); an ACL that exists
 * already is left as it is (Kafka keeps one copy). Needs ALTER on the cluster: run it as a super user.
 */
async function writeAcls(admin: Admin, grants: AclGrant[]): Promise<void> {
  await admin.createAcls({
    acl: grants.flatMap((g) =>
      g.operations.map((op) => ({
        principal: `User:${g.principal}`,
        host: '*',
        permissionType: AclPermissionTypes.ALLOW,
        operation: OPERATIONS[op],
        resourceType: g.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
        resourceName: g.name,
        resourcePatternType: g.prefixed ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
      })),
    ),
  });
}
