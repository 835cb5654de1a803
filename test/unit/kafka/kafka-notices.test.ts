import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { logLevel } from 'kafkajs';
import pino from 'pino';
import { createKafka, isKnownNotice } from '../../../services/shared/kafka/client.ts';
import { idempotentProducer } from '../../../services/shared/kafka/producer.ts';

/** A pino logger whose lines are kept (warn and above, as a service logs kafkajs). */
function capturingLogger(): { logger: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

// No broker is needed: kafkajs prints both notices when a producer is created, before connecting.
describe('kafkajs start-up notices', () => {
  it('the services producer prints neither the idempotent-retries nor the partitioner notice', async () => {
    delete process.env.KAFKAJS_NO_PARTITIONER_WARNING;
    const { logger, lines } = capturingLogger();
    const kafka = createKafka({ clientId: 'notices', brokers: ['127.0.0.1:1'] }, logger);
    idempotentProducer(kafka);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 0, JSON.stringify(lines));

    // the same client logs what kafkajs says about a producer configured otherwise
    kafka.producer({ idempotent: true, retry: { retries: 3 } });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      lines.map((l) => l.msg.slice(0, 40)),
      ['KafkaJS v2.0.0 switched default partitio'],
      'the partitioner notice still shows when the partitioner is not named',
    );
  });

  it('only the bounded-retries notice of the idempotent producer is dropped, other warnings pass', () => {
    const warn = logLevel.WARN;
    const notice = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';
    assert.equal(isKnownNotice({ level: warn, log: { message: notice } as never }), true);
    assert.equal(isKnownNotice({ level: warn, log: { message: 'Connection timeout' } as never }), false);
    assert.equal(isKnownNotice({ level: logLevel.ERROR, log: { message: notice } as never }), false);
  });
});
