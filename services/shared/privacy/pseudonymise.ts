import { createHmac } from 'node:crypto';

/** The shortest HMAC key we accept: 32 bytes, the output size of SHA-256 (RFC 2104 guidance). */
export const MIN_HMAC_KEY_BYTES = 32;

/**
 * Pseudonymises a patient identifier with HMAC-SHA256 under a secret key (hex output). The same id
 * and key always give the same pseudonym, so a patient's studies stay linkable; without the key the
 * id cannot be recovered or confirmed by hashing guesses. Surrounding whitespace is not part of an id.
 */
export function pseudonymisePatientId(patientId: string, key: string | Buffer): string {
  const keyBytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (keyBytes.length < MIN_HMAC_KEY_BYTES) {
    throw new Error(`HMAC key too short: ${keyBytes.length} bytes, need at least ${MIN_HMAC_KEY_BYTES}`);
  }
  return createHmac('sha256', keyBytes).update(patientId.trim(), 'utf8').digest('hex');
}
