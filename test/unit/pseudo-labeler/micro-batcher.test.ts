import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackPressure } from '../../../services/pseudo-labeler/back-pressure.ts';
import { MicroBatcher } from '../../../services/pseudo-labeler/micro-batcher.ts';

describe('micro-batcher', () => {
  it('runs full batches of maxBatchSize and the remainder after the wait, in order', async () => {
    const batches: number[][] = [];
    const b = new MicroBatcher<number, number>(
      async (items) => {
        batches.push(items);
        return items.map((x) => x * 10);
      },
      { maxBatchSize: 4, maxWaitMs: 5 },
    );
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => b.submit(x)));
    assert.deepEqual(results, [10, 20, 30, 40, 50, 60]);
    assert.deepEqual(batches, [
      [1, 2, 3, 4],
      [5, 6],
    ]);
    assert.equal(b.depth, 0);
  });

  it('rejects only the items of a failed batch; later items still run', async () => {
    let calls = 0;
    const b = new MicroBatcher<number, number>(
      async (items) => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return items;
      },
      { maxBatchSize: 2, maxWaitMs: 1 },
    );
    const first = [b.submit(1), b.submit(2)];
    const later = b.submit(3);
    await assert.rejects(first[0]!, /boom/);
    await assert.rejects(first[1]!, /boom/);
    assert.equal(await later, 3);
  });

  it('reports depth changes and batch sizes, and waitForRoom resolves once the queue drains', async () => {
    const depths: number[] = [];
    const sizes: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new MicroBatcher<number, number>(
      async (items) => {
        await gate;
        return items;
      },
      { maxBatchSize: 3, maxWaitMs: 0, onDepth: (d) => depths.push(d), onBatch: (n) => sizes.push(n) },
    );
    const all = [1, 2, 3].map((x) => b.submit(x));
    assert.equal(b.depth, 3);
    let roomy = false;
    const room = b.waitForRoom(2).then(() => (roomy = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(roomy, false, 'no room while three items are in flight');
    release();
    await Promise.all([...all, room]);
    assert.equal(roomy, true);
    assert.deepEqual(depths, [1, 2, 3, 0]);
    assert.deepEqual(sizes, [3]);
  });

  it('refuses a batch size below 1', () => {
    assert.throws(() => new MicroBatcher(async (x) => x, { maxBatchSize: 0, maxWaitMs: 1 }), /maxBatchSize/);
  });
});

describe('back-pressure', () => {
  it('pauses at the high mark and resumes only once drained to the low mark', () => {
    const bp = new BackPressure(8, 4);
    assert.deepEqual(
      [3, 7, 8, 9, 6, 5, 4, 3, 8].map((d) => bp.update(d)),
      [null, null, 'pause', null, null, null, 'resume', null, 'pause'],
    );
  });

  it('defaults the low mark to half the high mark and checks the bounds', () => {
    assert.equal(new BackPressure(64).low, 32);
    assert.throws(() => new BackPressure(4, 4), /low < high/);
  });
});
