import { loadHl7GatewayConfig } from '../../hl7-gateway/config.ts';
import { startHl7Gateway } from '../../hl7-gateway/service.ts';
import { createLogger } from '../../shared/observability/logger.ts';
import { runServiceUntilSignal } from '../../shared/runtime/run-until-signal.ts';

/** `harvester run hl7-gateway`: runs until SIGTERM/SIGINT, then finishes the messages in progress. */
export async function runHl7GatewayCommand(): Promise<void> {
  const config = loadHl7GatewayConfig();
  const logger = createLogger('hl7-gateway');
  await runServiceUntilSignal((signal) => startHl7Gateway(config, logger, { signal }), logger);
}
