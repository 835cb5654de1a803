import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { DicomArrivedEvent } from '../shared/events/dicom-arrived.ts';
import type { OutgoingMessage } from '../shared/kafka/producer.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { pseudonymisePatientId } from '../shared/privacy/pseudonymise.ts';
import { decideAnnouncement, type AnnouncePolicy } from './announce-decision.ts';
import { HeaderReadError, readInstanceHeader, type InstanceHeader } from './instance-header.ts';
import type { IncomingInstance, InstanceStore } from './instance-store.ts';
import type { DicomGatewayMetrics } from './metrics.ts';

/** DIMSE status codes the gateway answers (PS3.4 annex B.2.3 / PS3.7 annex C). */
export const STORE_STATUS = {
  success: 0x0000,
  /** Refused: out of resources: the store or Kafka failed; the sender should retry. */
  outOfResources: 0xa700,
} as const;

export interface StoreResult {
  status: number;
  comment?: string;
}

export interface ArrivalPublisher {
  /** Resolves once Kafka acknowledged the DicomArrived. */
  publish(message: OutgoingMessage): Promise<void>;
}

/** Serialises work per key (the same SOP Instance UID arriving on two associations at once). */
class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(work, work);
    const tail = result.catch(() => {});
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** The header, or null when the bytes are not a readable DICOM header. */
function safeHeader(bytes: Uint8Array): InstanceHeader | null {
  try {
    return readInstanceHeader(bytes);
  } catch (err) {
    if (err instanceof HeaderReadError) return null;
    throw err;
  }
}

/** The DicomArrived event of a stored, announced instance. */
export function dicomArrivedFromHeader(
  header: InstanceHeader,
  file: { uri: string; sizeBytes: number; sha256: string },
  arrivedAt: number,
  hmacKey: string | undefined,
): DicomArrivedEvent {
  const pixel = header.pixel!;
  return {
    studyInstanceUid: header.studyInstanceUid!,
    seriesInstanceUid: header.seriesInstanceUid!,
    sopInstanceUid: header.sopInstanceUid!,
    sopClassUid: header.sopClassUid,
    accession: header.accession!,
    patientPseudonym: hmacKey && header.patientId ? pseudonymisePatientId(header.patientId, hmacKey) : null,
    modality: header.modality ?? 'OT',
    viewPosition: header.viewPosition,
    bodyPartExamined: header.bodyPartExamined,
    rows: header.rows!,
    columns: header.columns!,
    bitsAllocated: pixel.bitsAllocated,
    bitsStored: pixel.bitsStored,
    pixelRepresentation: pixel.pixelRepresentation,
    samplesPerPixel: pixel.samplesPerPixel,
    numberOfFrames: pixel.numberOfFrames,
    pixelSpacing: pixel.pixelSpacing,
    photometricInterpretation: header.photometricInterpretation!,
    transferSyntaxUid: header.transferSyntaxUid!,
    uri: file.uri,
    sizeBytes: file.sizeBytes,
    sha256: file.sha256,
    arrivedAt,
  };
}

/**
 * What happens to a received instance, in the order that makes success mean "safe": read its
 * header, write it durably to the store, publish its DicomArrived (when it is an image to label)
 * and wait for Kafka's acknowledgment, record that it was announced; only then success. Any failure
 * answers 0xA700 so the sender retries; a retry finds the file stored and the announcement either
 * done (duplicate: success, nothing published again) or still to do.
 */
export class InstanceIngest {
  private readonly lock = new KeyedLock();

  constructor(
    private readonly store: InstanceStore,
    private readonly policy: AnnouncePolicy,
    private readonly publisher: ArrivalPublisher,
    private readonly encode: (event: DicomArrivedEvent) => Buffer,
    private readonly metrics: DicomGatewayMetrics,
    private readonly logger: Logger,
    private readonly hmacKey?: string,
  ) {}

  async ingest(incoming: IncomingInstance, sopInstanceUid: string): Promise<StoreResult> {
    const started = process.hrtime.bigint();
    try {
      return await this.lock.run(sopInstanceUid, () => this.ingestLocked(incoming, sopInstanceUid));
    } finally {
      this.metrics.storeSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async ingestLocked(incoming: IncomingInstance, sopInstanceUid: string): Promise<StoreResult> {
    if (incoming.failure) {
      await this.store.discard(incoming);
      return this.failed('store-write', `cannot write the instance: ${incoming.failure.message}`);
    }
    let header = await this.readHeader(incoming);
    const finalPath = this.store.pathFor(header?.studyInstanceUid ?? null, sopInstanceUid);
    let outcome;
    try {
      outcome = await this.store.commit(incoming, finalPath);
    } catch (err) {
      await this.store.discard(incoming).catch(() => {});
      return this.failed('store-write', `cannot store the instance: ${(err as Error).message}`);
    }
    if (outcome === 'stored') this.metrics.bytes.inc(incoming.size);
    let file = { sizeBytes: incoming.size, sha256: incoming.sha256 };
    if (outcome === 'conflict') {
      // the same SOP Instance UID in other bytes (another transfer syntax, say): one instance, so the
      // first copy stays the instance; it is announced below if that has not happened yet
      this.logger.info({ outcome }, 'an instance arrived again in other bytes; the first copy is kept');
      const first = await this.store.readStored(finalPath);
      file = { sizeBytes: first.length, sha256: createHash('sha256').update(first).digest('hex') };
      header = safeHeader(first);
    }
    const repeat = outcome !== 'stored';
    if (!header) {
      this.metrics.instances.inc({ outcome: repeat ? 'duplicate' : 'stored', reason: 'unreadable-header' });
      return { status: STORE_STATUS.success };
    }
    header = { ...header, sopInstanceUid: header.sopInstanceUid ?? sopInstanceUid };
    const decision = decideAnnouncement(header, this.policy);
    if (!decision.announce) {
      this.metrics.instances.inc({
        outcome: repeat ? 'duplicate' : 'stored',
        reason: decision.reason,
      });
      return { status: STORE_STATUS.success };
    }
    if (await this.store.isAnnounced(finalPath)) {
      this.metrics.instances.inc({
        outcome: 'duplicate',
        reason: outcome === 'conflict' ? 'already-announced-other-bytes' : 'already-announced',
      });
      return { status: STORE_STATUS.success };
    }
    const uri = this.store.uriFor(finalPath);
    const event = dicomArrivedFromHeader(header, { uri, ...file }, Date.now(), this.hmacKey);
    try {
      await this.publisher.publish({ key: event.accession, value: this.encode(event) });
    } catch (err) {
      return this.failed('kafka', `DicomArrived not acknowledged: ${(err as Error).message}`);
    }
    try {
      await this.store.markAnnounced(finalPath, `${new Date().toISOString()} ${event.sha256}\n`);
    } catch (err) {
      // announced, but not recorded: a retry announces again (consumers are idempotent by SOP UID)
      return this.failed('store-write', `cannot record the announcement: ${(err as Error).message}`);
    }
    this.metrics.instances.inc({ outcome: 'announced', reason: '' });
    return { status: STORE_STATUS.success };
  }

  private async readHeader(incoming: IncomingInstance): Promise<InstanceHeader | null> {
    const fromHead = safeHeader(incoming.head);
    if (fromHead || incoming.complete) return fromHead;
    // the header is longer than the bytes kept in memory (or the dataset is deflated): read it all
    try {
      return safeHeader(await readFile(incoming.tempPath));
    } catch {
      return null;
    }
  }

  private failed(reason: string, comment: string): StoreResult {
    this.metrics.instances.inc({ outcome: 'failed', reason });
    this.logger.warn(
      { reason, detail: comment.slice(0, 200) },
      'C-STORE answered with a failure status; the sender will retry',
    );
    return { status: STORE_STATUS.outOfResources, comment: comment.slice(0, 64) };
  }
}
