import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { DistillWorker, type DistillWorkerDeps } from '../../../services/distill-worker/worker.ts';
import { createLogger } from '../../../services/shared/observability/logger.ts';

type EachMessage = (p: {
  topic: string;
  partition: number;
  message: { value: Buffer; offset: string };
  heartbeat: () => Promise<void>;
}) => Promise<void>;

/** A Kafka whose one consumer hands the test its eachMessage handler. */
function fakeKafka() {
  let handler: EachMessage | undefined;
  const consumer = {
    connect: async () => {},
    subscribe: async () => {},
    run: async (o: { eachMessage: EachMessage }) => void (handler = o.eachMessage),
    pause: () => {},
    resume: () => {},
    disconnect: async () => {},
  };
  return { kafka: { consumer: () => consumer } as unknown as Kafka, handler: () => handler! };
}

describe('the distill worker during a schema registry outage', () => {
  it('claims a job whose distill.jobs record arrived while the registry was down, instead of skipping it', async () => {
    let registryCalls = 0;
    // the first request meets the outage (what the chaos soak saw: ECONNREFUSED, the job left requested)
    const answer = async <T>(value: T): Promise<T> => {
      if (++registryCalls === 1) throw new Error('connect ECONNREFUSED 127.0.0.1:8081');
      return value;
    };
    const registry = {
      getSchema: () => answer({}),
      decode: () => answer({ jobId: '17' }),
    } as unknown as SchemaRegistry;
    const claimed: unknown[] = [];
    const pool = {
      query: async (sql: string, params: unknown[]) => {
        if (/UPDATE distill_jobs SET status = 'running'/.test(sql)) claimed.push(params[0]);
        return { rows: [], rowCount: 0 }; // not claimable: the test stops at the claim
      },
    } as unknown as pg.Pool;
    const deps = {
      pool,
      registry,
      producer: {} as DistillWorkerDeps['producer'],
      runner: { kind: 'local' } as DistillWorkerDeps['runner'],
      gate: {
        publishPendingReleases: async () => {},
        decidePending: async () => [],
      } as unknown as DistillWorkerDeps['gate'],
      config: {
        DISTILL_JOBS_TOPIC: 'distill.jobs',
        DISTILL_WORKER_GROUP_ID: 'w',
        DISTILL_GATE_RETRY_SECONDS: 3600,
      } as DistillWorkerDeps['config'],
      logger: createLogger('test', 'silent'),
      workerId: 'worker-1',
    } satisfies DistillWorkerDeps;
    const worker = new DistillWorker(deps);
    const { kafka, handler } = fakeKafka();
    await worker.start(kafka);
    let beats = 0;
    await handler()({
      topic: 'distill.jobs',
      partition: 0,
      message: { value: Buffer.from([0, 0, 0, 0, 3, 9, 9]), offset: '0' },
      heartbeat: async () => void beats++,
    });
    assert.deepEqual(claimed, ['17']);
    assert.equal(registryCalls, 3);
    assert.equal(beats, 1);
    await worker.stop();
  });
});
