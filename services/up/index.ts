/**
 * The supervisor's public entry point: what `harvester up` imports to run it. The only file of
 * `up` that another program may import (.dependency-cruiser.cjs, docs/architecture.md).
 */
export { runUp, type UpUntil } from './up.ts';
