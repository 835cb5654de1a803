import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { envBool, envInt, schemaRegistryEnvShape } from '../shared/config/common-env.ts';
import { ConfigError, loadConfig } from '../shared/config/env.ts';
import { kafkaEnvShape } from '../shared/kafka/config.ts';
import { topicProvisioningEnvShape, withTopicDefaults } from '../shared/kafka/system-topics.ts';
import { MIN_HMAC_KEY_BYTES } from '../shared/privacy/pseudonymise.ts';
import { loadS3Settings, parseS3Uri, S3_SETUP_HINT, type S3Settings } from '../shared/storage/s3-config.ts';

const upperList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform(
      (v) =>
        new Set(
          v
            .split(',')
            .map((s) => s.trim().toUpperCase())
            .filter(Boolean),
        ),
    );

/** A DICOM AE title: 1-16 characters, no backslash or control characters. */
const aeTitle = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    // eslint-disable-next-line no-control-regex -- AE titles exclude control characters (PS3.5 6.2)
    .refine((v) => /^[^\\\x00-\x1f]{1,16}$/.test(v) && v.trim().length > 0, {
      message: `${name} must be 1 to 16 characters without backslash`,
    })
    .transform((v) => v.trim());

/**
 * Environment of `harvester run dicom-gateway`. Required: KAFKA_BROKERS, SCHEMA_REGISTRY_URL (the
 * DicomArrived schema must be registered: `harvester schemas register`). The image store defaults
 * to var/dicom-store under the working folder; an s3:// store needs the S3_* settings (s3-config.ts).
 */
export const dicomGatewayEnvSchema = z.object({
  ...kafkaEnvShape,
  ...topicProvisioningEnvShape,
  ...schemaRegistryEnvShape,
  DICOM_GATEWAY_PORT: envInt('DICOM_GATEWAY_PORT', 0, 11112),
  DICOM_GATEWAY_HOST: z.string().default('0.0.0.0'),
  DICOM_GATEWAY_AE_TITLE: aeTitle('DICOM_GATEWAY_AE_TITLE', 'HARVESTER'),
  /** Refuse associations addressed to another AE title (called AE). */
  DICOM_GATEWAY_CHECK_CALLED_AE: envBool('DICOM_GATEWAY_CHECK_CALLED_AE', true),
  /** Calling AE titles allowed, comma-separated; empty = any. */
  DICOM_GATEWAY_ALLOWED_CALLING_AE_TITLES: z
    .string()
    .default('')
    .transform(
      (v) =>
        new Set(
          v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
    ),
  DICOM_GATEWAY_ALLOWED_PEERS: z.string().default(''),
  DICOM_GATEWAY_MAX_ASSOCIATIONS: envInt('DICOM_GATEWAY_MAX_ASSOCIATIONS', 1, 32),
  /**
   * file:// folder (or a plain path), or s3://bucket/prefix, of the image store; the pseudo-labeler
   * must read the same (for s3://, with the same S3_* settings).
   */
  DICOM_GATEWAY_STORE_URI: z
    .string()
    .default('var/dicom-store')
    .transform((v) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : pathToFileURL(path.resolve(v)).href))
    .refine((v) => v.startsWith('file://') || v.startsWith('s3://'), {
      message: 'DICOM_GATEWAY_STORE_URI must be a path, a file:// URI or an s3://bucket/prefix URI',
    }),
  /** With an s3:// store: the local folder instances are received into before their upload. */
  DICOM_GATEWAY_SPOOL_DIR: z
    .string()
    .default('var/dicom-gateway-spool')
    .transform((v) => path.resolve(v)),
  DICOM_GATEWAY_TOPIC: z.string().min(1).default('dicom.arrived'),
  DICOM_GATEWAY_MODALITIES: upperList('CR,DX'),
  DICOM_GATEWAY_BODY_PARTS: upperList('CHEST,THORAX,RIB,RIBS,CLAVICLE,SHOULDER,CHEST_TO_PELVIS'),
  DICOM_GATEWAY_ANNOUNCE_WITHOUT_BODY_PART: envBool('DICOM_GATEWAY_ANNOUNCE_WITHOUT_BODY_PART', true),
  DICOM_GATEWAY_PUBLISH_TIMEOUT_MS: envInt('DICOM_GATEWAY_PUBLISH_TIMEOUT_MS', 100, 15_000),
  /** Optional: pseudonymise (0010,0020) into DicomArrived.patientPseudonym (same key as the report-labeler). */
  PATIENT_ID_HMAC_KEY: z
    .string()
    .refine((v) => Buffer.byteLength(v, 'utf8') >= MIN_HMAC_KEY_BYTES, {
      message: `PATIENT_ID_HMAC_KEY must be at least ${MIN_HMAC_KEY_BYTES} bytes (e.g. openssl rand -hex 32)`,
    })
    .optional(),
  DICOM_GATEWAY_TLS_CERT_FILE: z.string().optional(),
  DICOM_GATEWAY_TLS_KEY_FILE: z.string().optional(),
  DICOM_GATEWAY_TLS_CA_FILE: z.string().optional(),
  DICOM_GATEWAY_HTTP_PORT: envInt('DICOM_GATEWAY_HTTP_PORT', 0, 9471),
  DICOM_GATEWAY_HTTP_HOST: z.string().default('0.0.0.0'),
});

export type DicomGatewayConfig = z.infer<typeof dicomGatewayEnvSchema> & {
  /** The S3 settings when the store is s3:// (null for file://). */
  s3: S3Settings | null;
};

export function loadDicomGatewayConfig(env: NodeJS.ProcessEnv = process.env): DicomGatewayConfig {
  const config = loadConfig(dicomGatewayEnvSchema, withTopicDefaults(env));
  if (!config.DICOM_GATEWAY_STORE_URI.startsWith('s3://')) return { ...config, s3: null };
  try {
    parseS3Uri(config.DICOM_GATEWAY_STORE_URI);
  } catch (err) {
    throw new ConfigError(`Invalid configuration: DICOM_GATEWAY_STORE_URI: ${(err as Error).message}`);
  }
  const s3 = loadS3Settings(env);
  if (!s3)
    throw new ConfigError(
      `Invalid configuration: DICOM_GATEWAY_STORE_URI is an s3:// URI but S3 is not configured: ${S3_SETUP_HINT}`,
    );
  return { ...config, s3 };
}
