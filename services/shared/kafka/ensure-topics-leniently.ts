import type { Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger.ts';
import { ensureTopics } from './topics.ts';

/**
 * Creates the missing topics among `topics`, logging what it created; when it cannot (no CREATE
 * permission where operators provision topics, say) it warns and carries on: they may exist already,
 * and the first produce names the missing one.
 */
export async function ensureTopicsLeniently(
  kafka: Kafka,
  topics: string[],
  numPartitions: number,
  logger: Logger,
): Promise<void> {
  try {
    const created = await ensureTopics(
      kafka,
      topics.map((topic) => ({ topic, numPartitions })),
    );
    if (created.length > 0) logger.info({ created }, 'created missing topics');
  } catch (err) {
    logger.warn({ err: (err as Error).message, topics }, 'could not ensure topics; continuing');
  }
}
