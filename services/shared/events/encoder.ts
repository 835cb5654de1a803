import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { EventName } from './catalog.ts';
import { lookupEventSchemaId } from './registry.ts';

interface AvroWriter {
  toBuffer(payload: object): Buffer;
}

/**
 * Encodes one event type in the Confluent wire format (magic byte 0, schema id as 4 bytes big
 * endian, Avro body). The schema id and writer are fetched from the registry once, by ready(); a
 * failed fetch (registry down) is retried on the next ready(), so callers can back off and retry.
 * Encoding itself is synchronous and needs no registry: thousands of events per batch stay cheap.
 */
export class EventEncoder<T extends object> {
  private schemaId: number | undefined;
  private writer: AvroWriter | undefined;

  constructor(
    private readonly registry: SchemaRegistry,
    readonly event: EventName,
    /** The topic the events go to; its `<topic>-value` subject holds the schema. */
    readonly topic?: string,
  ) {}

  async ready(): Promise<number> {
    if (this.schemaId === undefined || this.writer === undefined) {
      const id = await lookupEventSchemaId(this.registry, this.event, this.topic);
      this.writer = (await this.registry.getSchema(id)) as unknown as AvroWriter;
      this.schemaId = id;
    }
    return this.schemaId;
  }

  /** Encodes one event; call ready() first. Throws when the payload does not fit the schema. */
  encode(payload: T): Buffer {
    if (this.schemaId === undefined || this.writer === undefined) {
      throw new Error(`EventEncoder(${this.event}).encode before ready()`);
    }
    const header = Buffer.alloc(5);
    header.writeUInt32BE(this.schemaId, 1);
    return Buffer.concat([header, this.writer.toBuffer(payload)]);
  }
}
