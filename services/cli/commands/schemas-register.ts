import { createSchemaRegistry, registerEventSchemas } from '../../shared/events/registry.ts';

/** `harvester schemas register`: every schemas/*.avsc under `<topic>-value`, BACKWARD compatible. */
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
  for (const r of await registerEventSchemas(registry)) {
    console.log(`${r.subject}\tid ${r.id}\t${r.name}`);
  }
}
