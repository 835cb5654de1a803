import { z } from 'zod';
import { loadConfig } from '../../shared/config/env.ts';
import { registerSystemSchemas } from '../../shared/events/register-system-schemas.ts';
import { createSchemaRegistry } from '../../shared/events/registry.ts';
import { topicProvisioningEnvShape } from '../../shared/kafka/system-topics.ts';
import { ExpectedError } from '../../shared/errors.ts';

/**
 * `harvester schemas register`: every schemas/*.avsc under `<topic>-value`, BACKWARD compatible,
 * for the topic names this environment uses (KAFKA_TOPIC_PREFIX, the services' topic variables).
 */
export async function schemasRegisterCommand(opts: { registry?: string }): Promise<void> {
  const url = opts.registry ?? process.env.SCHEMA_REGISTRY_URL;
  if (!url) {
    throw new ExpectedError('no registry: pass --registry URL or set SCHEMA_REGISTRY_URL');
  }
  const registry = createSchemaRegistry({
    url,
    username: process.env.SCHEMA_REGISTRY_USERNAME,
    password: process.env.SCHEMA_REGISTRY_PASSWORD,
  });
  const settings = loadConfig(z.object(topicProvisioningEnvShape), process.env);
  for (const r of await registerSystemSchemas(registry, process.env, settings)) {
    console.log(`${r.subject}\tid ${r.id}\t${r.name}`);
  }
}
