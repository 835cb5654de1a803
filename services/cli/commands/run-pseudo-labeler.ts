import { createLogger } from '../../shared/observability/logger.ts';
import { loadPseudoLabelerConfig } from '../../pseudo-labeler/config.ts';
import { startPseudoLabeler } from '../../pseudo-labeler/service.ts';

/**
 * `harvester run pseudo-labeler`: runs until SIGTERM/SIGINT, then finishes the chunk in progress,
 * commits its offsets and disconnects. Exits non-zero if the consumer stops on its own.
 */
export async function runPseudoLabelerCommand(): Promise<void> {
  const config = loadPseudoLabelerConfig();
  const logger = createLogger('pseudo-labeler');
  const service = await startPseudoLabeler(config, logger);
  await new Promise<void>((resolve, reject) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      service.stop().then(resolve, reject);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    service.stopped.catch(async (err: Error) => {
      await service.stop().catch(() => {});
      reject(err);
    });
  });
}
