import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAcceptedTypes } from '../../../services/hl7-gateway/intake.ts';
import { MessageHandler, type RawPublisher } from '../../../services/hl7-gateway/message-handler.ts';
import { createHl7GatewayMetrics } from '../../../services/hl7-gateway/metrics.ts';
import type { OutgoingMessage } from '../../../services/shared/kafka/producer.ts';
import { createLogger } from '../../../services/shared/observability/logger.ts';

const oru = (id: string, type = 'ORU^R01') =>
  Buffer.from(`MSH|^~\\&|RIS|GENHOSP|FH|RESEARCH|20240105||${type}|${id}|P|2.5.1\rOBX|1|TX|||Normal.\r`);

class FakePublisher implements RawPublisher {
  published: OutgoingMessage[] = [];
  release: (() => void) | undefined;
  mode: 'ok' | 'fail' | 'hang' | 'gate' = 'ok';
  async publish(messages: OutgoingMessage[]): Promise<void> {
    if (this.mode === 'fail') throw new Error('broker down');
    if (this.mode === 'hang') return new Promise(() => {});
    if (this.mode === 'gate') await new Promise<void>((r) => (this.release = r));
    this.published.push(...messages);
  }
}

function handler(publisher: RawPublisher, timeoutMs = 200) {
  return new MessageHandler(
    { acceptedTypes: parseAcceptedTypes('ORU^R01'), maxMessageBytes: 10_000 },
    publisher,
    timeoutMs,
    createHl7GatewayMetrics(),
    createLogger('test', 'silent'),
  );
}

const msa = (ack: string) => ack.split('\r').filter((s) => s.startsWith('MSA'));

describe('MessageHandler', () => {
  it('answers AA only once the publish is acknowledged, with the raw bytes and the MSH-4|MSH-10 key', async () => {
    const publisher = new FakePublisher();
    publisher.mode = 'gate';
    let answered = false;
    const pending = handler(publisher)
      .handle(oru('M1'))
      .then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(answered, false, 'no ACK before Kafka acknowledged');
    publisher.release!();
    const response = await pending;
    assert.deepEqual(msa(response.ack!), ['MSA|AA|M1']);
    assert.deepEqual(publisher.published, [{ key: 'GENHOSP|M1', value: oru('M1') }]);
  });

  it('answers nothing when Kafka fails or does not acknowledge in time', async () => {
    for (const mode of ['fail', 'hang'] as const) {
      const publisher = new FakePublisher();
      publisher.mode = mode;
      const response = await handler(publisher, 50).handle(oru('M2'));
      assert.equal(response.ack, null, mode);
    }
  });

  it('refuses a wrong message type with AR and publishes nothing', async () => {
    const publisher = new FakePublisher();
    const response = await handler(publisher).handle(oru('M3', 'ADT^A08'));
    assert.deepEqual(msa(response.ack!), [
      // ^ is the component separator: escaped as \S\ inside the text
      'MSA|AR|M3|message type ADT\\S\\A08 is not accepted here (accepted: ORU\\S\\R01)',
    ]);
    assert.equal(publisher.published.length, 0);
  });

  it('acknowledges a batch message by message, publishing only the accepted ones together', async () => {
    const publisher = new FakePublisher();
    const batch = Buffer.concat([
      Buffer.from('BHS|^~\\&|RIS|GENHOSP|FH|RESEARCH|20240105||||B7\r'),
      oru('B7-1'),
      oru('B7-2', 'ADT^A01'),
      oru('B7-3'),
      Buffer.from('BTS|3\r'),
    ]);
    const response = await handler(publisher).handle(batch);
    assert.match(response.ack!, /^BHS\|/);
    assert.deepEqual(
      msa(response.ack!).map((s) => s.split('|').slice(0, 3).join('|')),
      ['MSA|AA|B7-1', 'MSA|AR|B7-2', 'MSA|AA|B7-3'],
    );
    assert.deepEqual(
      publisher.published.map((m) => m.key),
      ['GENHOSP|B7-1', 'GENHOSP|B7-3'],
    );
  });
});
