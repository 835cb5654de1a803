import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger.ts';
import { topicSettings, type ServiceTopic, type TopicProvisioningEnv } from './system-topics.ts';
import { ExpectedError } from '../errors.ts';

/** A start-up problem an operator fixes (its message says how); printed as one line. */
export class TopicProvisioningError extends ExpectedError {}

export interface ProvisionHooks {
  /** Called while topics are missing (each poll), e.g. to report it on /health. */
  onWaiting?: (missing: string[]) => void;
  /** Stops waiting (the service is being stopped during start-up). */
  signal?: AbortSignal;
  /** How often to look for topics while waiting (default 2 s). */
  pollMs?: number;
}

export interface ProvisionOutcome {
  created: string[];
  /** Topics that were missing and appeared while the service waited for them. */
  waitedFor: string[];
}

type KafkaErrorLike = Error & { type?: string; errors?: KafkaErrorLike[] };

const AUTHORIZATION = /AUTHORIZATION_FAILED/;

function errorTypes(err: KafkaErrorLike): string[] {
  return [err.type, ...(err.errors ?? []).map((e) => e.type)].filter((t): t is string => !!t);
}

async function connectAdmin(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return admin;
  } catch (err) {
    throw new TopicProvisioningError(
      `cannot reach the Kafka brokers: ${(err as Error).message}; check KAFKA_BROKERS ` +
        `(and KAFKA_SSL/KAFKA_SASL_*), or start the local stack with deploy/local/stack up`,
      { cause: err },
    );
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Makes sure every topic a service reads or writes exists before it subscribes or produces.
 * With KAFKA_CREATE_TOPICS (the default) missing topics are created with the configured partitions
 * and replication (existing ones are left as they are: a new partition count would move keys);
 * where topics are an administrator's (KAFKA_CREATE_TOPICS=false, or the broker refuses the
 * create), the service waits, saying every KAFKA_TOPIC_WAIT_LOG_SECONDS which topics are missing,
 * and carries on once they exist.
 */
export async function provisionTopics(
  kafka: Kafka,
  topics: readonly ServiceTopic[],
  settings: TopicProvisioningEnv,
  logger: Logger,
  hooks: ProvisionHooks = {},
): Promise<ProvisionOutcome> {
  const outcome: ProvisionOutcome = { created: [], waitedFor: [] };
  const wanted = [...new Map(topics.map((t) => [t.name, t])).values()];
  if (wanted.length === 0) return outcome;
  const admin = await connectAdmin(kafka);
  try {
    let missing = await missingTopics(admin, wanted);
    if (missing.length > 0 && settings.KAFKA_CREATE_TOPICS) {
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({ topic: t.name, ...topicSettings(t.id, settings) })),
        });
      } catch (err) {
        const types = errorTypes(err as KafkaErrorLike);
        if (types.some((t) => AUTHORIZATION.test(t))) {
          logger.warn(
            { missing: missing.map((t) => t.name) },
            'not allowed to create topics: waiting for an administrator to create them (harvester topics ensure)',
          );
        } else if (types.includes('INVALID_REPLICATION_FACTOR')) {
          throw new TopicProvisioningError(
            `cannot create ${missing.map((t) => t.name).join(', ')} with replication factor ` +
              `${settings.KAFKA_TOPIC_REPLICATION_FACTOR}: the cluster has fewer brokers; set KAFKA_TOPIC_REPLICATION_FACTOR`,
          );
        } else if (!types.every((t) => t === 'TOPIC_ALREADY_EXISTS')) {
          throw err;
        }
      }
      const still = new Set((await missingTopics(admin, wanted)).map((t) => t.name));
      outcome.created = missing.filter((t) => !still.has(t.name)).map((t) => t.name);
      if (outcome.created.length > 0) {
        logger.info(
          {
            created: outcome.created,
            partitions: settings.KAFKA_TOPIC_PARTITIONS,
            replicationFactor: settings.KAFKA_TOPIC_REPLICATION_FACTOR,
          },
          'created missing topics',
        );
      }
      missing = missing.filter((t) => still.has(t.name));
    }
    if (missing.length === 0) return outcome;

    const waitedFor = missing.map((t) => t.name);
    const pollMs = hooks.pollMs ?? 2000;
    const logEveryMs = settings.KAFKA_TOPIC_WAIT_LOG_SECONDS * 1000;
    let lastLog = -Infinity;
    while (missing.length > 0) {
      if (hooks.signal?.aborted) {
        throw new TopicProvisioningError(
          `stopped while waiting for topics ${missing.map((t) => t.name).join(', ')}`,
        );
      }
      const names = missing.map((t) => t.name);
      hooks.onWaiting?.(names);
      if (Date.now() - lastLog >= logEveryMs) {
        lastLog = Date.now();
        logger.warn(
          { missing: names },
          `waiting for topics ${names.join(', ')} (KAFKA_CREATE_TOPICS=${settings.KAFKA_CREATE_TOPICS}): ` +
            'create them, e.g. with harvester topics ensure',
        );
      }
      await sleep(pollMs, hooks.signal);
      missing = await missingTopics(admin, missing);
    }
    outcome.waitedFor = waitedFor;
    logger.info({ topics: waitedFor }, 'the topics waited for exist now');
    return outcome;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function missingTopics<T extends { name: string }>(admin: Admin, topics: readonly T[]): Promise<T[]> {
  const existing = new Set(await admin.listTopics());
  return topics.filter((t) => !existing.has(t.name));
}
