import { Kafka, logLevel, Partitioners, type Producer, type ProducerConfig } from 'kafkajs';
import type { TestStack } from './stack.ts';

/** A kafkajs client for a test; only errors are logged, so test output stays readable. */
export function createTestKafka(stack: TestStack, clientId = 'fracture-harvester-test'): Kafka {
  return new Kafka({
    clientId,
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.ERROR,
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

/** A producer with the explicit default partitioner (murmur2, as the Java client). */
export function createTestProducer(kafka: Kafka, config: ProducerConfig = {}): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...config });
}

/**
 * Creates topics (the broker does not auto-create them) and waits until each has a leader.
 * Returns a disposer that deletes them.
 */
export async function createTopics(
  kafka: Kafka,
  topics: Array<{ topic: string; numPartitions?: number }>,
): Promise<() => Promise<void>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map(({ topic, numPartitions = 1 }) => ({ topic, numPartitions, replicationFactor: 1 })),
    });
  } finally {
    await admin.disconnect();
  }
  return () =>
    deleteTopics(
      kafka,
      topics.map((t) => t.topic),
    );
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}

/** Records of `topics` the consumer group has not committed yet (0: it consumed everything so far). */
export async function groupLag(kafka: Kafka, groupId: string, topics: string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId, topics });
    let lag = 0;
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const end of ends) {
        const at = Number(done.find((p) => p.partition === end.partition)?.offset ?? '-1');
        lag += Number(end.high) - Math.max(at, Number(end.low));
      }
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}
