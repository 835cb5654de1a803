/**
 * Does gating leak? The chaos soak saw the distill-worker's RSS step up by 120-190 MB at its first
 * gating and stay there, but no worker lived through two gatings. This runs the gate's own work
 * as the distill-worker does it (load the candidate and the active model into onnxruntime-node,
 * score both with shared/distill/evaluate-onnx.ts on a held-out set of model inputs, release both)
 * many times in one process and prints RSS after each:
 * a one-time cost levels off after the first gatings, a leak grows by about the same step each time.
 * The held-out set is made afresh for each gating, as the worker reads it from the training store
 * for each candidate. Run: npm run bench:gate-memory [-- --gatings 12 --images 120 --candidate F.onnx]
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateTeacher, type HeldOutSet } from '../services/shared/distill/evaluate-onnx.ts';
import { createLogger } from '../services/shared/observability/logger.ts';
import { OnnxTeacher } from '../services/shared/onnx/teacher.ts';

const { values } = parseArgs({
  options: {
    gatings: { type: 'string', default: '12' },
    images: { type: 'string', default: '120' },
    active: { type: 'string', default: 'models/teacher/teacher.onnx' },
    candidate: { type: 'string', default: 'models/teacher/teacher.onnx' },
  },
});
const gatings = Number(values.gatings);
const count = Number(values.images);
for (const file of [values.active, values.candidate])
  if (!existsSync(file)) throw new Error(`${file} does not exist (--active / --candidate: an ONNX model)`);
const logger = createLogger('bench-gate-memory', 'warn');
const size = 256;

/** A held-out set of `count` noisy inputs, a third of them with one rib and one clavicle box. */
function heldOutSet(seed: number): HeldOutSet {
  let x = seed * 2654435761;
  const images = Array.from({ length: count }, () => {
    const img = new Float32Array(size * size);
    for (let i = 0; i < img.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      img[i] = (x >>> 24) / 255;
    }
    return img;
  });
  const entries = images.map((_, n) => ({
    sopInstanceUid: `2.25.${seed}.${n}`,
    boxes:
      n % 3 === 0
        ? [
            { class: 'rib' as const, box: [40, 60, 80, 90] as [number, number, number, number] },
            { class: 'clavicle' as const, box: [100, 20, 140, 40] as [number, number, number, number] },
          ]
        : [],
  }));
  return { dir: 'bench', split: 'region-test', size, entries, images, id: `bench#${seed}` };
}

const load = (file: string, version: string) =>
  OnnxTeacher.load({
    modelPath: path.resolve(file),
    version,
    providers: ['cpu'],
    intraOpThreads: 0, // as the worker's gate
    fallbackInputSize: size,
    logger,
  });

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const rss: number[] = [];
console.log(`gate memory: ${gatings} gatings, ${count} held-out images of ${size} px, in one process`);
console.log(`before: RSS ${mb(process.memoryUsage().rss)} MB`);
for (let g = 1; g <= gatings; g++) {
  const t0 = Date.now();
  const set = heldOutSet(g);
  for (const [file, version] of [
    [values.candidate, `candidate-${g}`],
    [values.active, 'active'],
  ] as const) {
    const model = await load(file, version);
    try {
      await evaluateTeacher(model, set);
    } finally {
      await model.release();
    }
  }
  const m = process.memoryUsage();
  rss.push(m.rss);
  console.log(
    `gating ${String(g).padStart(2)}: RSS ${mb(m.rss)} MB, V8 heap ${mb(m.heapUsed)} MB, ` +
      `external ${mb(m.external + m.arrayBuffers)} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}
const half = Math.floor(rss.length / 2);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const firstHalf = mean(rss.slice(1, half + 1));
const lastHalf = mean(rss.slice(half + 1));
console.log(
  `RSS after gating 1: ${mb(rss[0]!)} MB; mean of gatings 2-${half + 1}: ${mb(firstHalf)} MB; ` +
    `of gatings ${half + 2}-${gatings}: ${mb(lastHalf)} MB ` +
    `(${(((lastHalf - firstHalf) / firstHalf) * 100).toFixed(1)}%); ` +
    `growth per gating (least squares) after the first: ${mb(slope(rss.slice(1)))} MB, ` +
    `over gatings ${half + 2}-${gatings}: ${mb(slope(rss.slice(half + 1)))} MB`,
);

function slope(ys: number[]): number {
  const xs = ys.map((_, i) => i);
  const mx = mean(xs);
  const my = mean(ys);
  const num = xs.reduce((a, xv, i) => a + (xv - mx) * (ys[i]! - my), 0);
  const den = xs.reduce((a, xv) => a + (xv - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}
