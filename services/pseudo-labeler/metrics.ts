import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The pseudo-labeler's Prometheus metrics, on their own registry. */
export function createPseudoLabelerMetrics() {
  const registry = new Registry();
  const p = 'harvester_pseudo_labeler_';
  collectDefaultMetrics({ register: registry, prefix: p });
  return {
    registry,
    messages: new Counter({
      name: `${p}messages_total`,
      help: 'Input records processed, by topic kind (dicom, labels) and outcome (stored, skipped, dlq)',
      labelNames: ['input', 'outcome'] as const,
      registers: [registry],
    }),
    pseudoLabels: new Counter({
      name: `${p}pseudo_labels_total`,
      help: 'Pseudo-labels written, by class and kind (positive: sharpened map, negative: zero map)',
      labelNames: ['class', 'kind'] as const,
      registers: [registry],
    }),
    superseded: new Counter({
      name: `${p}superseded_total`,
      help: 'Pseudo-labels moved to the history because their report changed (superseded or withdrawn)',
      labelNames: ['why'] as const,
      registers: [registry],
    }),
    skipped: new Counter({
      name: `${p}skipped_total`,
      help:
        'Records left out on purpose, by reason (non-image:<kind> for SR, SEG, PR, KO, RT...; erased-patient, ' +
        'erased-accession, erased-image: the subject was erased by harvester forget)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    dlq: new Counter({
      name: `${p}dlq_total`,
      help: 'Records sent to a DLQ, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: `${p}errors_total`,
      help: 'Batch attempts that failed and were retried',
      registers: [registry],
    }),
    events: new Counter({
      name: `${p}events_published_total`,
      help: 'PseudoLabelCreated events published',
      registers: [registry],
    }),
    inferenceSeconds: new Histogram({
      name: `${p}inference_seconds`,
      help: 'Teacher inference time per micro-batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    inferenceBatchSize: new Histogram({
      name: `${p}inference_batch_size`,
      help: 'Images per teacher micro-batch',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: `${p}inference_queue_depth`,
      help: 'Decoded images waiting for or in teacher inference',
      registers: [registry],
    }),
    paused: new Gauge({
      name: `${p}consumer_paused`,
      help: '1 while the consumer is paused for back-pressure',
      registers: [registry],
    }),
    arrivalToLabelSeconds: new Histogram({
      name: `${p}arrival_to_label_seconds`,
      help: "Time from an image's arrival to its pseudo-label row (includes waiting for the report)",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: `${p}batch_duration_seconds`,
      help: 'Time from receiving a chunk of records to committing its offsets',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    trainingInputs: new Counter({
      name: `${p}training_inputs_total`,
      help: 'Model inputs by source: decoded from DICOM and stored, or read back from the training store',
      labelNames: ['source'],
      registers: [registry],
    }),
    trainingStoreBytes: new Counter({
      name: `${p}training_store_bytes_total`,
      help: 'Bytes of model inputs written to the training store',
      registers: [registry],
    }),
    trainingShardWriteSeconds: new Histogram({
      name: `${p}training_shard_write_seconds`,
      help: 'Time to write one training-store shard durably (write, fsync, rename)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export type PseudoLabelerMetrics = ReturnType<typeof createPseudoLabelerMetrics>;
