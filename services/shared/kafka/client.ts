import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from '../observability/logger.ts';
import type { KafkaConnectionConfig } from './config.ts';

const toPino: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * kafkajs notices about a setting we chose on purpose, printed at every start: the bounded retries
 * of our idempotent producers (idempotentProducer in producer.ts; why in docs/kafka-clients.md).
 * The partitioner notice is not among them: it is avoided by naming the partitioner.
 */
const KNOWN_NOTICES = ['Limiting retries for the idempotent producer may invalidate EoS guarantees'];

export function isKnownNotice(entry: Pick<LogEntry, 'level' | 'log'>): boolean {
  return (
    entry.level === logLevel.WARN && KNOWN_NOTICES.some((notice) => entry.log.message.startsWith(notice))
  );
}

/** A kafkajs client for the given connection; its log lines go to our pino logger. */
export function createKafka(config: KafkaConnectionConfig, logger?: Logger): Kafka {
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    retry: { initialRetryTime: 300, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      if (!logger || isKnownNotice(entry)) return;
      const level = toPino[entry.level] ?? 'info';
      const { message, ...rest } = entry.log;
      logger[level]({ kafka: entry.namespace, ...rest }, message);
    },
  };
  if (config.sasl) {
    // kafkajs' SASLOptions is a union keyed by mechanism; each branch takes username + password
    kafkaConfig.sasl = { ...config.sasl } as KafkaConfig['sasl'];
  }
  return new Kafka(kafkaConfig);
}
