import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopicSendError } from '../../../services/shared/kafka/producer.ts';

describe('a failed send names its topic', () => {
  it("says a topic is missing where kafkajs says only 'this server does not host this topic-partition'", () => {
    const err = new TopicSendError(
      'labels.pseudo',
      new Error('This server does not host this topic-partition'),
    );
    assert.equal(
      err.message,
      'topic labels.pseudo does not exist (or has no leader yet): This server does not host this topic-partition',
    );
    assert.equal(err.topic, 'labels.pseudo');
  });

  it('prefixes any other failure with the topic, keeping the cause', () => {
    const cause = new Error('Connection timeout');
    const err = new TopicSendError('hl7.oru.raw.dlq', cause);
    assert.equal(err.message, 'producing to hl7.oru.raw.dlq failed: Connection timeout');
    assert.equal(err.cause, cause);
  });
});
