import { createLogger } from '../../shared/observability/logger.ts';
import { loadDistillSchedulerConfig } from '../../distill-scheduler/config.ts';
import { startDistillScheduler } from '../../distill-scheduler/scheduler.ts';
import { loadDistillWorkerConfig } from '../../distill-worker/config.ts';
import { startDistillWorker } from '../../distill-worker/worker.ts';

function untilSignal(logger: ReturnType<typeof createLogger>, stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      stop().then(resolve, reject);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

/** `harvester run distill-scheduler`: requests distillations by label volume until SIGTERM. */
export async function runDistillSchedulerCommand(): Promise<void> {
  const config = loadDistillSchedulerConfig();
  const logger = createLogger('distill-scheduler');
  const service = await startDistillScheduler(config, logger);
  await untilSignal(logger, () => service.stop());
}

/** `harvester run distill-worker`: runs requested distillations and gates their models until SIGTERM. */
export async function runDistillWorkerCommand(): Promise<void> {
  const config = loadDistillWorkerConfig();
  const logger = createLogger('distill-worker');
  const service = await startDistillWorker(config, logger);
  await untilSignal(logger, () => service.stop());
}
