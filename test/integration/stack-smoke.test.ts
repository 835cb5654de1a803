import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  Cleanup,
  createTestKafka,
  createTestProducer,
  createTestSchema,
  createTopics,
  getTestStack,
  releaseTestStack,
  uniqueTopicName,
  type TestStack,
} from '../support/index.ts';

// Subjects follow Confluent's TopicNameStrategy, `<topic>-value`, passed explicitly: the library's
// own default would name the subject after the record (`namespace.name`).
const smokeSchema = {
  type: 'record',
  name: 'StackSmoke',
  namespace: 'fractureharvester.test',
  fields: [
    { name: 'accession', type: 'string' },
    { name: 'count', type: 'int' },
  ],
};

describe('the stack integration tests run against', () => {
  let stack: TestStack;
  const cleanup = new Cleanup();

  before(async () => {
    stack = await getTestStack();
  });
  after(async () => {
    await cleanup.run();
    await releaseTestStack();
  });

  it('carries an Avro message through Kafka, encoded and decoded with the schema registry', async () => {
    const topic = uniqueTopicName('stack-smoke');
    const kafka = createTestKafka(stack);
    cleanup.add(await createTopics(kafka, [{ topic }]));

    const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl });
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(smokeSchema) },
      { subject: `${topic}-value` },
    );
    // Registering the same schema again is a no-op that returns the same id (what every service
    // does at start-up).
    const again = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(smokeSchema) },
      { subject: `${topic}-value` },
    );
    assert.equal(again.id, id);

    const sent = { accession: 'ACC-0001', count: 3 };
    const producer = createTestProducer(kafka);
    await producer.connect();
    cleanup.add(() => producer.disconnect());
    await producer.send({
      topic,
      messages: [{ key: sent.accession, value: await registry.encode(id, sent) }],
    });

    const consumer = kafka.consumer({ groupId: uniqueTopicName('stack-smoke-group') });
    await consumer.connect();
    cleanup.add(() => consumer.disconnect());
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: unknown }>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            resolve({ key: message.key?.toString() ?? '', value: await registry.decode(message.value!) });
          },
        })
        .catch(reject);
    });

    assert.equal(received.key, sent.accession);
    // avsc decodes into an instance of a generated record class: compare the fields.
    assert.deepEqual({ ...(received.value as object) }, sent);
  });

  it('runs queries on PostgreSQL in a schema of its own', async () => {
    const { pool, schema, drop } = await createTestSchema(stack, 'stack_smoke');
    cleanup.add(drop);

    await pool.query('create table smoke (id int primary key, note text not null)');
    await pool.query('insert into smoke values ($1, $2)', [1, 'hello']);
    const { rows } = await pool.query<{ note: string; schema: string }>(
      'select note, current_schema() as schema from smoke where id = 1',
    );

    assert.deepEqual(rows, [{ note: 'hello', schema }]);
  });
});
