import { readFile } from 'node:fs/promises';
import { idempotentProducer } from '../../shared/kafka/producer.ts';
import { createKafka } from '../../shared/kafka/client.ts';
import { kafkaConnectionFromEnv, kafkaEnvShape } from '../../shared/kafka/config.ts';
import { hl7MessageKey, readMshHeader } from '../../shared/hl7-transport/msh-header.ts';
import { splitHl7 } from '../../shared/hl7/split.ts';
import { loadConfig } from '../../shared/config/env.ts';
import { provisionTopics } from '../../shared/kafka/provision-topics.ts';
import { topicProvisioningEnvShape, withTopicDefaults } from '../../shared/kafka/system-topics.ts';
import { createLogger } from '../../shared/observability/logger.ts';
import { z } from 'zod';
import { ExpectedError } from '../../shared/errors.ts';

export interface ProduceHl7Options {
  input: string;
  topic?: string;
  brokers?: string;
  batchSize?: string;
}

/**
 * `harvester produce hl7 --input FILE`: publishes each HL7 message of a file, bytes unchanged, to
 * the raw topic, keyed by MSH-4|MSH-10 (so redeliveries of one message land on one partition).
 * Messages whose MSH cannot be read are still sent, without a key: the consumer's DLQ decides.
 */
export async function produceHl7Command(opts: ProduceHl7Options): Promise<void> {
  const env = loadConfig(z.object({ ...kafkaEnvShape, ...topicProvisioningEnvShape }), {
    ...process.env,
    ...(opts.brokers ? { KAFKA_BROKERS: opts.brokers } : {}),
  });
  const topic = opts.topic ?? withTopicDefaults(process.env).REPORT_LABELER_INPUT_TOPIC!;
  const batchSize = Number(opts.batchSize ?? 500);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ExpectedError('--batch-size must be a positive integer');
  }
  let data: Buffer;
  try {
    data = await readFile(opts.input);
  } catch (err) {
    throw new ExpectedError(`cannot read ${opts.input}: ${(err as Error).message}`);
  }
  const split = splitHl7(data);
  // A line that is not an HL7 segment is reported on its own and not sent; its neighbours are.
  for (const g of split.garbage) {
    process.stderr.write(
      `harvester produce hl7: ${opts.input}: line ${g.line} (offset ${g.offset}): ${g.problem}\n`,
    );
  }
  const messages = split.messages.map(({ bytes: value }) => {
    let key: string | null;
    try {
      key = hl7MessageKey(readMshHeader(value));
    } catch {
      key = null;
    }
    return { key, value };
  });
  const logger = createLogger('produce-hl7');
  const kafka = createKafka(kafkaConnectionFromEnv(env), logger);
  // the topic the report-labeler reads, created as the services would if nobody has yet
  await provisionTopics(kafka, [{ id: 'hl7.oru.raw', name: topic }], env, logger);
  const producer = idempotentProducer(kafka);
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += batchSize) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + batchSize) });
    }
  } finally {
    await producer.disconnect();
  }
  const unkeyed = messages.filter((m) => m.key === null).length;
  console.log(
    `published ${messages.length} message(s) to ${topic}` +
      (unkeyed ? ` (${unkeyed} without a readable MSH)` : '') +
      (split.garbage.length ? `; ${split.garbage.length} line(s) that are not HL7 segments left out` : ''),
  );
  if (split.garbage.length > 0) process.exitCode = 2;
}
