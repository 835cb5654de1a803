import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The labeler's Prometheus metrics, on their own registry (several instances can share a process). */
export function createReportLabelerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'harvester_report_labeler_' });
  const p = 'harvester_report_labeler_';
  return {
    registry,
    messages: new Counter({
      name: `${p}messages_total`,
      help: 'Input messages processed, by outcome (stored, skipped, dlq)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    labels: new Counter({
      name: `${p}labels_total`,
      help: 'Report labels written, by class and label status',
      labelNames: ['class', 'status'] as const,
      registers: [registry],
    }),
    dlq: new Counter({
      name: `${p}dlq_total`,
      help: 'Messages sent to the DLQ, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    dropped: new Counter({
      name: `${p}dropped_total`,
      help: 'Input messages dropped on purpose, by reason (erased-patient: the patient was erased by harvester forget)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: `${p}errors_total`,
      help: 'Batch attempts that failed and were retried, by stage',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
    events: new Counter({
      name: `${p}events_published_total`,
      help: 'ReportLabel events published to the output topic',
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: `${p}batch_duration_seconds`,
      help: 'Time from receiving a batch to committing its offsets',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    lag: new Gauge({
      name: `${p}consumer_lag`,
      help: 'Messages behind the partition high watermark after the last committed batch',
      labelNames: ['topic', 'partition'] as const,
      registers: [registry],
    }),
  };
}

export type ReportLabelerMetrics = ReturnType<typeof createReportLabelerMetrics>;
