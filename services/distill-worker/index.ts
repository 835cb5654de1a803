/**
 * The distill-worker's public entry point: what `harvester run distill-loop` imports to start it. The only file of this
 * service that another program may import (.dependency-cruiser.cjs, docs/architecture.md).
 */
export { loadDistillWorkerConfig } from './config.ts';
export { startDistillWorker } from './worker.ts';
