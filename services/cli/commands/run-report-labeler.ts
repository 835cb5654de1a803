import { createLogger } from '../../shared/observability/logger.ts';
import { runServiceUntilSignal } from '../../shared/runtime/run-until-signal.ts';
import { loadReportLabelerConfig, startReportLabeler } from '../../report-labeler/index.ts';

/**
 * `harvester run report-labeler`: runs until SIGTERM/SIGINT, then finishes the batch in progress,
 * commits its offsets and disconnects. Exits non-zero if the consumer stops on its own.
 */
export async function runReportLabelerCommand(): Promise<void> {
  const config = loadReportLabelerConfig();
  const logger = createLogger('report-labeler');
  await runServiceUntilSignal((signal) => startReportLabeler(config, logger, { signal }), logger);
}
