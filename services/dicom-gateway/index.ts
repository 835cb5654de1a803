/**
 * The DICOM gateway's public entry point: what `harvester run dicom-gateway` imports to start it. The only file of this
 * service that another program may import (.dependency-cruiser.cjs, docs/architecture.md).
 */
export { loadDicomGatewayConfig } from './config.ts';
export { startDicomGateway } from './service.ts';
