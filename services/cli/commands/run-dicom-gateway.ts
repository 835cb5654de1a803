import { loadDicomGatewayConfig, startDicomGateway } from '../../dicom-gateway/index.ts';
import { createLogger } from '../../shared/observability/logger.ts';
import { runServiceUntilSignal } from '../../shared/runtime/run-until-signal.ts';

/** `harvester run dicom-gateway`: runs until SIGTERM/SIGINT, then lets open associations finish. */
export async function runDicomGatewayCommand(): Promise<void> {
  const config = loadDicomGatewayConfig();
  const logger = createLogger('dicom-gateway');
  await runServiceUntilSignal((signal) => startDicomGateway(config, logger, { signal }), logger);
}
