import { createLogger } from '../../shared/observability/logger.ts';
import { runServiceUntilSignal } from '../../shared/runtime/run-until-signal.ts';
import { loadDistillSchedulerConfig, startDistillScheduler } from '../../distill-scheduler/index.ts';
import { loadDistillWorkerConfig, startDistillWorker } from '../../distill-worker/index.ts';

/** `harvester run distill-scheduler`: requests distillations by label volume until SIGTERM. */
export async function runDistillSchedulerCommand(): Promise<void> {
  const config = loadDistillSchedulerConfig();
  const logger = createLogger('distill-scheduler');
  await runServiceUntilSignal((signal) => startDistillScheduler(config, logger, { signal }), logger);
}

/** `harvester run distill-worker`: runs requested distillations and gates their models until SIGTERM. */
export async function runDistillWorkerCommand(): Promise<void> {
  const config = loadDistillWorkerConfig();
  const logger = createLogger('distill-worker');
  await runServiceUntilSignal((signal) => startDistillWorker(config, logger, { signal }), logger);
}
