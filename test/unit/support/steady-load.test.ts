import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { SteadyLoad } from '../../support/steady-load.ts';

/** A broker that acknowledges every send after `sendMs` (a busy machine) and records what it got. */
function slowBroker(sendMs: number): { kafka: Kafka; received: string[] } {
  const received: string[] = [];
  const producer = {
    connect: async () => {},
    disconnect: async () => {},
    send: async ({ messages }: { messages: Array<{ value: string }> }) => {
      await new Promise((resolve) => setTimeout(resolve, sendMs));
      for (const m of messages) received.push(m.value);
    },
  };
  return { kafka: { producer: () => producer } as unknown as Kafka, received };
}

/** The i-th message of a load, its id and value `<prefix><i>`. */
const numbered =
  (prefix: string) =>
  (i: number): { id: string; key: null; value: string } => ({
    id: `${prefix}${i}`,
    key: null,
    value: `${prefix}${i}`,
  });

describe('a steady test load', () => {
  it('sends rate x duration messages even when a send outlasts the end of the run', async () => {
    // sends of 300 ms in a 1 s run: one is still in flight when the run's time is up
    const { kafka, received } = slowBroker(300);
    const load = new SteadyLoad({
      kafka,
      topic: 't',
      ratePerSecond: 100,
      durationMs: 1_000,
      message: numbered('m'),
    });
    await load.done;
    assert.equal(load.sent, 100);
    assert.deepEqual(
      load.acked,
      Array.from({ length: 100 }, (_, i) => `m${i}`),
    );
    assert.deepEqual(received, load.acked);
  });

  it('two loads of the same rate and duration send the same messages, however slow their sends', async () => {
    const fast = slowBroker(1);
    const slow = slowBroker(170);
    const options = { topic: 't', ratePerSecond: 40, durationMs: 900 };
    const message = numbered('acc-');
    const a = new SteadyLoad({ ...options, kafka: fast.kafka, message });
    const b = new SteadyLoad({ ...options, kafka: slow.kafka, message });
    await Promise.all([a.done, b.done]);
    assert.equal(a.sent, 36);
    assert.deepEqual(b.acked, a.acked);
  });

  it('stop() ends the run early, still sending what was already due', async () => {
    const { kafka } = slowBroker(1);
    const load = new SteadyLoad({
      kafka,
      topic: 't',
      ratePerSecond: 100,
      durationMs: 60_000,
      message: numbered('m'),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    load.stop();
    await load.done;
    assert.ok(load.sent > 0 && load.sent < 6_000, `sent ${load.sent}`);
    assert.equal(load.acked.length, load.sent);
  });
});
