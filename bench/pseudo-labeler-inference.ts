/**
 * Teacher inference throughput as the pseudo-labeler runs it (OnnxTeacher: the service's session
 * options and output split), images/s by micro-batch size. One JSON line per batch size.
 * Run: npm run bench:pseudo-labeler:inference [-- --model FILE --providers cpu --batches 1,4,8,16,32 --seconds 4]
 * Without --model: models/teacher/teacher.onnx when present, else the distiller's parity fixture.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../services/shared/observability/logger.ts';
import type { ExecutionProviderName } from '../services/shared/onnx/execution-providers.ts';
import { OnnxTeacher } from '../services/shared/onnx/teacher.ts';

const DEFAULT_TEACHER = 'models/teacher/teacher.onnx';
const PARITY = 'test/fixtures/distiller-parity/model.onnx';
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    providers: { type: 'string', default: 'cpu' },
    threads: { type: 'string', default: '0' },
    seconds: { type: 'string', default: '4' },
    batches: { type: 'string', default: '1,4,8,16,32' },
    size: { type: 'string', default: '256' },
  },
});
const model = values.model ?? (existsSync(DEFAULT_TEACHER) ? DEFAULT_TEACHER : PARITY);
const teacher = await OnnxTeacher.load({
  modelPath: model,
  providers: values.providers!.split(',') as ExecutionProviderName[],
  intraOpThreads: Number(values.threads),
  fallbackInputSize: Number(values.size),
  logger: createLogger('bench', 'warn'),
});
const plane = teacher.inputHeight * teacher.inputWidth;
for (const batch of values.batches!.split(',').map(Number)) {
  const images = Array.from({ length: batch }, (_, k) => {
    const img = new Float32Array(plane);
    for (let i = 0; i < plane; i++) img[i] = (Math.sin(i * 0.001 + k) + 1) / 2;
    return img;
  });
  await teacher.run(images); // warm-up
  const start = process.hrtime.bigint();
  let done = 0;
  while (Number(process.hrtime.bigint() - start) / 1e9 < Number(values.seconds)) {
    await teacher.run(images);
    done += batch;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    JSON.stringify({
      bench: 'pseudo-labeler-inference',
      model,
      provider: teacher.provider,
      input: [teacher.inputHeight, teacher.inputWidth],
      batch,
      threads: Number(values.threads) || 'default',
      imagesPerSecond: Math.round((done / seconds) * 10) / 10,
    }),
  );
}
await teacher.release();
