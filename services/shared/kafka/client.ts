import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from '../observability/logger.ts';
import type { KafkaConnectionConfig } from './config.ts';

const toPino: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client for the given connection; its log lines go to our pino logger. */
export function createKafka(config: KafkaConnectionConfig, logger?: Logger): Kafka {
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    retry: { initialRetryTime: 300, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      if (!logger) return;
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
