import type { MessageProducer } from './producer.ts';

/** Where a failed record came from and why it failed. */
export interface DeadLetter {
  /** Short machine-readable reason, e.g. not-hl7, oversize, no-accession. */
  reason: string;
  /** Human-readable detail; must not contain PHI (no report text, no patient ids). */
  detail?: string;
  /** The processing stage that rejected it, e.g. report-labeler/extract. */
  stage: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  key: Buffer | string | null;
  value: Buffer | null;
  /** The original record's headers, kept so nothing of the input is lost. */
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  /** Headers saying more about this failure (e.g. DLQ_HEADERS.garbageLines); ours win on a clash. */
  extraHeaders?: Record<string, string>;
}

/** A consumed record, as much of it as a dead letter keeps. */
export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | string | null;
  value: Buffer | null;
  headers?: DeadLetter['headers'];
}

/** A dead letter for a consumed record: its key, bytes and headers as they came, and why. */
export function deadLetterOf(
  record: DeadLetterSource,
  stage: string,
  reason: string,
  detail: string,
  extraHeaders?: Record<string, string>,
): DeadLetter {
  return {
    reason,
    detail,
    stage,
    sourceTopic: record.topic,
    sourcePartition: record.partition,
    sourceOffset: record.offset,
    key: record.key,
    value: record.value,
    headers: record.headers,
    ...(extraHeaders ? { extraHeaders } : {}),
  };
}

/** The header names on every DLQ record. */
export const DLQ_HEADERS = {
  reason: 'dlq.error.reason',
  detail: 'dlq.error.detail',
  stage: 'dlq.stage',
  sourceTopic: 'dlq.source.topic',
  sourcePartition: 'dlq.source.partition',
  sourceOffset: 'dlq.source.offset',
  timestamp: 'dlq.timestamp',
  /** Set (to the original size in bytes) when the value was too large to copy: read it at the source offset. */
  valueOmitted: 'dlq.value.omitted-bytes',
  /**
   * Lines of a record that are not HL7 segments (1-based, comma-separated), and their byte offsets
   * in the record value: the record's message was still labelled without them (reason
   * garbage-lines).
   */
  garbageLines: 'dlq.garbage.lines',
  garbageOffsets: 'dlq.garbage.offsets',
} as const;

/** Below the broker default message.max.bytes (1 MiB) with room for key and headers. */
export const MAX_DLQ_VALUE_BYTES = 1_000_000;

/** The DLQ topic of a source topic. */
export function dlqTopicFor(topic: string): string {
  return `${topic}.dlq`;
}

/**
 * Builds the DLQ headers: the original headers first (prefixed with nothing, so replay tools can
 * copy them back), then ours, which win on a name clash. Detail is capped so headers stay small.
 */
export function buildDlqHeaders(letter: DeadLetter, now: Date): Record<string, string | Buffer> {
  const headers: Record<string, string | Buffer> = {};
  for (const [name, value] of Object.entries(letter.headers ?? {})) {
    if (value === undefined) continue;
    // kafkajs hands repeated headers as arrays; Kafka keeps only one value per name on our side
    headers[name] = Array.isArray(value) ? value[value.length - 1]! : value;
  }
  for (const [name, value] of Object.entries(letter.extraHeaders ?? {})) headers[name] = value;
  headers[DLQ_HEADERS.reason] = letter.reason;
  if (letter.detail) headers[DLQ_HEADERS.detail] = letter.detail.slice(0, 500);
  headers[DLQ_HEADERS.stage] = letter.stage;
  headers[DLQ_HEADERS.sourceTopic] = letter.sourceTopic;
  headers[DLQ_HEADERS.sourcePartition] = String(letter.sourcePartition);
  headers[DLQ_HEADERS.sourceOffset] = letter.sourceOffset;
  headers[DLQ_HEADERS.timestamp] = now.toISOString();
  return headers;
}

/** Publishes dead letters, with the original key and bytes, to `<source topic>.dlq`. */
export class DlqPublisher {
  constructor(
    private readonly producer: MessageProducer,
    private readonly now: () => Date = () => new Date(),
    /**
     * Values larger than this are not copied into the DLQ (the broker would refuse the record and
     * the consumer would stall on it); the headers then say where the original is.
     */
    private readonly maxValueBytes: number = MAX_DLQ_VALUE_BYTES,
  ) {}

  async publish(letters: DeadLetter[]): Promise<void> {
    const byTopic = new Map<string, DeadLetter[]>();
    for (const letter of letters) {
      const topic = dlqTopicFor(letter.sourceTopic);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), letter]);
    }
    for (const [topic, group] of byTopic) {
      await this.producer.send(
        topic,
        group.map((l) => {
          const headers = buildDlqHeaders(l, this.now());
          const tooBig = (l.value?.length ?? 0) > this.maxValueBytes;
          if (tooBig) headers[DLQ_HEADERS.valueOmitted] = String(l.value!.length);
          return { key: l.key, value: tooBig ? Buffer.alloc(0) : (l.value ?? Buffer.alloc(0)), headers };
        }),
      );
    }
  }
}
