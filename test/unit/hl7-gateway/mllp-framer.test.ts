import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mllpFrame, MllpFramer } from '../../../services/hl7-gateway/mllp-framer.ts';

const msg = (id: string) =>
  Buffer.from(`MSH|^~\\&|RIS|HOSP|FH|R|20240101||ORU^R01|${id}|P|2.5.1\rOBX|1|TX|||é\r`, 'latin1');

describe('MllpFramer', () => {
  it('returns each framed message byte-exact, however the stream is cut', () => {
    const stream = Buffer.concat([mllpFrame(msg('A')), mllpFrame(msg('B')), mllpFrame(msg('C'))]);
    for (const cut of [1, 2, 3, 7, 50, stream.length]) {
      const framer = new MllpFramer(10_000);
      const got: Buffer[] = [];
      for (let i = 0; i < stream.length; i += cut) {
        for (const e of framer.push(stream.subarray(i, i + cut))) {
          assert.equal(e.kind, 'message');
          if (e.kind === 'message') got.push(e.bytes);
        }
      }
      assert.deepEqual(got, [msg('A'), msg('B'), msg('C')], `chunks of ${cut}`);
      assert.equal(framer.pendingBytes, 0);
    }
  });

  it('keeps an unfinished frame pending (a sender that disconnects mid-message) and delivers nothing of it', () => {
    const framer = new MllpFramer(10_000);
    const whole = mllpFrame(msg('A'));
    assert.deepEqual(framer.push(whole.subarray(0, 20)), []);
    assert.equal(framer.pendingBytes, 19);
  });

  it('discards a frame over the limit as it streams, then reports it once with its head and size', () => {
    const framer = new MllpFramer(100);
    const big = Buffer.concat([msg('BIG'), Buffer.alloc(5000, 0x41)]);
    const events = [
      ...framer.push(mllpFrame(big).subarray(0, 3000)),
      ...framer.push(mllpFrame(big).subarray(3000)),
    ];
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.equal(e.kind, 'oversize');
    if (e.kind === 'oversize') {
      assert.equal(e.size, big.length);
      assert.ok(e.head.subarray(0, 3).toString() === 'MSH');
    }
    // the next frame is read normally
    assert.deepEqual(framer.push(mllpFrame(msg('OK'))), [{ kind: 'message', bytes: msg('OK') }]);
  });

  it('reports bytes sent outside any frame (raw HL7 without MLLP) when the next frame starts', () => {
    const framer = new MllpFramer(10_000);
    assert.deepEqual(framer.push(msg('RAW')), []);
    const events = framer.push(mllpFrame(msg('OK')));
    assert.equal(events[0]!.kind, 'outside-frame');
    assert.deepEqual(events[1], { kind: 'message', bytes: msg('OK') });
  });
});
