import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import {
  ChunkedConsumer,
  type ChunkedConsumerSettings,
} from '../../../services/shared/kafka/chunked-consumer.ts';
import { createLogger } from '../../../services/shared/observability/logger.ts';

const settings: ChunkedConsumerSettings = {
  groupId: 'test-group',
  topics: ['in.a', 'in.b'],
  fromBeginning: true,
  maxBatchMessages: 10,
  fetchMaxBytes: 65_536,
  partitionsConsumedConcurrently: 1,
  retryInitialMs: 1,
  retryMaxMs: 2,
  sessionTimeoutMs: 6000,
};
const logger = createLogger('chunked-consumer-test', 'silent');

function message(offset: string): KafkaMessage {
  return { offset, key: null, value: Buffer.from('x'), timestamp: '0', attributes: 0, headers: {} };
}

/** A fetched batch on in.a partition 2, recording what the consumer resolves and commits. */
function fakePayload(offsets: string[]) {
  const record = { resolved: [] as string[], committed: [] as string[], heartbeats: 0 };
  const control = { running: true, stale: false };
  const payload = {
    batch: { topic: 'in.a', partition: 2, highWatermark: '100', messages: offsets.map(message) },
    resolveOffset: (offset: string) => void record.resolved.push(offset),
    commitOffsetsIfNecessary: async (o: {
      topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
    }) => {
      const [t] = o.topics;
      record.committed.push(`${t!.topic}/${t!.partitions[0]!.partition}@${t!.partitions[0]!.offset}`);
    },
    heartbeat: async () => void record.heartbeats++,
    isRunning: () => control.running,
    isStale: () => control.stale,
  } as unknown as EachBatchPayload;
  return { payload, record, control };
}

/** The part of kafkajs the consumer talks to, recording calls. */
function fakeKafka() {
  const calls: string[] = [];
  const handlers = new Map<string, (event: { payload: { error: Error; restart: boolean } }) => void>();
  const consumer = {
    events: { GROUP_JOIN: 'join', CRASH: 'crash' },
    on: (name: string, handler: never) => void handlers.set(name, handler),
    connect: async () => void calls.push('connect'),
    subscribe: async (o: { topics: string[]; fromBeginning: boolean }) =>
      void calls.push(`subscribe ${o.topics.join(',')} fromBeginning=${o.fromBeginning}`),
    run: async (o: { autoCommit: boolean; eachBatchAutoResolve: boolean }) =>
      void calls.push(`run autoCommit=${o.autoCommit} autoResolve=${o.eachBatchAutoResolve}`),
    pause: (t: { topic: string }[]) => void calls.push(`pause ${t.map((x) => x.topic).join(',')}`),
    resume: (t: { topic: string }[]) => void calls.push(`resume ${t.map((x) => x.topic).join(',')}`),
    disconnect: async () => void calls.push('disconnect'),
  };
  const kafka = { consumer: () => consumer } as unknown as Kafka;
  return { kafka, calls, handlers };
}

describe('ChunkedConsumer', () => {
  it('retries a failing chunk, degraded and committing nothing, until it succeeds', async () => {
    const { kafka } = fakeKafka();
    const group = new ChunkedConsumer(kafka, settings, logger, async () => {});
    const { payload, record } = fakePayload(['7', '8', '9']);
    const failures: number[] = [];
    let tries = 0;
    const health: string[] = [];
    const done = await group.retryUntilDone(
      payload,
      async () => {
        tries++;
        if (tries < 3) throw new Error(`database down (${tries})`);
      },
      (err, attempt) => {
        failures.push(attempt);
        health.push(group.health().status);
        assert.match(err.message, /database down/);
        assert.deepEqual(record.committed, []);
      },
    );
    assert.equal(done, true);
    assert.deepEqual(failures, [0, 1]);
    assert.deepEqual(health, ['degraded', 'degraded']);
    assert.equal(group.health().status, 'degraded');
    const next = await group.commitChunk(payload, payload.batch.messages);
    assert.equal(next, '10');
    assert.deepEqual(record.resolved, ['9']);
    assert.deepEqual(record.committed, ['in.a/2@10']);
    assert.equal(group.health().status, 'ok');
  });

  /** Fails every try; `meanwhile` changes the consumer's state during the first failure. */
  async function retryWhile(meanwhile: (control: { running: boolean; stale: boolean }) => void) {
    const { kafka } = fakeKafka();
    const group = new ChunkedConsumer(kafka, settings, logger, async () => {});
    const { payload, record, control } = fakePayload(['1']);
    let tries = 0;
    const done = await group.retryUntilDone(
      payload,
      async () => {
        tries++;
        throw new Error('dependency unavailable');
      },
      () => meanwhile(control),
    );
    return { done, tries, record };
  }

  it('turns unhealthy, with the error, once one chunk has failed for longer than the bound', async () => {
    const { kafka } = fakeKafka();
    const group = new ChunkedConsumer(kafka, { ...settings, unhealthyAfterMs: 20 }, logger, async () => {});
    const { payload } = fakePayload(['1']);
    const seen: Array<{ status: string; level: string }> = [];
    const started = Date.now();
    const done = await group.retryUntilDone(
      payload,
      async () => {
        if (Date.now() - started < 60) throw new Error('topic labels.pseudo does not exist');
      },
      (_err, _attempt, _delay, failingMs) =>
        seen.push({ status: group.health().status, level: group.retryLogLevel(failingMs) }),
    );
    assert.equal(done, true);
    assert.deepEqual(seen[0], { status: 'degraded', level: 'warn' });
    assert.deepEqual(seen.at(-1), { status: 'unhealthy', level: 'error' });
    assert.match(group.health().detail ?? '', /topic labels\.pseudo does not exist/);
    await group.commitChunk(payload, payload.batch.messages);
    assert.equal(group.health().status, 'ok');
  });

  it('stops retrying without committing when the consumer shuts down', async () => {
    const { done, tries, record } = await retryWhile((control) => {
      control.running = false;
    });
    assert.equal(done, false);
    assert.equal(tries, 1);
    assert.deepEqual(record.resolved, []);
    assert.deepEqual(record.committed, []);
  });

  it('gives the chunk up when its partition is reassigned during the back-off', async () => {
    const { done, tries, record } = await retryWhile((control) => {
      control.stale = true;
    });
    assert.equal(done, false);
    assert.equal(tries, 1);
    assert.deepEqual(record.resolved, []);
    assert.deepEqual(record.committed, []);
  });

  it('subscribes with manual offsets, pauses and resumes every topic once, and disconnects on stop', async () => {
    const { kafka, calls } = fakeKafka();
    const group = new ChunkedConsumer(kafka, settings, logger, async () => {});
    assert.equal(group.pause(), false, 'nothing to pause before start');
    await group.start();
    assert.equal(group.health().status, 'starting');
    assert.equal(group.pause(), true);
    assert.equal(group.pause(), false);
    assert.equal(group.resume(), true);
    assert.equal(group.resume(), false);
    await group.stop();
    assert.deepEqual(group.health(), { status: 'stopped', detail: 'shutting down' });
    assert.deepEqual(calls, [
      'connect',
      'subscribe in.a,in.b fromBeginning=true',
      'run autoCommit=false autoResolve=false',
      'pause in.a,in.b',
      'resume in.a,in.b',
      'disconnect',
    ]);
  });

  it('reports healthy on joining the group and rejects `stopped` on a crash kafkajs will not restart', async () => {
    const { kafka, handlers } = fakeKafka();
    const group = new ChunkedConsumer(kafka, settings, logger, async () => {});
    await group.start();
    handlers.get('join')!({ payload: { error: new Error('unused'), restart: false } });
    assert.equal(group.health().status, 'ok');
    handlers.get('crash')!({ payload: { error: new Error('transient'), restart: true } });
    assert.equal(group.health().status, 'ok');
    handlers.get('crash')!({ payload: { error: new Error('fatal'), restart: false } });
    assert.deepEqual(group.health(), { status: 'stopped', detail: 'consumer crashed' });
    await assert.rejects(group.stopped, /fatal/);
  });
  it('keeps heartbeating while a chunk works longer than the session timeout, so the member is not evicted', async () => {
    // A registry or database answering slowly after an outage, or a busy machine: one try of the
    // chunk outlasts the session timeout. Without heartbeats during the try the coordinator evicts
    // the member, the offset commit fails and the chunk is consumed again, as slowly (issue 17).
    const { kafka } = fakeKafka();
    const sessionTimeoutMs = 1000;
    const group = new ChunkedConsumer(kafka, { ...settings, sessionTimeoutMs }, logger, async () => {});
    const { payload, record } = fakePayload(['7']);
    let beatsDuringTry = 0;
    const done = await group.retryUntilDone(
      payload,
      async () => {
        // the work ends once the consumer has heartbeaten twice meanwhile, or after ten session
        // timeouts without (the member would have been evicted long before)
        const until = Date.now() + 10 * sessionTimeoutMs;
        while (record.heartbeats < 2 && Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        beatsDuringTry = record.heartbeats;
      },
      () => assert.fail('no retry'),
    );
    assert.equal(done, true);
    assert.ok(beatsDuringTry >= 2, `heartbeats while the chunk worked: ${beatsDuringTry}`);
    // and none once it is over
    const after = record.heartbeats;
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(record.heartbeats, after, 'the heartbeat timer stops with the try');
  });
});
