import { createLogger } from '../../shared/observability/logger.ts';
import { loadReportLabelerConfig } from '../../report-labeler/config.ts';
import { startReportLabeler } from '../../report-labeler/service.ts';

/**
 * `harvester run report-labeler`: runs until SIGTERM/SIGINT, then finishes the batch in progress,
 * commits its offsets and disconnects. Exits non-zero if the consumer stops on its own.
 */
export async function runReportLabelerCommand(): Promise<void> {
  const config = loadReportLabelerConfig();
  const logger = createLogger('report-labeler');
  const service = await startReportLabeler(config, logger);
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
