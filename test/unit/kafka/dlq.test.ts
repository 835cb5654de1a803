import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildDlqHeaders,
  DLQ_HEADERS,
  DlqPublisher,
  dlqTopicFor,
  type DeadLetter,
} from '../../../services/shared/kafka/dlq.ts';
import {
  chunkByBytes,
  type MessageProducer,
  type OutgoingMessage,
} from '../../../services/shared/kafka/producer.ts';

const letter: DeadLetter = {
  reason: 'not-hl7',
  detail: 'does not start with an MSH segment',
  stage: 'report-labeler/extract',
  sourceTopic: 'hl7.oru.raw',
  sourcePartition: 3,
  sourceOffset: '12345',
  key: 'GENHOSP|M1',
  value: Buffer.from('garbage'),
  headers: { traceparent: Buffer.from('00-abc'), [DLQ_HEADERS.reason]: 'old-reason' },
};
const now = new Date('2024-03-01T12:00:00.000Z');

describe('DLQ headers', () => {
  it('carry reason, detail, stage, source topic/partition/offset and timestamp', () => {
    const h = buildDlqHeaders(letter, now);
    assert.equal(h[DLQ_HEADERS.reason], 'not-hl7');
    assert.equal(h[DLQ_HEADERS.detail], 'does not start with an MSH segment');
    assert.equal(h[DLQ_HEADERS.stage], 'report-labeler/extract');
    assert.equal(h[DLQ_HEADERS.sourceTopic], 'hl7.oru.raw');
    assert.equal(h[DLQ_HEADERS.sourcePartition], '3');
    assert.equal(h[DLQ_HEADERS.sourceOffset], '12345');
    assert.equal(h[DLQ_HEADERS.timestamp], '2024-03-01T12:00:00.000Z');
  });

  it('keep the original headers, ours winning on a clash', () => {
    const h = buildDlqHeaders(letter, now);
    assert.deepEqual(h.traceparent, Buffer.from('00-abc'));
    assert.equal(h[DLQ_HEADERS.reason], 'not-hl7');
  });

  it('cap the detail and omit it when absent', () => {
    assert.equal(
      String(buildDlqHeaders({ ...letter, detail: 'x'.repeat(2000) }, now)[DLQ_HEADERS.detail]).length,
      500,
    );
    assert.equal(buildDlqHeaders({ ...letter, detail: undefined }, now)[DLQ_HEADERS.detail], undefined);
  });

  it('name the DLQ topic <topic>.dlq', () => {
    assert.equal(dlqTopicFor('hl7.oru.raw'), 'hl7.oru.raw.dlq');
  });
});

describe('DlqPublisher', () => {
  it('sends the original key and bytes to the source topic DLQ', async () => {
    const sent: Array<{ topic: string; messages: OutgoingMessage[] }> = [];
    const producer: MessageProducer = {
      send: async (topic, messages) => void sent.push({ topic, messages }),
      disconnect: async () => {},
    };
    await new DlqPublisher(producer, () => now).publish([
      letter,
      { ...letter, sourceTopic: 'dicom.arrived' },
    ]);
    assert.deepEqual(
      sent.map((s) => s.topic),
      ['hl7.oru.raw.dlq', 'dicom.arrived.dlq'],
    );
    assert.equal(sent[0]!.messages[0]!.key, 'GENHOSP|M1');
    assert.deepEqual(sent[0]!.messages[0]!.value, Buffer.from('garbage'));
  });
});

describe('DlqPublisher with a value too large for the broker', () => {
  it('sends the headers without the value, saying how large it was', async () => {
    const sent: OutgoingMessage[] = [];
    const producer: MessageProducer = {
      send: async (_topic, messages) => void sent.push(...messages),
      disconnect: async () => {},
    };
    await new DlqPublisher(producer, () => now, 100).publish([{ ...letter, value: Buffer.alloc(101) }]);
    assert.equal(sent[0]!.value.length, 0);
    assert.equal(sent[0]!.headers![DLQ_HEADERS.valueOmitted], '101');
    assert.equal(sent[0]!.headers![DLQ_HEADERS.sourceOffset], '12345');
  });
});

describe('chunkByBytes', () => {
  it('splits a send into requests under the byte limit, keeping order', () => {
    const messages = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(100) }));
    const chunks = chunkByBytes(messages, 400);
    assert.ok(chunks.length > 1);
    assert.deepEqual(chunks.flat(), messages);
    for (const c of chunks) assert.ok(c.reduce((n, m) => n + m.key!.length + m.value.length + 64, 0) <= 400);
  });

  it('sends an oversized message alone rather than dropping it', () => {
    const big = { key: 'big', value: Buffer.alloc(1000) };
    assert.deepEqual(chunkByBytes([big], 400), [[big]]);
  });
});
