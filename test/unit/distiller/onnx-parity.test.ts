import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

/**
 * The distiller's ONNX exports compute what PyTorch computed: each parity fixture (written by
 * `python -m distiller export --parity-dir`) holds inputs and the PyTorch probabilities; here
 * onnxruntime-node runs the same file and must agree within the fixture's tolerance.
 */

interface ParitySpec {
  model: string;
  modelSha256: string;
  count: number;
  inputShape: number[];
  outputShape: number[];
  inputs: string;
  inputScale: number;
  outputs: string;
  tolerance: number;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function parityDirs(): string[] {
  const dirs = [join(root, 'test/fixtures/distiller-parity')];
  const models = join(root, 'models');
  if (existsSync(models)) {
    for (const name of readdirSync(models)) {
      const dir = join(models, name, 'parity');
      if (existsSync(join(dir, 'parity.json'))) dirs.push(dir);
    }
  }
  return dirs;
}

for (const dir of parityDirs()) {
  const label = dir.slice(root.length + 1);
  test(`onnxruntime-node matches PyTorch on ${label}`, async () => {
    const spec = JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8')) as ParitySpec;
    const modelPath = resolve(dir, spec.model);
    const modelBytes = readFileSync(modelPath);
    assert.equal(
      createHash('sha256').update(modelBytes).digest('hex'),
      spec.modelSha256,
      'fixture and model differ',
    );

    const raw = readFileSync(join(dir, spec.inputs));
    const input = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) input[i] = raw[i]! * spec.inputScale;
    const outBuf = readFileSync(join(dir, spec.outputs));
    const expected = new Float32Array(outBuf.buffer, outBuf.byteOffset, outBuf.byteLength / 4);

    const session = await ort.InferenceSession.create(modelBytes);
    assert.deepEqual(session.inputNames, ['image']);
    assert.deepEqual(session.outputNames, ['prob']);
    // Dynamic batch: the whole set at once, then one image alone, give the same numbers.
    const all = await session.run({ image: new ort.Tensor('float32', input, spec.inputShape) });
    const prob = all.prob!;
    assert.deepEqual(prob.dims, spec.outputShape);
    const got = prob.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    assert.ok(maxDiff <= spec.tolerance, `max |onnxruntime - torch| = ${maxDiff} > ${spec.tolerance}`);

    const [, c, h, w] = spec.inputShape as [number, number, number, number];
    const one = await session.run({
      image: new ort.Tensor('float32', input.slice(0, c * h * w), [1, c, h, w]),
    });
    const perImage = got.length / spec.count;
    const single = one.prob!.data as Float32Array;
    assert.equal(single.length, perImage);
    for (let i = 0; i < perImage; i++) assert.ok(Math.abs(single[i]! - got[i]!) <= spec.tolerance);
    await session.release();
  });
}
