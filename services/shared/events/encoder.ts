import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { lookupEventSchemaId } from './registry.ts';
import type { EventName } from './catalog.ts';

/**
 * Encodes one event type in the Confluent wire format (magic byte, schema id, Avro body). The
 * schema id is looked up on first use and kept; a failed lookup (registry down) is retried on the
 * next call, so callers can back off and try again.
 */
export class EventEncoder<T extends object> {
  private schemaId: number | undefined;

  constructor(
    private readonly registry: SchemaRegistry,
    readonly event: EventName,
    /** The topic the events go to; its `<topic>-value` subject holds the schema. */
    readonly topic?: string,
  ) {}

  /** Resolves the schema id (and caches the schema) now; throws when the registry is unavailable. */
  async ready(): Promise<number> {
    this.schemaId ??= await lookupEventSchemaId(this.registry, this.event, this.topic);
    return this.schemaId;
  }

  async encode(payload: T): Promise<Buffer> {
    return this.registry.encode(await this.ready(), payload);
  }
}
