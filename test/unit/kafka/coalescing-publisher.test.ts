import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoalescingPublisher } from '../../../services/shared/kafka/coalescing-publisher.ts';
import type { MessageProducer, OutgoingMessage } from '../../../services/shared/kafka/producer.ts';

/** A producer whose requests complete when the test says so. */
class GatedProducer implements MessageProducer {
  requests: string[][] = [];
  private gates: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  send(_topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.requests.push(messages.map((m) => String(m.key)));
    return new Promise((resolve, reject) => this.gates.push({ resolve, reject }));
  }
  async disconnect(): Promise<void> {}
  complete(ok = true): void {
    const gate = this.gates.shift()!;
    if (ok) gate.resolve();
    else gate.reject(new Error('broker down'));
  }
}

const msg = (key: string): OutgoingMessage => ({ key, value: key });
const tick = () => new Promise((r) => setImmediate(r));

describe('CoalescingPublisher', () => {
  it('sends what arrives during a request together in the next one, and resolves each caller after its own', async () => {
    const producer = new GatedProducer();
    const publisher = new CoalescingPublisher(producer, 't');
    const done: string[] = [];
    const a = publisher.publish([msg('a')]).then(() => done.push('a'));
    await tick();
    const b = publisher.publish([msg('b')]).then(() => done.push('b'));
    const c = publisher.publish([msg('c')]).then(() => done.push('c'));
    await tick();
    assert.deepEqual(producer.requests, [['a']]);
    producer.complete();
    await a;
    await tick();
    assert.deepEqual(producer.requests, [['a'], ['b', 'c']]);
    assert.deepEqual(done, ['a'], 'b and c wait for their own request');
    producer.complete();
    await Promise.all([b, c]);
    assert.deepEqual(done, ['a', 'b', 'c']);
  });

  it('fails every caller of a failed request, and withdraws callers that gave up before being sent', async () => {
    const producer = new GatedProducer();
    const publisher = new CoalescingPublisher(producer, 't');
    const a = publisher.publish([msg('a')]);
    await tick();
    const controller = new AbortController();
    const b = publisher.publish([msg('b')], controller.signal);
    const c = publisher.publish([msg('c')]);
    controller.abort(new Error('gave up'));
    await assert.rejects(b, /gave up/);
    producer.complete(false);
    await assert.rejects(a, /broker down/);
    await tick();
    assert.deepEqual(producer.requests, [['a'], ['c']], 'b was never sent');
    producer.complete();
    await c;
  });
});
