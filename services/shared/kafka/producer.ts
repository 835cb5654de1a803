import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { FailureError } from '../errors.ts';

export interface OutgoingMessage {
  key: string | Buffer | null;
  value: Buffer | string;
  headers?: Record<string, string | Buffer>;
}

/** The small producing interface services depend on, so the Kafka client can change in one module. */
export interface MessageProducer {
  /** Resolves once every message is acknowledged by all in-sync replicas. */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * The kafkajs producer every service and command publishes with: idempotent (the broker drops the
 * duplicates of its own retries), one request in flight (order kept through retries), and
 * partitions chosen by murmur2 of the key, as the Java clients choose them, so a key's records land
 * on one partition whichever client wrote them (kafkajs 2's default, named so it does not warn).
 * Its retries are bounded on purpose (the client's, about a minute): a send must fail while Kafka is
 * down, so that the caller can back off with health and metrics saying so (a consumer's chunk
 * retry, a gateway's negative acknowledgement) instead of hanging inside kafkajs; see
 * docs/kafka-clients.md for why that keeps the guarantees the pipeline has.
 */
export function idempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

/** An idempotent kafkajs producer (no duplicates from its own retries), acks from all replicas. */
export async function createMessageProducer(kafka: Kafka): Promise<MessageProducer> {
  const producer = idempotentProducer(kafka);
  await producer.connect();
  return {
    async send(topic, messages) {
      for (const chunk of chunkByBytes(messages, MAX_REQUEST_BYTES)) {
        try {
          await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: chunk });
        } catch (err) {
          throw new TopicSendError(topic, err as Error);
        }
      }
    },
    async disconnect() {
      await producer.disconnect();
    },
  };
}

/** A send that failed, naming the topic (kafkajs' own messages do not). */
export class TopicSendError extends FailureError {
  constructor(
    readonly topic: string,
    cause: Error,
  ) {
    const missing = /does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION/i.test(cause.message);
    super(
      missing
        ? `topic ${topic} does not exist (or has no leader yet): ${cause.message}`
        : `producing to ${topic} failed: ${cause.message}`,
      { cause },
    );
  }
}

/**
 * Brokers refuse a record batch over message.max.bytes (1 MiB by default), so large sends go out
 * in several requests, in order. A single message over the limit still fails, loudly.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

export function chunkByBytes(messages: OutgoingMessage[], maxBytes: number): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let size = 0;
  for (const m of messages) {
    const bytes = (m.key?.length ?? 0) + m.value.length + 64; // 64: per-record overhead, headers aside
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
