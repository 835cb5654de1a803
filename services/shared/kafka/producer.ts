import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';

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

/** An idempotent kafkajs producer (no duplicates from its own retries), acks from all replicas. */
export async function createMessageProducer(kafka: Kafka): Promise<MessageProducer> {
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return {
    async send(topic, messages) {
      if (messages.length === 0) return;
      await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    },
    async disconnect() {
      await producer.disconnect();
    },
  };
}
