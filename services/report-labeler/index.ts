/**
 * The report-labeler's public entry point: what `harvester run report-labeler` imports to start it. The only file of this
 * service that another program may import (.dependency-cruiser.cjs, docs/architecture.md).
 */
export { loadReportLabelerConfig } from './config.ts';
export { startReportLabeler } from './service.ts';
