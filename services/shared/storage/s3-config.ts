import { z } from 'zod';
import { envInt } from '../config/common-env.ts';
import { loadConfig } from '../config/env.ts';

/**
 * How a service reaches S3 (or an S3-compatible server: MinIO, Ceph RGW), from the environment.
 * The bucket is not here: it is the host of each s3://bucket/key URI. S3 counts as configured when
 * S3_REGION, AWS_REGION or S3_ENDPOINT is set; credentials are the AWS SDK's usual ones
 * (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile, web identity or instance role).
 */
export const s3EnvShape = {
  /** An S3-compatible server's URL (http://minio:9000); unset for AWS S3. */
  S3_ENDPOINT: z
    .string()
    .refine((v) => /^https?:\/\/[^/\s]+/i.test(v) && URL.canParse(v), {
      message: 'S3_ENDPOINT must be an http(s) URL, e.g. http://minio:9000 (leave it unset for AWS S3)',
    })
    .optional(),
  S3_REGION: z.string().min(1).optional(),
  AWS_REGION: z.string().min(1).optional(),
  /** bucket in the path (http://host/bucket/key), as MinIO and Ceph want; default: on with S3_ENDPOINT. */
  S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'], { error: 'S3_FORCE_PATH_STYLE must be true or false' })
    .optional(),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  AWS_SESSION_TOKEN: z.string().min(1).optional(),
  /** One request (connect + transfer) may take this long before it fails and is retried. */
  S3_REQUEST_TIMEOUT_MS: envInt('S3_REQUEST_TIMEOUT_MS', 100, 30_000),
  /** Attempts per request (the SDK's retries with backoff for throttling, 5xx and network errors). */
  S3_MAX_ATTEMPTS: envInt('S3_MAX_ATTEMPTS', 1, 3),
};

const s3EnvSchema = z
  .object(s3EnvShape)
  .refine((env) => !env.AWS_ACCESS_KEY_ID === !env.AWS_SECRET_ACCESS_KEY, {
    message:
      'set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (then the AWS SDK looks for a profile or role)',
    path: ['AWS_SECRET_ACCESS_KEY'],
  });

export interface S3Settings {
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  /** Explicit keys; undefined = the AWS SDK's default chain (profile, web identity, instance role). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  requestTimeoutMs: number;
  maxAttempts: number;
}

/** What to set for s3:// storage; part of every "not configured" message. */
export const S3_SETUP_HINT =
  'set S3_REGION (AWS S3) or S3_ENDPOINT (MinIO, Ceph), and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a role';

/**
 * The S3 settings of this environment, or null when S3 is not configured at all. Throws a
 * ConfigError naming the variable when one is set but wrong.
 */
export function loadS3Settings(env: NodeJS.ProcessEnv = process.env): S3Settings | null {
  const c = loadConfig(s3EnvSchema, env);
  const region = c.S3_REGION ?? c.AWS_REGION;
  if (!region && !c.S3_ENDPOINT) return null;
  return {
    endpoint: c.S3_ENDPOINT,
    // MinIO and Ceph accept any region name; us-east-1 is what they expect by default
    region: region ?? 'us-east-1',
    forcePathStyle: c.S3_FORCE_PATH_STYLE ? c.S3_FORCE_PATH_STYLE === 'true' : c.S3_ENDPOINT !== undefined,
    credentials: c.AWS_ACCESS_KEY_ID
      ? {
          accessKeyId: c.AWS_ACCESS_KEY_ID,
          secretAccessKey: c.AWS_SECRET_ACCESS_KEY!,
          ...(c.AWS_SESSION_TOKEN ? { sessionToken: c.AWS_SESSION_TOKEN } : {}),
        }
      : undefined,
    requestTimeoutMs: c.S3_REQUEST_TIMEOUT_MS,
    maxAttempts: c.S3_MAX_ATTEMPTS,
  };
}

/** Splits s3://bucket/key/path into its bucket and key (the key without a leading slash, decoded). */
export function parseS3Uri(uri: string | URL): { bucket: string; key: string } {
  const url = typeof uri === 'string' ? new URL(uri) : uri;
  if (url.protocol !== 's3:') throw new Error(`not an s3:// URI: ${url.protocol}//`);
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new Error(`"${bucket}" is not an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)`);
  return { bucket, key: decodeURIComponent(url.pathname.replace(/^\//, '')) };
}

/** The s3:// URI of a key (each path segment encoded, slashes kept). */
export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
