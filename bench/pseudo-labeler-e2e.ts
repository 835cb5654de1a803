/**
 * End-to-end pseudo-labeler throughput and latency on the real stack (deploy/local/stack or the
 * endpoints in the environment): a synthetic cohort, its reports published first, then every
 * image's DicomArrived; measures images/s from the first arrival to the last pseudo-label row, and
 * p50/p99 latency from each image's arrival (its report already present) to its row.
 * Run: npm run bench:pseudo-labeler:e2e [-- --studies 300 --size 256 --batch 16 --rate 0 --model FILE]
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  dicomArrivedFor,
  PARITY_MODEL,
  PseudoLabelerHarness,
  removeCohort,
  reportLabelFor,
  writeTestCohort,
} from '../test/support/pseudo-labeler.ts';
import { releaseTestStack } from '../test/support/stack.ts';

const DEFAULT_TEACHER = 'models/teacher/teacher.onnx';
const { values } = parseArgs({
  options: {
    studies: { type: 'string', default: '300' },
    size: { type: 'string', default: '256' },
    batch: { type: 'string', default: '16' },
    model: { type: 'string' },
    providers: { type: 'string', default: 'cpu' },
    // images/s to publish at (0: all at once). Under capacity, latency is the pipeline's own.
    rate: { type: 'string', default: '0' },
  },
});
const model = values.model ?? (existsSync(DEFAULT_TEACHER) ? DEFAULT_TEACHER : PARITY_MODEL);
const wait = async (what: string, cond: () => Promise<boolean>, timeoutMs = 600_000) => {
  const deadline = Date.now() + timeoutMs;
  let report = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    if (Date.now() > report) {
      console.error(`bench: still waiting for ${what}`);
      report = Date.now() + 10_000;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
};

const cohort = await writeTestCohort(Number(values.studies), 'bench-pseudo-labeler', Number(values.size));
const h = new PseudoLabelerHarness();
try {
  await h.setUp({ collect: false });
  const service = await h.start({
    TEACHER_MODEL_PATH: model,
    TEACHER_EXECUTION_PROVIDERS: values.providers!,
    PSEUDO_LABELER_INFERENCE_BATCH_SIZE: values.batch!,
    LOG_LEVEL: 'warn',
  });
  const studies = [...new Map(cohort.images.map((m) => [m.accession, m])).values()];
  await h.produceLabels(studies.map((m) => reportLabelFor(m.accession, m.reportLabel)));
  await wait(
    'reports stored',
    async () => (await h.count('SELECT count(*) FROM study_record_labels')) === studies.length,
  );
  const labelled = cohort.images.filter(
    (m) => m.reportLabel.rib !== 'uncertain' || m.reportLabel.clavicle !== 'uncertain',
  );
  const expectedRows = cohort.images.reduce(
    (n, m) => n + (['rib', 'clavicle'] as const).filter((c) => m.reportLabel[c] !== 'uncertain').length,
    0,
  );
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
  const started = Date.now();
  const rate = Number(values.rate);
  const step = rate > 0 ? Math.max(1, Math.round(rate / 10)) : 100;
  for (let i = 0; i < cohort.images.length; i += step) {
    // arrivedAt = the moment each chunk is published: latency counts Kafka, the join and inference
    await h.produceImages(
      cohort.images.slice(i, i + step).map((m) => dicomArrivedFor(cohort.dir, m, Date.now())),
    );
    if (rate > 0) {
      const due = started + ((i + step) / rate) * 1000;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    }
  }
  await wait(
    'every pseudo-label row',
    async () => (await h.count('SELECT count(*) FROM pseudo_labels')) === expectedRows,
  );
  const seconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
  const { rows } = await h.pool.query<{ p50: number; p99: number; max: number }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY s) AS p99,
       max(s) AS max
     FROM (SELECT extract(epoch FROM min(p.created_at) - i.arrived_at) AS s
           FROM pseudo_labels p JOIN images i USING (sop_instance_uid) GROUP BY i.sop_instance_uid, i.arrived_at) t`,
  );
  const histogram = async (h: {
    get(): Promise<{ values: Array<{ metricName?: string; value: number }> }>;
  }) => {
    const { values } = await h.get();
    return {
      sum: values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0,
      count: values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0,
    };
  };
  const { sum, count } = await histogram(service.metrics.inferenceBatchSize);
  // the training store on this path: bytes kept per image, and the shard writes (hash, write, fsync, rename)
  const shardWrites = await histogram(service.metrics.trainingShardWriteSeconds);
  const storeBytes = (await service.metrics.trainingStoreBytes.get()).values[0]?.value ?? 0;
  const storedInputs = await h.count('SELECT count(*) FROM training_inputs');
  console.log(
    JSON.stringify({
      bench: 'pseudo-labeler-e2e',
      model,
      provider: service.teacher.provider,
      input: [service.teacher.inputHeight, service.teacher.inputWidth],
      storedSize: Number(values.size),
      publishRate: rate > 0 ? rate : 'burst',
      images: cohort.images.length,
      labelledImages: labelled.length,
      rows: expectedRows,
      seconds: Math.round(seconds * 100) / 100,
      imagesPerSecond: Math.round((cohort.images.length / seconds) * 10) / 10,
      latencySeconds: { p50: round3(rows[0]!.p50), p99: round3(rows[0]!.p99), max: round3(rows[0]!.max) },
      meanInferenceBatch: Math.round((sum / Math.max(1, count)) * 10) / 10,
      trainingStore: {
        inputs: storedInputs,
        shards: shardWrites.count,
        bytesPerImage: Math.round(storeBytes / Math.max(1, storedInputs)),
        shardWriteMsPerImage: round3((shardWrites.sum * 1000) / Math.max(1, storedInputs)),
        shardWriteMsPerShard: round3((shardWrites.sum * 1000) / Math.max(1, shardWrites.count)),
      },
      maxInferenceBatch: Number(values.batch),
      rssPeakMiB: Math.round(rssPeak / 1048576),
    }),
  );
} finally {
  await h.tearDown();
  await removeCohort(cohort);
  await releaseTestStack();
}

function round3(v: number): number {
  return Math.round(Number(v) * 1000) / 1000;
}
