import { z } from 'zod';
import { dlqTopicFor } from './dlq.ts';

/**
 * Every Kafka topic of the system (DESIGN.md), the environment variables that name it in each
 * service, and how it is partitioned. The services, `harvester topics ensure` and `harvester up`
 * all resolve names from here, so one KAFKA_TOPIC_PREFIX moves a whole deployment (a test, a
 * staging environment on a shared cluster) to its own topics.
 */

export type SystemTopicId =
  | 'hl7.oru.raw'
  | 'dicom.arrived'
  | 'labels.report'
  | 'labels.pseudo'
  | 'distill.jobs'
  | 'models.released'
  | 'hl7.oru.raw.dlq'
  | 'dicom.arrived.dlq'
  | 'labels.report.dlq';

/**
 * The services and gateways that connect to Kafka; each connects as a principal of its own
 * (topic-access.ts), allowed what `writers` and `readers` below give it and nothing else.
 */
export const KAFKA_SERVICES = [
  'hl7-gateway',
  'dicom-gateway',
  'report-labeler',
  'pseudo-labeler',
  'distill-scheduler',
  'distill-worker',
] as const;
export type KafkaService = (typeof KAFKA_SERVICES)[number];

export interface SystemTopic {
  id: SystemTopicId;
  /** The services that produce to it; only they may write it. */
  writers: readonly KafkaService[];
  /**
   * The services that consume it. Dead-letter topics have none: they hold the original bytes
   * (PHI), so only the operator principal reads them.
   */
  readers: readonly KafkaService[];
  /** Variables naming it, in the services that use it; unset ones default to prefix + id. */
  variables: readonly string[];
  /**
   * data: KAFKA_TOPIC_PARTITIONS (keys spread, consumers scale out); single: one partition, where
   * order across keys matters (the latest model release) or volume is one job at a time.
   */
  partitioning: 'data' | 'single';
  purpose: string;
}

export const SYSTEM_TOPICS: readonly SystemTopic[] = [
  {
    id: 'hl7.oru.raw',
    writers: ['hl7-gateway'],
    readers: ['report-labeler'],
    variables: ['REPORT_LABELER_INPUT_TOPIC', 'HL7_GATEWAY_TOPIC'],
    partitioning: 'data',
    purpose: 'raw HL7 ORU messages from the hl7-gateway or an interface engine',
  },
  {
    id: 'dicom.arrived',
    writers: ['dicom-gateway'],
    readers: ['pseudo-labeler'],
    variables: ['PSEUDO_LABELER_DICOM_TOPIC', 'DICOM_GATEWAY_TOPIC'],
    partitioning: 'data',
    purpose: 'DicomArrived events from the dicom-gateway or a PACS router',
  },
  {
    id: 'labels.report',
    writers: ['report-labeler'],
    readers: ['pseudo-labeler'],
    variables: ['REPORT_LABELER_OUTPUT_TOPIC', 'PSEUDO_LABELER_LABELS_TOPIC'],
    partitioning: 'data',
    purpose: 'ReportLabel events (report-labeler -> pseudo-labeler)',
  },
  {
    id: 'labels.pseudo',
    writers: ['pseudo-labeler'],
    readers: [],
    variables: ['PSEUDO_LABELER_OUTPUT_TOPIC'],
    partitioning: 'data',
    purpose: 'PseudoLabelCreated events',
  },
  {
    id: 'distill.jobs',
    writers: ['distill-scheduler'],
    readers: ['distill-worker'],
    variables: ['DISTILL_JOBS_TOPIC'],
    partitioning: 'single',
    purpose: 'DistillJobRequested events (scheduler -> worker)',
  },
  {
    id: 'models.released',
    writers: ['distill-worker'],
    readers: ['pseudo-labeler'],
    variables: ['MODELS_RELEASED_TOPIC', 'TEACHER_RELEASES_TOPIC'],
    partitioning: 'single',
    purpose: 'ModelReleased events (gate -> pseudo-labelers)',
  },
  {
    id: 'hl7.oru.raw.dlq',
    writers: ['report-labeler'],
    readers: [],
    variables: [],
    partitioning: 'data',
    purpose: 'HL7 messages the report-labeler could not use',
  },
  {
    id: 'dicom.arrived.dlq',
    writers: ['pseudo-labeler'],
    readers: [],
    variables: [],
    partitioning: 'data',
    purpose: 'arrivals the pseudo-labeler could not use (bad event, unreadable image)',
  },
  {
    id: 'labels.report.dlq',
    writers: ['pseudo-labeler'],
    readers: [],
    variables: [],
    partitioning: 'data',
    purpose: 'report labels the pseudo-labeler could not decode',
  },
];

const DLQ_SOURCES: Partial<Record<SystemTopicId, SystemTopicId>> = {
  'hl7.oru.raw.dlq': 'hl7.oru.raw',
  'dicom.arrived.dlq': 'dicom.arrived',
  'labels.report.dlq': 'labels.report',
};

/** Variables of the topic-provisioning settings, shared by every service and command. */
export const topicProvisioningEnvShape = {
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'KAFKA_TOPIC_PREFIX may hold letters, digits, ".", "_" and "-" only')
    .default(''),
  KAFKA_CREATE_TOPICS: z
    .enum(['true', 'false'], {
      error:
        'KAFKA_CREATE_TOPICS must be true (services create missing topics) or false (they wait for them)',
    })
    .default('true')
    .transform((v) => v === 'true'),
  KAFKA_TOPIC_PARTITIONS: z.coerce
    .number({ error: 'KAFKA_TOPIC_PARTITIONS must be an integer' })
    .int('KAFKA_TOPIC_PARTITIONS must be an integer')
    .min(1, 'KAFKA_TOPIC_PARTITIONS must be at least 1')
    .default(6),
  KAFKA_TOPIC_REPLICATION_FACTOR: z.coerce
    .number({ error: 'KAFKA_TOPIC_REPLICATION_FACTOR must be an integer' })
    .int('KAFKA_TOPIC_REPLICATION_FACTOR must be an integer')
    .refine(
      (v) => v === -1 || v >= 1,
      'KAFKA_TOPIC_REPLICATION_FACTOR must be -1 (the broker default) or >= 1',
    )
    .default(-1),
  KAFKA_TOPIC_WAIT_LOG_SECONDS: z.coerce
    .number({ error: 'KAFKA_TOPIC_WAIT_LOG_SECONDS must be a number' })
    .positive('KAFKA_TOPIC_WAIT_LOG_SECONDS must be > 0')
    .default(30),
};

export type TopicProvisioningEnv = z.infer<z.ZodObject<typeof topicProvisioningEnvShape>>;

/** The name a topic has when no variable names it: KAFKA_TOPIC_PREFIX + its id. */
export function defaultTopicName(id: SystemTopicId, prefix = ''): string {
  return `${prefix}${id}`;
}

/**
 * A copy of the environment in which every unset topic variable holds its default name under
 * KAFKA_TOPIC_PREFIX; services validate this copy, so their zod defaults never disagree with it.
 */
export function withTopicDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const prefix = env.KAFKA_TOPIC_PREFIX ?? '';
  const out: NodeJS.ProcessEnv = { ...env };
  for (const topic of SYSTEM_TOPICS) {
    for (const variable of topic.variables) {
      if (out[variable] === undefined || out[variable] === '')
        out[variable] = defaultTopicName(topic.id, prefix);
    }
  }
  return out;
}

export interface ResolvedTopic {
  id: SystemTopicId;
  name: string;
  numPartitions: number;
  replicationFactor: number;
  purpose: string;
  /** The variable that named it, or null for the default. */
  namedBy: string | null;
}

/** A topic a service reads or writes, by catalog id and the name its configuration gives. */
export interface ServiceTopic {
  id: SystemTopicId;
  name: string;
}

/** Partitions and replication of a topic under the provisioning settings. */
export function topicSettings(
  id: SystemTopicId,
  settings: Pick<TopicProvisioningEnv, 'KAFKA_TOPIC_PARTITIONS' | 'KAFKA_TOPIC_REPLICATION_FACTOR'>,
): { numPartitions: number; replicationFactor: number } {
  const topic = SYSTEM_TOPICS.find((t) => t.id === id)!;
  return {
    numPartitions: topic.partitioning === 'single' ? 1 : settings.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: settings.KAFKA_TOPIC_REPLICATION_FACTOR,
  };
}

/**
 * Every topic of the system as this environment names it (the first variable set wins; where two
 * variables of one topic disagree, both names are returned, each a topic some service uses).
 */
export function resolveSystemTopics(env: NodeJS.ProcessEnv, settings: TopicProvisioningEnv): ResolvedTopic[] {
  const out: ResolvedTopic[] = [];
  const nameOf = new Map<SystemTopicId, string[]>();
  for (const topic of SYSTEM_TOPICS) {
    const source = DLQ_SOURCES[topic.id];
    const named = topic.variables
      .map((variable) => ({ variable, name: env[variable] }))
      .filter((v): v is { variable: string; name: string } => typeof v.name === 'string' && v.name !== '');
    const names: Array<{ name: string; namedBy: string | null }> = source
      ? (nameOf.get(source) ?? []).map((name) => ({ name: dlqTopicFor(name), namedBy: null }))
      : named.length > 0
        ? [...new Map(named.map((n) => [n.name, { name: n.name, namedBy: n.variable }])).values()]
        : [{ name: defaultTopicName(topic.id, settings.KAFKA_TOPIC_PREFIX), namedBy: null }];
    nameOf.set(
      topic.id,
      names.map((n) => n.name),
    );
    for (const n of names) {
      out.push({ id: topic.id, ...n, ...topicSettings(topic.id, settings), purpose: topic.purpose });
    }
  }
  return out;
}
