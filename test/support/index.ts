// Helpers for integration tests: the stack's endpoints, unique names, Kafka topics, a schema per test.
export {
  getTestStack,
  releaseTestStack,
  stackFromEnvironment,
  parseStackEnv,
  type TestStack,
} from './stack.ts';
export { uniqueTopicName, uniqueSchemaName } from './names.ts';
export { createTestKafka, createTestProducer, createTopics, deleteTopics } from './kafka.ts';
export { createTestPool, createTestSchema, type TestSchema } from './postgres.ts';
export { Cleanup } from './cleanup.ts';
export { freshDeployment, runHarvester, type FreshDeployment } from './fresh-deployment.ts';
