import { sha256Hex } from './training-store.ts';

/**
 * A shard with some model inputs taken out (erasure, docs/erasure.md). Shards are content-addressed
 * and never changed in place, so an input inside one is erased by writing a new shard of the other
 * inputs (a new id) and deleting the old file. Inputs are matched by the checksum of their bytes,
 * so every copy of an erased input in the shard goes, indexed or not.
 */
export interface ShardWithout {
  /** The remaining planes back to back, in their old order (empty when none is left). */
  content: Buffer;
  /** Old byte offset -> new byte offset, for each remaining plane. */
  offsets: Map<number, number>;
  kept: number;
  removed: number;
}

/**
 * Drops every plane (`planeBytes` long) whose SHA-256 is in `erasedChecksums`, except at
 * `keepOffsets`: the indexed inputs of images not erased (another image may have the very same bytes).
 */
export function shardWithout(
  shard: Uint8Array,
  planeBytes: number,
  erasedChecksums: ReadonlySet<string>,
  keepOffsets: ReadonlySet<number> = new Set(),
): ShardWithout {
  if (planeBytes <= 0 || shard.length % planeBytes !== 0) {
    throw new Error(`a shard of ${shard.length} bytes is not a whole number of ${planeBytes}-byte inputs`);
  }
  const planes = shard.length / planeBytes;
  const keep: number[] = [];
  for (let n = 0; n < planes; n++) {
    const plane = shard.subarray(n * planeBytes, (n + 1) * planeBytes);
    if (keepOffsets.has(n * planeBytes) || !erasedChecksums.has(sha256Hex(plane))) keep.push(n);
  }
  const content = Buffer.allocUnsafe(keep.length * planeBytes);
  const offsets = new Map<number, number>();
  keep.forEach((n, i) => {
    content.set(shard.subarray(n * planeBytes, (n + 1) * planeBytes), i * planeBytes);
    offsets.set(n * planeBytes, i * planeBytes);
  });
  return { content, offsets, kept: keep.length, removed: planes - keep.length };
}
