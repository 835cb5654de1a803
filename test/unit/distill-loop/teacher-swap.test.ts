import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SwappableTeacher } from '../../../services/pseudo-labeler/teacher-swap.ts';
import type { Teacher } from '../../../services/shared/onnx/teacher.ts';

function fakeTeacher(version: string, log: string[]): Teacher {
  return {
    version,
    provider: 'cpu',
    inputWidth: 4,
    inputHeight: 4,
    async run(images) {
      log.push(`${version}:run`);
      return images.map(() => ({ maps: [new Float32Array(1), new Float32Array(1)], height: 1, width: 1 }));
    },
    async release() {
      log.push(`${version}:release`);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SwappableTeacher', () => {
  it('a swap waits for the chunk in progress, which keeps its version throughout', async () => {
    const log: string[] = [];
    const t = new SwappableTeacher(fakeTeacher('v1', log));
    let finishChunk!: () => void;
    const versions: string[] = [];
    const chunk = t.hold(async () => {
      versions.push(t.version);
      await new Promise<void>((r) => (finishChunk = r));
      await t.run([new Float32Array(16)]);
      versions.push(t.version);
    });
    await tick();
    let swapped = false;
    const swap = t.swap(fakeTeacher('v2', log)).then((prev) => {
      swapped = true;
      return prev;
    });
    await tick();
    assert.equal(swapped, false, 'the swap must wait for the chunk');
    assert.equal(t.version, 'v1');
    finishChunk();
    await chunk;
    const previous = await swap;
    assert.deepEqual(versions, ['v1', 'v1']);
    assert.equal(previous.version, 'v1');
    assert.equal(t.version, 'v2');
    assert.deepEqual(log, ['v1:run']);
  });

  it('chunks started while a swap is pending run on the new teacher', async () => {
    const log: string[] = [];
    const t = new SwappableTeacher(fakeTeacher('v1', log));
    let finishFirst!: () => void;
    const first = t.hold(() => new Promise<void>((r) => (finishFirst = r)));
    await tick();
    const swap = t.swap(fakeTeacher('v2', log));
    await tick();
    const second = t.hold(async () => t.version);
    await tick();
    finishFirst();
    await first;
    await swap;
    assert.equal(await second, 'v2');
  });

  it('without chunks in progress the swap is immediate', async () => {
    const t = new SwappableTeacher(fakeTeacher('v1', []));
    await t.swap(fakeTeacher('v2', []));
    assert.equal(t.version, 'v2');
    assert.equal(await t.hold(async () => t.version), 'v2');
  });
});
