import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import type { ImageArrival } from '../../pseudo-labeler/events.ts';
import { storeInputs } from '../../pseudo-labeler/store.ts';
import { withTransaction } from '../../shared/db/transaction.ts';
import { archiveOffset, BACKFILL_DICOM_TOPIC, BACKFILL_PARTITION } from './archive-keys.ts';
import { bump, type Counts } from './counts.ts';
import { ArchiveImageError, dicomArrivalFromFile } from './dicom-arrival.ts';

export interface ImageBatchOutcome {
  files: number;
  /** Recorded by an earlier run (same file, or the same SOP Instance UID elsewhere). */
  alreadyDone: number;
  recorded: number;
  failed: Counts;
  /** Objects that are not images (SR, SEG, PR, KO...), by reason: left out on purpose. */
  skipped: Counts;
  problems: Array<{ file: string; reason: string; detail: string }>;
}

/**
 * Records one batch of stored DICOM files as images, with the pseudo-labeler's own insert (natural
 * key: SOP Instance UID). The arrival "event" kept with an image (images.event_value) is the
 * DicomArrived record as JSON, under the pseudo-topic backfill.dicom. Unreadable files are counted
 * with a reason and left out; the rest of the batch is recorded.
 */
export async function backfillImageBatch(
  pool: pg.Pool,
  files: string[],
  maxBytes: number,
): Promise<ImageBatchOutcome> {
  const outcome: ImageBatchOutcome = {
    files: files.length,
    alreadyDone: 0,
    recorded: 0,
    failed: {},
    skipped: {},
    problems: [],
  };
  const uris = files.map((f) => pathToFileURL(resolve(f)).href);
  const known = await pool.query<{ uri: string }>('SELECT uri FROM images WHERE uri = ANY($1::text[])', [
    uris,
  ]);
  const seenUris = new Set(known.rows.map((r) => r.uri));
  const arrivals: ImageArrival[] = [];
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    const uri = uris[i]!;
    if (seenUris.has(uri)) {
      outcome.alreadyDone++;
      continue;
    }
    try {
      const info = await stat(file);
      if (info.size > maxBytes) {
        throw new ArchiveImageError(
          'not-dicom',
          `file holds ${info.size} bytes, over the limit of ${maxBytes}`,
        );
      }
      const bytes = await readFile(file);
      const event = dicomArrivalFromFile(
        new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        { uri, sizeBytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
        info.mtimeMs,
      );
      arrivals.push({
        event,
        topic: BACKFILL_DICOM_TOPIC,
        partition: BACKFILL_PARTITION,
        offset: archiveOffset(event.sopInstanceUid),
        value: Buffer.from(JSON.stringify(event)),
      });
    } catch (err) {
      if (err instanceof ArchiveImageError && err.skipped) {
        bump(outcome.skipped, err.reason);
        continue;
      }
      const reason =
        err instanceof ArchiveImageError
          ? err.reason
          : `unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
      if (!(err instanceof ArchiveImageError) && !(err as NodeJS.ErrnoException).code) throw err;
      bump(outcome.failed, reason);
      outcome.problems.push({ file, reason, detail: (err as Error).message.slice(0, 200) });
    }
  }
  if (arrivals.length === 0) return outcome;
  const sops = arrivals.map((a) => a.event.sopInstanceUid);
  await withTransaction(pool, async (client) => {
    const existing = await client.query<{ sop: string }>(
      'SELECT sop_instance_uid AS sop FROM images WHERE sop_instance_uid = ANY($1::text[])',
      [sops],
    );
    const stored = new Set(existing.rows.map((r) => r.sop));
    const fresh = arrivals.filter((a) => {
      if (stored.has(a.event.sopInstanceUid)) return false;
      stored.add(a.event.sopInstanceUid);
      return true;
    });
    outcome.alreadyDone += arrivals.length - fresh.length;
    outcome.recorded = fresh.length;
    await storeInputs(client, fresh, []);
  });
  return outcome;
}
