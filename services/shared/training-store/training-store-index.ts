import type pg from 'pg';
import type { StoredInputRef, WrittenShard } from './training-store.ts';

/**
 * The Postgres index of the training store (migrations: training_shards, training_inputs): which
 * shard and offset holds each image's model input for a preprocessing version. Written in the same
 * transaction as the labels it belongs to; a shard or input already indexed is left as it is.
 */

/** Indexes a written shard and its inputs; returns how many inputs were new. */
export async function indexShard(
  client: pg.ClientBase,
  shard: WrittenShard,
  writer: string,
): Promise<number> {
  await client.query(
    `INSERT INTO training_shards (shard_id, path, preprocessing_version, height, width, images, bytes, writer)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (shard_id) DO NOTHING`,
    [
      shard.shardId,
      shard.path,
      shard.preprocessingVersion,
      shard.height,
      shard.width,
      shard.inputs.length,
      shard.bytes,
      writer,
    ],
  );
  const col = <T>(f: (r: StoredInputRef) => T): T[] => shard.inputs.map(f);
  const { rowCount } = await client.query(
    `INSERT INTO training_inputs (sop_instance_uid, preprocessing_version, shard_id, byte_offset, height, width,
       source_rows, source_columns, checksum_sha256)
     SELECT sop, $2, $3, off, $4, $5, r, c, sum
     FROM unnest($1::text[], $6::bigint[], $7::int[], $8::int[], $9::text[]) AS t(sop, off, r, c, sum)
     -- an image erased while this shard was being written is not indexed (docs/erasure.md)
     WHERE NOT EXISTS (SELECT 1 FROM erased_subjects e
                       WHERE e.kind = 'image' AND e.digest = encode(sha256(convert_to(t.sop, 'UTF8')), 'hex'))
     ON CONFLICT (sop_instance_uid, preprocessing_version) DO NOTHING`,
    [
      col((r) => r.sopInstanceUid),
      shard.preprocessingVersion,
      shard.shardId,
      shard.height,
      shard.width,
      col((r) => r.byteOffset),
      col((r) => r.sourceRows),
      col((r) => r.sourceColumns),
      col((r) => r.checksum),
    ],
  );
  return rowCount ?? 0;
}

/** The stored inputs of these images under one preprocessing version (absent ones are not in the map). */
export async function findStoredInputs(
  db: pg.Pool | pg.ClientBase,
  sopInstanceUids: readonly string[],
  preprocessingVersion: string,
): Promise<Map<string, StoredInputRef>> {
  if (sopInstanceUids.length === 0) return new Map();
  const { rows } = await db.query<{
    sop_instance_uid: string;
    path: string;
    byte_offset: string;
    height: number;
    width: number;
    source_rows: number;
    source_columns: number;
    checksum_sha256: string;
  }>(
    `SELECT i.sop_instance_uid, s.path, i.byte_offset::text, i.height, i.width, i.source_rows, i.source_columns,
       i.checksum_sha256
     FROM training_inputs i JOIN training_shards s ON s.shard_id = i.shard_id
     WHERE i.sop_instance_uid = ANY($1::text[]) AND i.preprocessing_version = $2`,
    [sopInstanceUids, preprocessingVersion],
  );
  return new Map(
    rows.map((r) => [
      r.sop_instance_uid,
      {
        sopInstanceUid: r.sop_instance_uid,
        shardPath: r.path,
        byteOffset: Number(r.byte_offset),
        height: r.height,
        width: r.width,
        sourceRows: r.source_rows,
        sourceColumns: r.source_columns,
        checksum: r.checksum_sha256,
      },
    ]),
  );
}
