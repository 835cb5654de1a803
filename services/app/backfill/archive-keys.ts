import { createHash } from 'node:crypto';

/**
 * Where backfilled inputs say they came from, in the columns the services fill from Kafka
 * (hl7_message_ledger.topic/kafka_partition/kafka_offset, images.event_topic/partition/offset):
 * a pseudo-topic per input kind, partition 0, and as "offset" the first 63 bits of the SHA-256 of
 * the input's natural key. The same message (same bytes) in any file of any run is one ledger row,
 * so a resumed or repeated backfill skips it.
 */
export const BACKFILL_HL7_TOPIC = 'backfill.hl7';
export const BACKFILL_DICOM_TOPIC = 'backfill.dicom';
export const BACKFILL_PARTITION = 0;

/** The first 63 bits of SHA-256(bytes), as the decimal string of a non-negative bigint. */
export function archiveOffset(bytes: Uint8Array | string): string {
  const digest = createHash('sha256').update(bytes).digest();
  return (digest.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn).toString();
}
