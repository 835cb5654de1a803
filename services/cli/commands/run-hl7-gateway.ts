import { loadHl7GatewayConfig, startHl7Gateway } from '../../hl7-gateway/index.ts';
import { createLogger } from '../../shared/observability/logger.ts';
import { runServiceUntilSignal } from '../../shared/runtime/run-until-signal.ts';

/** `harvester run hl7-gateway`: runs until SIGTERM/SIGINT, then finishes the messages in progress. */
export async function runHl7GatewayCommand(): Promise<void> {
  const config = loadHl7GatewayConfig();
  const logger = createLogger('hl7-gateway');
  await runServiceUntilSignal((signal) => startHl7Gateway(config, logger, { signal }), logger);
}
