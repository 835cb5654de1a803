import { z } from 'zod';
import { loadConfig } from '../../shared/config/env.ts';
import { EVENTS } from '../../shared/events/catalog.ts';
import { createSchemaRegistry, registerEventSchemas } from '../../shared/events/registry.ts';
import {
  resolveSystemTopics,
  topicProvisioningEnvShape,
  withTopicDefaults,
  type SystemTopicId,
} from '../../shared/kafka/system-topics.ts';

/**
 * `harvester schemas register`: every schemas/*.avsc under `<topic>-value`, BACKWARD compatible,
 * for the topic names this environment uses (KAFKA_TOPIC_PREFIX, the services' topic variables).
 */
export async function schemasRegisterCommand(opts: { registry?: string }): Promise<void> {
  const url = opts.registry ?? process.env.SCHEMA_REGISTRY_URL;
  if (!url) {
    throw Object.assign(new Error('no registry: pass --registry URL or set SCHEMA_REGISTRY_URL'), {
      expected: true,
    });
  }
  const registry = createSchemaRegistry({
    url,
    username: process.env.SCHEMA_REGISTRY_USERNAME,
    password: process.env.SCHEMA_REGISTRY_PASSWORD,
  });
  const settings = loadConfig(z.object(topicProvisioningEnvShape), process.env);
  const topics = resolveSystemTopics(withTopicDefaults(process.env), settings);
  // one registration per name a topic has (two services may name one topic differently)
  const rounds = Math.max(...EVENTS.map((e) => topics.filter((t) => t.id === e.topic).length));
  const printed = new Set<string>();
  for (let round = 0; round < rounds; round++) {
    const topicOf = Object.fromEntries(
      EVENTS.map((e) => {
        const names = topics.filter((t) => t.id === (e.topic as SystemTopicId)).map((t) => t.name);
        return [e.name, names[Math.min(round, names.length - 1)]];
      }),
    );
    for (const r of await registerEventSchemas(registry, topicOf)) {
      if (!printed.has(r.subject)) console.log(`${r.subject}\tid ${r.id}\t${r.name}`);
      printed.add(r.subject);
    }
  }
}
