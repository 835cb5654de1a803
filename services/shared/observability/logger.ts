import pino, { type Logger } from 'pino';

/**
 * The one logger factory. Logs are JSON on stderr (stdout belongs to command output such as
 * label-reports' JSON lines). Patient identifiers are never passed to a logger; the redact list is
 * a second line of defence for fields whose names say they hold PHI.
 */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: ['patientId', '*.patientId', 'patientName', '*.patientName', 'reportText', '*.reportText'],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}

export type { Logger };
