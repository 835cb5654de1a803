import { createLogger } from '../../shared/observability/logger.ts';
import { runServiceUntilSignal } from '../../shared/runtime/run-until-signal.ts';
import { loadPseudoLabelerConfig, startPseudoLabeler } from '../../pseudo-labeler/index.ts';

/**
 * `harvester run pseudo-labeler`: runs until SIGTERM/SIGINT, then finishes the chunk in progress,
 * commits its offsets and disconnects. Exits non-zero if the consumer stops on its own.
 */
export async function runPseudoLabelerCommand(): Promise<void> {
  const config = loadPseudoLabelerConfig();
  const logger = createLogger('pseudo-labeler');
  await runServiceUntilSignal((signal) => startPseudoLabeler(config, logger, { signal }), logger);
}
