/**
 * The distill-scheduler's public entry point: what `harvester run distill-loop` imports to start it. The only file of this
 * service that another program may import (.dependency-cruiser.cjs, docs/architecture.md).
 */
export { loadDistillSchedulerConfig } from './config.ts';
export { startDistillScheduler } from './scheduler.ts';
