/**
 * The demo's public entry point: what `harvester demo` imports to run it. The only file of the
 * demo that another program may import (.dependency-cruiser.cjs, docs/architecture.md).
 */
export { runDemo } from './demo.ts';
