import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import {
  resolveSystemTopics,
  withTopicDefaults,
  type SystemTopicId,
  type TopicProvisioningEnv,
} from '../kafka/system-topics.ts';
import { EVENTS } from './catalog.ts';
import { registerEventSchemas, type RegisteredEvent } from './registry.ts';

/**
 * Registers every event schema under the `<topic>-value` subjects of the topics this environment
 * uses (KAFKA_TOPIC_PREFIX, the services' topic variables); where two services name one topic
 * differently, under both. Idempotent. Returns one entry per subject.
 */
export async function registerSystemSchemas(
  registry: SchemaRegistry,
  env: NodeJS.ProcessEnv,
  settings: TopicProvisioningEnv,
): Promise<RegisteredEvent[]> {
  const topics = resolveSystemTopics(withTopicDefaults(env), settings);
  const namesOf = (id: SystemTopicId) => topics.filter((t) => t.id === id).map((t) => t.name);
  const rounds = Math.max(...EVENTS.map((e) => namesOf(e.topic as SystemTopicId).length));
  const bySubject = new Map<string, RegisteredEvent>();
  for (let round = 0; round < rounds; round++) {
    const topicOf = Object.fromEntries(
      EVENTS.map((e) => {
        const names = namesOf(e.topic as SystemTopicId);
        return [e.name, names[Math.min(round, names.length - 1)]];
      }),
    );
    for (const r of await registerEventSchemas(registry, topicOf)) bySubject.set(r.subject, r);
  }
  return [...bySubject.values()];
}
