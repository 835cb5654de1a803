import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { EVENTS, loadEventSchema, valueSubject, type EventName } from './catalog.ts';

export interface SchemaRegistryConfig {
  /** Base URL of the Confluent-compatible API, e.g. http://localhost:8080/apis/ccompat/v7 for Apicurio. */
  url: string;
  username?: string;
  password?: string;
}

/** The registry variables of the environment (`common-env.ts`), as the client's settings. */
export interface SchemaRegistryEnv {
  SCHEMA_REGISTRY_URL: string;
  SCHEMA_REGISTRY_USERNAME?: string;
  SCHEMA_REGISTRY_PASSWORD?: string;
}

export function schemaRegistryFromEnv(env: SchemaRegistryEnv): SchemaRegistry {
  return createSchemaRegistry({
    url: env.SCHEMA_REGISTRY_URL,
    username: env.SCHEMA_REGISTRY_USERNAME,
    password: env.SCHEMA_REGISTRY_PASSWORD,
  });
}

export function createSchemaRegistry(config: SchemaRegistryConfig): SchemaRegistry {
  const auth =
    config.username !== undefined
      ? { username: config.username, password: config.password ?? '' }
      : undefined;
  // retries are ours (the caller backs off per batch), so keep the client's own short
  return new SchemaRegistry({ host: config.url, auth, retry: { retries: 2, initialRetryTimeInSecs: 0.2 } });
}

export interface RegisteredEvent {
  name: EventName;
  subject: string;
  id: number;
}

/**
 * Registers every event schema under `<topic>-value` with BACKWARD compatibility. Registering the
 * same schema again returns its existing id, so this is safe to run at every deployment.
 */
export async function registerEventSchemas(
  registry: SchemaRegistry,
  /** Topic names that differ from DESIGN.md's (deployments with prefixed topics, tests). */
  topicOf: Partial<Record<EventName, string>> = {},
): Promise<RegisteredEvent[]> {
  const registered: RegisteredEvent[] = [];
  for (const event of EVENTS) {
    const subject = valueSubject(topicOf[event.name] ?? event.topic);
    const schema = JSON.stringify(loadEventSchema(event.name));
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    registered.push({ name: event.name, subject, id });
  }
  return registered;
}

/**
 * The registry id of this repository's version of an event's schema. Fails when it has not been
 * registered (run `harvester schemas register`), rather than registering from a running service.
 */
export async function lookupEventSchemaId(
  registry: SchemaRegistry,
  name: EventName,
  topic?: string,
): Promise<number> {
  const event = EVENTS.find((e) => e.name === name)!;
  const schema = loadEventSchema(name);
  const subject = valueSubject(topic ?? event.topic);
  try {
    return await registry.getRegistryIdBySchema(subject, {
      type: SchemaType.AVRO,
      schema: JSON.stringify(schema),
    });
  } catch (err) {
    // 404s (no such subject, or this schema version not under it) are a deployment step missed
    if (
      (err as { status?: number }).status === 404 ||
      /not found|no artifact|no schema/i.test((err as Error).message)
    ) {
      throw new Error(
        `schema ${name} is not registered under ${subject}: run \`harvester schemas register\` (${(err as Error).message})`,
        { cause: err },
      );
    }
    throw err;
  }
}
