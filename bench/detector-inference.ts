/**
 * Detector inference throughput with onnxruntime-node on CPU (images/s), on the committed
 * default teacher or any ONNX file. Prints one JSON line per batch size.
 * Run: npm run bench:infer [-- --model models/teacher/teacher.onnx --threads 2 --seconds 5]
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/teacher/teacher.onnx' },
    threads: { type: 'string', default: '0' },
    seconds: { type: 'string', default: '4' },
    batches: { type: 'string', default: '1,8,32' },
  },
});
const modelPath = values.model!;
if (!existsSync(modelPath)) {
  console.error(`bench: ${modelPath} does not exist (npm run teacher:build writes the default teacher)`);
  process.exit(1);
}
const threads = Number(values.threads);
const session = await ort.InferenceSession.create(readFileSync(modelPath), {
  executionProviders: ['cpu'],
  ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
});
// The input side is fixed in the exported graph: [batch, 1, H, W].
const meta = session.inputMetadata[0];
const dims = meta && meta.isTensor ? meta.shape : [];
const size = typeof dims[3] === 'number' ? dims[3] : 256;
for (const batch of values.batches!.split(',').map(Number)) {
  const input = new Float32Array(batch * size * size);
  for (let i = 0; i < input.length; i++) input[i] = (Math.sin(i * 0.001) + 1) / 2;
  const feeds = { image: new ort.Tensor('float32', input, [batch, 1, size, size]) };
  await session.run(feeds); // warm-up
  const start = process.hrtime.bigint();
  let images = 0;
  while (Number(process.hrtime.bigint() - start) / 1e9 < Number(values.seconds)) {
    await session.run(feeds);
    images += batch;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    JSON.stringify({
      runtime: `onnxruntime-node ${ort.env.versions.common}`,
      model: modelPath,
      size,
      batch,
      threads: threads || 'default',
      imagesPerSecond: Math.round((images / seconds) * 10) / 10,
    }),
  );
}
await session.release();
