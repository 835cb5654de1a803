import { createLogger } from '../../shared/observability/logger.ts';
import { runUntilSignal } from '../../shared/runtime/run-until-signal.ts';
import { loadDistillSchedulerConfig } from '../../distill-scheduler/config.ts';
import { startDistillScheduler } from '../../distill-scheduler/scheduler.ts';
import { loadDistillWorkerConfig } from '../../distill-worker/config.ts';
import { startDistillWorker } from '../../distill-worker/worker.ts';

/** `harvester run distill-scheduler`: requests distillations by label volume until SIGTERM. */
export async function runDistillSchedulerCommand(): Promise<void> {
  const config = loadDistillSchedulerConfig();
  const logger = createLogger('distill-scheduler');
  const service = await startDistillScheduler(config, logger);
  await runUntilSignal(service, logger);
}

/** `harvester run distill-worker`: runs requested distillations and gates their models until SIGTERM. */
export async function runDistillWorkerCommand(): Promise<void> {
  const config = loadDistillWorkerConfig();
  const logger = createLogger('distill-worker');
  const service = await startDistillWorker(config, logger);
  await runUntilSignal(service, logger);
}
