import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shardWithout } from '../../../services/shared/training-store/shard-without.ts';
import { sha256Hex } from '../../../services/shared/training-store/training-store.ts';

const plane = (value: number) => new Uint8Array(4).fill(value);
const shardOf = (...planes: Uint8Array[]) => Buffer.concat(planes);

describe('a shard without erased inputs (erasure)', () => {
  it('keeps the other inputs in their order and maps their old offsets to the new ones', () => {
    const shard = shardOf(plane(1), plane(2), plane(3), plane(4));
    const rest = shardWithout(shard, 4, new Set([sha256Hex(plane(2)), sha256Hex(plane(4))]));
    assert.deepEqual([...rest.content], [...plane(1), ...plane(3)]);
    assert.deepEqual(
      [...rest.offsets],
      [
        [0, 0],
        [8, 4],
      ],
    );
    assert.equal(rest.kept, 2);
    assert.equal(rest.removed, 2);
  });

  it('removes every copy of an erased input, indexed or not', () => {
    const rest = shardWithout(shardOf(plane(7), plane(1), plane(7)), 4, new Set([sha256Hex(plane(7))]));
    assert.deepEqual([...rest.content], [...plane(1)]);
    assert.equal(rest.removed, 2);
  });

  it("keeps another image's indexed input that has the same bytes as an erased one", () => {
    const rest = shardWithout(shardOf(plane(7), plane(7)), 4, new Set([sha256Hex(plane(7))]), new Set([4]));
    assert.deepEqual([...rest.offsets], [[4, 0]]);
    assert.equal(rest.removed, 1);
  });

  it('leaves nothing when every input is erased, and changes nothing when none is', () => {
    assert.equal(shardWithout(shardOf(plane(1)), 4, new Set([sha256Hex(plane(1))])).content.length, 0);
    const same = shardWithout(shardOf(plane(1), plane(2)), 4, new Set([sha256Hex(plane(9))]));
    assert.equal(same.removed, 0);
    assert.equal(same.kept, 2);
  });

  it('refuses a shard that is not a whole number of inputs', () => {
    assert.throws(() => shardWithout(new Uint8Array(6), 4, new Set()), /not a whole number/);
  });
});
