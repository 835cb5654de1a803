import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { EventEncoder } from '../events/encoder.ts';
import type { MessageProducer } from '../kafka/producer.ts';
import type { DistillJobRow } from './job-store.ts';

/** schemas/DistillJobRequested.avsc as TypeScript. */
export interface DistillJobRequestedEvent {
  jobId: string;
  requestedAt: number;
  reason: string;
  teacherModelVersion: string | null;
  snapshotAt: number;
  labelCounts: { pseudoLabels: number; regionLabelled: number; sinceLastJob: number };
  recipe: Record<string, string>;
}

export function distillJobEvent(job: DistillJobRow): DistillJobRequestedEvent {
  const sinceLastJob = Object.values(job.labelCounts).reduce((s, n) => s + Number(n), 0);
  return {
    jobId: job.id,
    requestedAt: job.requestedAt.getTime(),
    reason: job.attempt > 0 ? `${job.reason} (retry after attempt ${job.attempt})` : job.reason,
    teacherModelVersion: job.baseModelVersion,
    snapshotAt: job.labelWatermark.getTime(),
    // pseudoLabels: the new labels the request counted; region-labelled images live in the prepared set
    labelCounts: { pseudoLabels: sinceLastJob, regionLabelled: 0, sinceLastJob },
    recipe: job.recipe,
  };
}

/** Publishes job requests to distill.jobs, key = job id (one partition order per job). */
export class DistillJobPublisher {
  private readonly encoder: EventEncoder<DistillJobRequestedEvent>;

  constructor(
    registry: SchemaRegistry,
    private readonly producer: MessageProducer,
    readonly topic: string,
  ) {
    this.encoder = new EventEncoder(registry, 'DistillJobRequested', topic);
  }

  async publish(job: DistillJobRow): Promise<void> {
    await this.encoder.ready();
    await this.producer.send(this.topic, [{ key: job.id, value: this.encoder.encode(distillJobEvent(job)) }]);
  }
}
