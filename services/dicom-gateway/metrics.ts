import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The DICOM gateway's Prometheus metrics, on their own registry. */
export function createDicomGatewayMetrics() {
  const registry = new Registry();
  const p = 'harvester_dicom_gateway_';
  collectDefaultMetrics({ register: registry, prefix: p });
  return {
    registry,
    instances: new Counter({
      name: `${p}instances_total`,
      help: 'C-STORE requests by outcome (announced; stored: kept, not announced, with the reason; duplicate; failed: a failure status was answered, with the reason)',
      labelNames: ['outcome', 'reason'] as const,
      registers: [registry],
    }),
    bytes: new Counter({
      name: `${p}stored_bytes_total`,
      help: 'Bytes of DICOM written to the store',
      registers: [registry],
    }),
    storeSeconds: new Histogram({
      name: `${p}store_seconds`,
      help: 'From the last byte of an instance to its C-STORE response (durable write + Kafka acknowledgment)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    associations: new Gauge({ name: `${p}associations`, help: 'Open associations', registers: [registry] }),
    associationsRejected: new Counter({
      name: `${p}associations_rejected_total`,
      help: 'Associations refused, by reason (peer-not-allowed, called-ae, calling-ae, too-many)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    echoes: new Counter({ name: `${p}echo_total`, help: 'C-ECHO requests answered', registers: [registry] }),
  };
}

export type DicomGatewayMetrics = ReturnType<typeof createDicomGatewayMetrics>;
