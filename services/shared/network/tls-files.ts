import { readFileSync } from 'node:fs';
import net, { type Server, type Socket } from 'node:net';
import tls from 'node:tls';
import { parsePeerAllowList, type PeerAllowList } from './peer-allow-list.ts';
import { ExpectedError } from '../errors.ts';

/** A listener's TLS material: certificate and key, and a CA whose client certificates are required. */
export interface ListenerTls {
  cert: Buffer;
  key: Buffer;
  /** When set, clients must present a certificate signed by it (mutual TLS). */
  ca?: Buffer;
}

export class TlsConfigError extends ExpectedError {}

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

/** A plain TCP server, or a TLS one (requiring client certificates when a CA is given). */
export function createListeningServer(
  tlsFiles: ListenerTls | null,
  onConnection: (socket: Socket) => void,
): Server {
  if (!tlsFiles) return net.createServer(onConnection);
  return tls.createServer(
    {
      cert: tlsFiles.cert,
      key: tlsFiles.key,
      ...(tlsFiles.ca ? { ca: tlsFiles.ca, requestCert: true, rejectUnauthorized: true } : {}),
    },
    onConnection,
  );
}

/** A gateway's listener security from its `<PREFIX>_ALLOWED_PEERS` and `<PREFIX>_TLS_*` settings. */
export function listenerSecurity(
  prefix: string,
  settings: { allowedPeers: string; cert?: string; key?: string; ca?: string },
): { allowList: PeerAllowList; tls: ListenerTls | null } {
  return {
    allowList: parsePeerAllowList(settings.allowedPeers, `${prefix}_ALLOWED_PEERS`),
    tls: listenerTlsFromFiles(prefix, settings),
  };
}
