/**
 * The HL7 gateway's public entry point: what `harvester run hl7-gateway` imports to start it. The only file of this
 * service that another program may import (.dependency-cruiser.cjs, docs/architecture.md).
 */
export { loadHl7GatewayConfig } from './config.ts';
export { startHl7Gateway } from './service.ts';
