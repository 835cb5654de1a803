import { readFileSync } from 'node:fs';

/** A listener's TLS material: certificate and key, and a CA whose client certificates are required. */
export interface ListenerTls {
  cert: Buffer;
  key: Buffer;
  /** When set, clients must present a certificate signed by it (mutual TLS). */
  ca?: Buffer;
}

export class TlsConfigError extends Error {
  readonly expected = true;
  override name = 'TlsConfigError';
}

/**
 * Reads `<PREFIX>_TLS_CERT_FILE`, `_KEY_FILE` and optional `_CA_FILE` (PEM). Null when no
 * certificate is configured (plain TCP); an error naming the variable when only half is given or a
 * file cannot be read.
 */
export function listenerTlsFromFiles(
  prefix: string,
  files: { cert?: string; key?: string; ca?: string },
): ListenerTls | null {
  if (!files.cert && !files.key && !files.ca) return null;
  if (!files.cert || !files.key) {
    throw new TlsConfigError(`TLS needs both ${prefix}_TLS_CERT_FILE and ${prefix}_TLS_KEY_FILE`);
  }
  const read = (file: string, variable: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new TlsConfigError(
        `${prefix}_${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  };
  return {
    cert: read(files.cert, 'TLS_CERT_FILE'),
    key: read(files.key, 'TLS_KEY_FILE'),
    ...(files.ca ? { ca: read(files.ca, 'TLS_CA_FILE') } : {}),
  };
}
