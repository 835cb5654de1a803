import type { Kafka } from 'kafkajs';
import { migrateDatabase } from '../../services/shared/db/migrate.ts';
import { createSchemaRegistry, registerEventSchemas } from '../../services/shared/events/registry.ts';
import type { Cleanup } from './cleanup.ts';
import { createTopics } from './kafka.ts';
import { createTestSchema, type TestSchema } from './postgres.ts';
import type { TestStack } from './stack.ts';

/** The topics of the report-labeler -> pseudo-labeler pipeline (each with its .dlq). */
export interface PipelineTopics {
  hl7: string;
  labels: string;
  dicom: string;
  pseudo: string;
}

/**
 * What a deployment provides before both labelling services start: a migrated schema of its own,
 * the event schemas registered and the topics (with dead-letter topics), all removed by `cleanup`.
 */
export async function prepareLabellingPipeline(
  stack: TestStack,
  kafka: Kafka,
  cleanup: Cleanup,
  schemaPrefix: string,
  topics: PipelineTopics,
): Promise<TestSchema> {
  const db = await createTestSchema(stack, schemaPrefix);
  cleanup.add(() => db.drop());
  await migrateDatabase({ database: stack.databaseUrl, schema: db.schema });
  await registerEventSchemas(createSchemaRegistry({ url: stack.schemaRegistryUrl }), {
    ReportLabel: topics.labels,
    DicomArrived: topics.dicom,
    PseudoLabelCreated: topics.pseudo,
  });
  cleanup.add(
    await createTopics(
      kafka,
      Object.values(topics).flatMap((topic) => [{ topic }, { topic: `${topic}.dlq` }]),
    ),
  );
  return db;
}

/** A database URL whose connections put `schema` first on the search path. */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema},public`);
  return u.toString();
}
