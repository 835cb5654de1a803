import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '../../services/shared/kafka/topics.ts';
import { createTestKafka, deleteTopics, getTestStack, uniqueTopicName } from '../support/index.ts';

describe('ensureTopics on the real broker', () => {
  let kafka: Kafka;
  const a = uniqueTopicName('ensure-a');
  const b = uniqueTopicName('ensure-b');
  before(async () => {
    kafka = createTestKafka(await getTestStack());
  });
  after(() => deleteTopics(kafka, [a, b]));

  it('creates missing topics with their partition count and leaves existing ones alone', async () => {
    assert.deepEqual(await ensureTopics(kafka, [{ topic: a, numPartitions: 3 }]), [a]);
    assert.deepEqual(
      await ensureTopics(kafka, [
        { topic: a, numPartitions: 5 },
        { topic: b, numPartitions: 2 },
      ]),
      [b],
    );
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [a, b] });
      const partitions = Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]));
      assert.deepEqual(partitions, { [a]: 3, [b]: 2 });
    } finally {
      await admin.disconnect();
    }
  });
});
