import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const stackScript = path.join(repoRoot, 'deploy/local/stack');

/** Where integration tests find Kafka, the Confluent-compatible registry and Postgres. */
export interface TestStack {
  /** host:port list for kafkajs. */
  kafkaBrokers: string[];
  /** Base URL of the Confluent-compatible API, e.g. http://127.0.0.1:8081/apis/ccompat/v7. */
  schemaRegistryUrl: string;
  databaseUrl: string;
  /** Which of the three ways provided the endpoints. */
  source: 'environment' | 'testcontainers' | 'local-stack';
}

interface StackEnv {
  KAFKA_BROKERS?: string | undefined;
  SCHEMA_REGISTRY_URL?: string | undefined;
  DATABASE_URL?: string | undefined;
}

/** Endpoints from KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL; null unless all three are set. */
export function stackFromEnvironment(env: StackEnv = process.env): TestStack | null {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL } = env;
  if (!KAFKA_BROKERS || !SCHEMA_REGISTRY_URL || !DATABASE_URL) return null;
  return {
    kafkaBrokers: KAFKA_BROKERS.split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    schemaRegistryUrl: SCHEMA_REGISTRY_URL.replace(/\/+$/, ''),
    databaseUrl: DATABASE_URL,
    source: 'environment',
  };
}

/** Parses the `export A=… B=…` line printed by `deploy/local/stack env`. */
export function parseStackEnv(output: string): StackEnv {
  const env: Record<string, string> = {};
  for (const match of output.matchAll(/([A-Z_]+)=(\S+)/g)) env[match[1]!] = match[2]!;
  return env;
}

let stackPromise: Promise<TestStack> | undefined;
const stopContainers: Array<() => Promise<unknown>> = [];

/**
 * The stack integration tests run against, resolved once per test process: from the environment
 * when given; else from Testcontainers when a Docker engine answers; else by starting
 * deploy/local/stack (idempotent: an already running stack is reused and left running).
 */
export function getTestStack(): Promise<TestStack> {
  stackPromise ??= resolveTestStack();
  return stackPromise;
}

/** Stops containers this process started (the local stack stays up: others share it). */
export async function releaseTestStack(): Promise<void> {
  while (stopContainers.length > 0) await stopContainers.pop()!();
  stackPromise = undefined;
}

async function resolveTestStack(): Promise<TestStack> {
  const fromEnv = stackFromEnvironment();
  if (fromEnv) return fromEnv;
  if (await dockerReachable()) return startContainers();
  return startLocalStack();
}

async function dockerReachable(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

// Images matching the local stack: Kafka 4.x in KRaft mode (Confluent Platform 8.0 is Kafka 4.0,
// and the image @testcontainers/kafka drives), Apicurio Registry 3.0, PostgreSQL 15.
const KAFKA_IMAGE = 'confluentinc/cp-kafka:8.0.0';
const REGISTRY_IMAGE = 'apicurio/apicurio-registry:3.0.9';
const POSTGRES_IMAGE = 'postgres:15';

async function startContainers(): Promise<TestStack> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const [kafka, registry, postgres] = await Promise.all([
    new KafkaContainer(KAFKA_IMAGE).withKraft().start(),
    new GenericContainer(REGISTRY_IMAGE)
      .withEnvironment({ APICURIO_RULES_GLOBAL_COMPATIBILITY: 'BACKWARD' })
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp('/health/ready', 8080).forStatusCode(200))
      .start(),
    new PostgreSqlContainer(POSTGRES_IMAGE)
      .withDatabase('harvester')
      .withUsername('harvester')
      .withPassword('harvester')
      .start(),
  ]);
  stopContainers.push(
    () => kafka.stop(),
    () => registry.stop(),
    () => postgres.stop(),
  );
  return {
    kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
    schemaRegistryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
    databaseUrl: postgres.getConnectionUri(),
    source: 'testcontainers',
  };
}

async function startLocalStack(): Promise<TestStack> {
  try {
    await execFileAsync(stackScript, ['up'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`deploy/local/stack up failed:\n${stderr.split('\n').slice(-20).join('\n')}`, {
      cause: err,
    });
  }
  const { stdout } = await execFileAsync(stackScript, ['env'], { cwd: repoRoot });
  const stack = stackFromEnvironment(parseStackEnv(stdout));
  if (!stack) throw new Error(`deploy/local/stack env printed no endpoints: ${stdout}`);
  return { ...stack, source: 'local-stack' };
}
