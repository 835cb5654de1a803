import type { Logger } from '../observability/logger.ts';

export interface StoppableService {
  /** Graceful stop: finish the work in progress, disconnect, release resources. */
  stop(): Promise<void>;
  /** Rejects if the service stops on its own (e.g. a consumer crash kafkajs does not restart). */
  stopped?: Promise<void>;
}

/**
 * Keeps a started service running until SIGTERM or SIGINT, then stops it gracefully. Rejects
 * (so the command exits non-zero) when the stop fails or the service stops on its own.
 */
export function runUntilSignal(service: StoppableService, logger: Logger): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      service.stop().then(resolve, reject);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    service.stopped?.catch(async (err: Error) => {
      await service.stop().catch(() => {});
      reject(err);
    });
  });
}
