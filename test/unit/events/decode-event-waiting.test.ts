import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { decodeEventWaiting, UnusableEventError } from '../../../services/shared/events/decode-event.ts';

/** A record in the Confluent wire format (magic byte 0, schema id 7) with an opaque body. */
const RECORD = Buffer.from([0, 0, 0, 0, 7, 1, 2, 3]);

/** A registry that is unreachable for the first `downCalls` calls, then answers. */
function registry(downCalls: number, schemaKnown = true) {
  let calls = 0;
  const fake = {
    calls: () => calls,
    getSchema: async () => {
      calls++;
      if (calls <= downCalls) throw new Error('connect ECONNREFUSED 127.0.0.1:8081');
      if (!schemaKnown) throw Object.assign(new Error('Schema not found'), { status: 404 });
      return {};
    },
    decode: async () => ({ jobId: '42' }),
  };
  return fake as unknown as SchemaRegistry & { calls: () => number };
}

const noSleep = async () => {};

describe('decoding a record that must not be skipped while the registry is down', () => {
  it('waits out an unreachable registry with back-off and heartbeats, then decodes the record', async () => {
    const delays: number[] = [];
    let beats = 0;
    const r = registry(4);
    const decoded = await decodeEventWaiting(r, RECORD, {
      signal: new AbortController().signal,
      heartbeat: async () => void beats++,
      onRetry: (_, ms) => delays.push(ms),
      initialDelayMs: 100,
      maxDelayMs: 500,
      sleep: noSleep,
    });
    assert.deepEqual(decoded, { event: { jobId: '42' } });
    assert.deepEqual(delays, [100, 200, 400, 500]);
    assert.equal(beats, 4);
    assert.equal(r.calls(), 5);
  });

  it('returns bad bytes and unknown schema ids at once as unusable, without waiting', async () => {
    const retries: number[] = [];
    const options = {
      signal: new AbortController().signal,
      onRetry: (_: Error, ms: number) => retries.push(ms),
      sleep: noSleep,
    };
    const notAvro = await decodeEventWaiting(registry(0), Buffer.from('MSH|^~\\&'), options);
    assert.ok('unusable' in notAvro && notAvro.unusable instanceof UnusableEventError);
    assert.equal(notAvro.unusable.reason, 'not-avro');
    const unknown = await decodeEventWaiting(registry(0, false), RECORD, options);
    assert.ok('unusable' in unknown && unknown.unusable.reason === 'unknown-schema');
    assert.deepEqual(retries, []);
  });

  it('gives up with the registry error once the service is stopping (the record is redelivered)', async () => {
    const stopping = new AbortController();
    await assert.rejects(
      decodeEventWaiting(registry(1000), RECORD, {
        signal: stopping.signal,
        sleep: async () => stopping.abort(),
      }),
      /ECONNREFUSED/,
    );
  });
});
