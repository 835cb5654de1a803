/**
 * The pseudo-labeler's public entry point: what `harvester run pseudo-labeler` imports to start it. The only file of this
 * service that another program may import (.dependency-cruiser.cjs, docs/architecture.md).
 */
export { loadPseudoLabelerConfig } from './config.ts';
export { startPseudoLabeler } from './service.ts';
