import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The HL7 gateway's Prometheus metrics, on their own registry. */
export function createHl7GatewayMetrics() {
  const registry = new Registry();
  const p = 'harvester_hl7_gateway_';
  collectDefaultMetrics({ register: registry, prefix: p });
  return {
    registry,
    messages: new Counter({
      name: `${p}messages_total`,
      help: 'HL7 messages received, by outcome (accepted: published and AA sent; refused: AR/AE sent, by reason; unacknowledged: Kafka did not acknowledge, no ACK sent)',
      labelNames: ['outcome', 'reason'] as const,
      registers: [registry],
    }),
    bytes: new Counter({
      name: `${p}published_bytes_total`,
      help: 'Bytes of HL7 published to Kafka',
      registers: [registry],
    }),
    ackSeconds: new Histogram({
      name: `${p}ack_latency_seconds`,
      help: 'From the end of a message frame to its AA (includes the Kafka acknowledgment)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    connections: new Gauge({
      name: `${p}connections`,
      help: 'Open MLLP connections',
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: `${p}connections_refused_total`,
      help: 'Connections closed at once, by reason (peer-not-allowed, too-many-connections)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    abandonedFrames: new Counter({
      name: `${p}abandoned_frames_total`,
      help: 'Senders that disconnected in the middle of a message (nothing of it was published)',
      registers: [registry],
    }),
    publishFailures: new Counter({
      name: `${p}publish_failures_total`,
      help: 'Publishes Kafka did not acknowledge in time (the messages got no ACK; the sender retries)',
      registers: [registry],
    }),
  };
}

export type Hl7GatewayMetrics = ReturnType<typeof createHl7GatewayMetrics>;
