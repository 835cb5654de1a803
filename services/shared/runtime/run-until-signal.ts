import type { Logger } from '../observability/logger.ts';

export interface StoppableService {
  /** Graceful stop: finish the work in progress, disconnect, release resources. */
  stop(): Promise<void>;
  /** Rejects if the service stops on its own (e.g. a consumer crash kafkajs does not restart). */
  stopped?: Promise<void>;
}

/**
 * Starts a service and keeps it running until SIGTERM or SIGINT, then stops it gracefully. A
 * signal during start-up (e.g. while it waits for topics) aborts the start and ends cleanly.
 * Rejects (so the command exits non-zero) when the start or the stop fails, or the service stops
 * on its own.
 */
export function runServiceUntilSignal(
  start: (signal: AbortSignal) => Promise<StoppableService>,
  logger: Logger,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const starting = new AbortController();
    let service: StoppableService | undefined;
    // One stop per service: Ctrl-C in a terminal sends SIGINT to the whole process group and a
    // supervisor then sends SIGTERM too; a second stop would release its resources twice.
    let stopping: Promise<void> | undefined;
    const stopOnce = (s: StoppableService) => (stopping ??= s.stop());
    const shutdown = (signal: string) => {
      logger.info({ signal, alreadyStopping: stopping !== undefined }, 'shutting down');
      if (service) stopOnce(service).then(resolve, reject);
      else starting.abort();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    start(starting.signal).then(
      (started) => {
        service = started;
        if (starting.signal.aborted) {
          stopOnce(started).then(resolve, reject);
          return;
        }
        started.stopped?.catch(async (err: Error) => {
          await stopOnce(started).catch(() => {});
          reject(err);
        });
      },
      (err: unknown) => (starting.signal.aborted ? resolve() : reject(err)),
    );
  });
}
