import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { shardWithout } from '../training-store/shard-without.ts';
import {
  readShardFile,
  TrainingStoreError,
  type FileTrainingStore,
} from '../training-store/training-store.ts';
import { subjectDigest } from './erased-subjects.ts';

/**
 * Erasure on request (`harvester forget`, docs/erasure.md): every row the system holds about one
 * patient, and their model inputs inside the training store's shards, are deleted in one
 * transaction; the patient, their accessions and images are recorded in erased_subjects so later
 * arrivals are dropped; the erasure itself is recorded in erasures (counts, never the subject), with
 * the models that had already trained on the data.
 */

/** Whom to erase: a patient (by pseudonym: the caller applies the HMAC) or the patient of an accession. */
export type ErasureSubject =
  { kind: 'patient-id'; pseudonym: string } | { kind: 'accession'; accession: string };

export interface ErasureSummary {
  erasureId: number;
  erasedAt: string;
  selector: ErasureSubject['kind'];
  /** Rows deleted per table (every table is named, 0 included). */
  rowsDeleted: Record<string, number>;
  trainingInputsErased: number;
  /** Shards written anew without the erased inputs, and shards left with no input at all. */
  shardsRewritten: number;
  shardsRemoved: number;
  /** model_versions whose training snapshot held erased data. */
  modelsTrainedOnData: string[];
  /** distill_jobs whose snapshot held erased data (a job still running has no model yet). */
  jobsTrainedOnData: number[];
  /** model_versions without a snapshot (trained from a prepared folder): unknown whether they saw it. */
  modelsWithUnknownData: string[];
  /** Old shard files deleted after the commit (this erasure's, and any a crashed one left). */
  filesDeleted: number;
}

/** The tables an erasure deletes from, in the order it deletes (children before parents). */
export const ERASED_TABLES = [
  'pseudo_labels_superseded',
  'pseudo_labels',
  'region_annotations',
  'region_annotated_images',
  'training_inputs',
  'images',
  'study_record_labels',
  'report_labels',
  'reports',
  'report_versions',
] as const;

/**
 * SHARE ROW EXCLUSIVE conflicts with the ROW EXCLUSIVE lock every writer takes, so writers in flight
 * finish first and new ones wait for this erasure's commit, then see erased_subjects
 * (waitForRunningErasure). Readers are not blocked.
 */
const LOCKED_TABLES = [
  'reports',
  'report_versions',
  'report_labels',
  'images',
  'study_record_labels',
  'pseudo_labels',
  'pseudo_labels_superseded',
  'training_shards',
  'training_inputs',
  'region_annotated_images',
  'region_annotations',
];

const DEADLOCK_RETRIES = 5;

interface Subject {
  pseudonyms: string[];
  accessions: string[];
  sops: string[];
}

export async function forget(
  pool: pg.Pool,
  store: FileTrainingStore,
  subject: ErasureSubject,
): Promise<ErasureSummary> {
  let filesDeleted = await deletePendingFiles(pool, store);
  let summary: ErasureSummary | undefined;
  for (let attempt = 1; !summary; attempt++) {
    try {
      summary = await withTransaction(pool, (client) => eraseInTransaction(client, store, subject));
    } catch (err) {
      // a deadlock with a service's write: Postgres aborted us, the service went on; try again
      if ((err as { code?: string }).code !== '40P01' || attempt >= DEADLOCK_RETRIES) throw err;
    }
  }
  filesDeleted += await deletePendingFiles(pool, store);
  return { ...summary, filesDeleted };
}

async function eraseInTransaction(
  client: pg.ClientBase,
  store: FileTrainingStore,
  subject: ErasureSubject,
): Promise<ErasureSummary> {
  await client.query(`LOCK TABLE ${LOCKED_TABLES.join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
  const who = await resolveSubject(client, subject);
  await client.query(
    `INSERT INTO erased_subjects (kind, digest)
     SELECT 'patient', unnest($1::text[])
     UNION ALL SELECT 'accession', unnest($2::text[])
     UNION ALL SELECT 'image', unnest($3::text[])
     ON CONFLICT DO NOTHING`,
    [who.pseudonyms, who.accessions.map(subjectDigest), who.sops.map(subjectDigest)],
  );
  // before the labels go: which snapshots included these images
  const trained = await trainedOn(client, who.sops);
  const shards = await eraseFromShards(client, store, who.sops);
  const rowsDeleted: Record<string, number> = {};
  for (const table of ERASED_TABLES) {
    rowsDeleted[table] =
      table === 'training_inputs' ? shards.inputsDeleted : await deleteRows(client, table, who);
  }
  const { rows } = await client.query<{ id: string; erased_at: Date }>(
    `INSERT INTO erasures (selector, rows_deleted, training_inputs_erased, shards_rewritten, shards_removed,
       models_trained_on_data, jobs_trained_on_data, models_with_unknown_data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, erased_at`,
    [
      subject.kind,
      JSON.stringify(rowsDeleted),
      shards.inputsDeleted,
      shards.rewritten,
      shards.removed,
      trained.models,
      trained.jobs,
      trained.unknown,
    ],
  );
  return {
    erasureId: Number(rows[0]!.id),
    erasedAt: rows[0]!.erased_at.toISOString(),
    selector: subject.kind,
    rowsDeleted,
    trainingInputsErased: shards.inputsDeleted,
    shardsRewritten: shards.rewritten,
    shardsRemoved: shards.removed,
    modelsTrainedOnData: trained.models,
    jobsTrainedOnData: trained.jobs,
    modelsWithUnknownData: trained.unknown,
    filesDeleted: 0,
  };
}

/**
 * The patient's pseudonyms, accessions and images. An accession names its patient (through its
 * reports or images), and the whole patient is erased; one with no known patient erases itself.
 * Images carry no sending facility: the system joins studies by accession alone, and so does this.
 */
async function resolveSubject(client: pg.ClientBase, subject: ErasureSubject): Promise<Subject> {
  let pseudonyms: string[];
  if (subject.kind === 'patient-id') {
    pseudonyms = [subject.pseudonym];
  } else {
    const { rows } = await client.query<{ p: string }>(
      `SELECT patient_pseudonym AS p FROM reports WHERE accession = $1
       UNION SELECT patient_pseudonym FROM report_versions WHERE accession = $1
       UNION SELECT patient_pseudonym FROM images WHERE accession = $1 AND patient_pseudonym IS NOT NULL`,
      [subject.accession],
    );
    pseudonyms = rows.map((r) => r.p);
  }
  const { rows: acc } = await client.query<{ a: string }>(
    `SELECT accession AS a FROM reports WHERE patient_pseudonym = ANY($1::text[])
     UNION SELECT accession FROM report_versions WHERE patient_pseudonym = ANY($1::text[])
     UNION SELECT accession FROM images WHERE patient_pseudonym = ANY($1::text[])`,
    [pseudonyms],
  );
  const accessions = [
    ...new Set([...acc.map((r) => r.a), ...(subject.kind === 'accession' ? [subject.accession] : [])]),
  ];
  const { rows: img } = await client.query<{ s: string }>(
    `SELECT sop_instance_uid AS s FROM images
     WHERE accession = ANY($1::text[]) OR patient_pseudonym = ANY($2::text[])`,
    [accessions, pseudonyms],
  );
  return { pseudonyms, accessions, sops: img.map((r) => r.s) };
}

async function deleteRows(
  client: pg.ClientBase,
  table: (typeof ERASED_TABLES)[number],
  who: Subject,
): Promise<number> {
  const bySop = 'sop_instance_uid = ANY($1::text[])';
  const byReport = 'patient_pseudonym = ANY($1::text[]) OR accession = ANY($2::text[])';
  const query: Record<Exclude<typeof table, 'training_inputs'>, [string, unknown[]]> = {
    pseudo_labels_superseded: [`DELETE FROM pseudo_labels_superseded WHERE ${bySop}`, [who.sops]],
    pseudo_labels: [`DELETE FROM pseudo_labels WHERE ${bySop}`, [who.sops]],
    region_annotations: [`DELETE FROM region_annotations WHERE ${bySop}`, [who.sops]],
    region_annotated_images: [`DELETE FROM region_annotated_images WHERE ${bySop}`, [who.sops]],
    images: [`DELETE FROM images WHERE ${bySop}`, [who.sops]],
    study_record_labels: [
      'DELETE FROM study_record_labels WHERE accession = ANY($1::text[])',
      [who.accessions],
    ],
    // deleted explicitly (not left to ON DELETE CASCADE) so they are counted
    report_labels: [
      `DELETE FROM report_labels WHERE report_id IN (SELECT id FROM reports WHERE ${byReport})`,
      [who.pseudonyms, who.accessions],
    ],
    reports: [`DELETE FROM reports WHERE ${byReport}`, [who.pseudonyms, who.accessions]],
    report_versions: [`DELETE FROM report_versions WHERE ${byReport}`, [who.pseudonyms, who.accessions]],
  };
  if (table === 'training_inputs') throw new Error('training inputs are erased with their shards');
  const [sql, params] = query[table];
  const { rowCount } = await client.query(sql, params);
  return rowCount ?? 0;
}

interface TrainedOn {
  models: string[];
  jobs: number[];
  unknown: string[];
}

/**
 * The models and jobs whose snapshot (distiller/snapshot.py) read one of these images: its input is
 * in a shard the snapshot lists, at the snapshot's preprocessing version, and the image was in the
 * snapshot's data (an expert-reviewed image, or a pseudo-label of the snapshot's teacher created up
 * to its watermark and not superseded by then).
 */
async function trainedOn(client: pg.ClientBase, sops: string[]): Promise<TrainedOn> {
  const saw = (snapshot: string) => `${snapshot} IS NOT NULL AND EXISTS (
      SELECT 1 FROM training_inputs t JOIN training_shards s ON s.shard_id = t.shard_id
      WHERE t.sop_instance_uid = ANY($1::text[])
        AND t.preprocessing_version = ${snapshot}->>'preprocessingVersion'
        AND (${snapshot}->'shards'->'paths' ? s.path
          OR EXISTS (SELECT 1 FROM training_shard_lineage l
                     WHERE l.shard_id = s.shard_id AND ${snapshot}->'shards'->'paths' ? l.ancestor_path))
        AND (EXISTS (SELECT 1 FROM region_annotated_images r WHERE r.sop_instance_uid = t.sop_instance_uid)
          OR EXISTS (SELECT 1 FROM pseudo_labels p
                     WHERE p.sop_instance_uid = t.sop_instance_uid AND p.model_version = ${snapshot}->>'teacherVersion'
                       AND (${snapshot}->>'watermark' IS NULL OR p.created_at <= (${snapshot}->>'watermark')::timestamptz))
          OR EXISTS (SELECT 1 FROM pseudo_labels_superseded p
                     WHERE p.sop_instance_uid = t.sop_instance_uid AND p.model_version = ${snapshot}->>'teacherVersion'
                       AND (${snapshot}->>'watermark' IS NULL
                            OR (p.created_at <= (${snapshot}->>'watermark')::timestamptz
                                AND p.superseded_at > (${snapshot}->>'watermark')::timestamptz)))))`;
  const models = await client.query<{ v: string }>(
    `SELECT version AS v FROM model_versions WHERE ${saw('training_snapshot')} ORDER BY version`,
    [sops],
  );
  const jobs = await client.query<{ id: string }>(
    `SELECT id::text FROM distill_jobs WHERE ${saw('snapshot')} ORDER BY id`,
    [sops],
  );
  const unknown = await client.query<{ v: string }>(
    'SELECT version AS v FROM model_versions WHERE training_snapshot IS NULL ORDER BY version',
  );
  return {
    models: models.rows.map((r) => r.v),
    jobs: jobs.rows.map((r) => Number(r.id)),
    unknown: unknown.rows.map((r) => r.v),
  };
}

interface ShardErasure {
  inputsDeleted: number;
  rewritten: number;
  removed: number;
}

interface ShardRow {
  shard_id: string;
  path: string;
  height: number;
  width: number;
}

/**
 * Takes the images' inputs out of every shard that holds them: the shards that index them, and the
 * shards holding inputs no row points at (a chunk replayed with other boundaries), scanned for the
 * erased checksums. Each is rewritten without them (a new content-addressed shard, its other inputs
 * re-pointed) or dropped when nothing is left; the old file is deleted after the commit
 * (erasure_pending_files).
 */
async function eraseFromShards(
  client: pg.ClientBase,
  store: FileTrainingStore,
  sops: string[],
): Promise<ShardErasure> {
  const result: ShardErasure = { inputsDeleted: 0, rewritten: 0, removed: 0 };
  if (sops.length === 0) return result;
  const { rows: erasedInputs } = await client.query<{ checksum_sha256: string }>(
    'SELECT DISTINCT checksum_sha256 FROM training_inputs WHERE sop_instance_uid = ANY($1::text[])',
    [sops],
  );
  const checksums = new Set(erasedInputs.map((r) => r.checksum_sha256));
  const { rows: shards } = await client.query<ShardRow>(
    `SELECT s.shard_id, s.path, s.height, s.width FROM training_shards s
     WHERE EXISTS (SELECT 1 FROM training_inputs t WHERE t.shard_id = s.shard_id AND t.sop_instance_uid = ANY($1::text[]))
        OR (cardinality($2::text[]) > 0
            AND s.images > (SELECT count(*) FROM training_inputs t WHERE t.shard_id = s.shard_id))
     ORDER BY s.shard_id`,
    [sops, [...checksums]],
  );
  for (const shard of shards) {
    const { rows: indexed } = await client.query<{ sop_instance_uid: string; byte_offset: string }>(
      'SELECT sop_instance_uid, byte_offset::text FROM training_inputs WHERE shard_id = $1',
      [shard.shard_id],
    );
    const erasedSops = new Set(sops);
    const keepOffsets = new Set(
      indexed.filter((r) => !erasedSops.has(r.sop_instance_uid)).map((r) => Number(r.byte_offset)),
    );
    let bytes: Buffer;
    try {
      bytes = await readShardFile(store, shard.path);
    } catch (err) {
      throw new TrainingStoreError(
        `shard ${shard.path} is not under ${store.root} (${(err as NodeJS.ErrnoException).code}): ` +
          'set TRAINING_STORE_URL to the store the services write',
      );
    }
    const rest = shardWithout(bytes, shard.height * shard.width, checksums, keepOffsets);
    const { rowCount } = await client.query(
      'DELETE FROM training_inputs WHERE shard_id = $1 AND sop_instance_uid = ANY($2::text[])',
      [shard.shard_id, sops],
    );
    result.inputsDeleted += rowCount ?? 0;
    if (rest.removed === 0) continue;
    if (rest.kept > 0) {
      const version = shard.path.split('/')[0]!;
      const written = await store.writeShardBytes(rest.content, version);
      await client.query(
        `INSERT INTO training_shards (shard_id, path, preprocessing_version, height, width, images, bytes, writer)
         SELECT $1, $2, preprocessing_version, height, width, $3, $4, 'forget' FROM training_shards WHERE shard_id = $5
         ON CONFLICT (shard_id) DO NOTHING`,
        [written.shardId, written.path, rest.kept, rest.content.length, shard.shard_id],
      );
      await client.query(
        `INSERT INTO training_shard_lineage (shard_id, ancestor_path)
         SELECT $1, $2 UNION SELECT $1, ancestor_path FROM training_shard_lineage WHERE shard_id = $3
         ON CONFLICT DO NOTHING`,
        [written.shardId, shard.path, shard.shard_id],
      );
      const moved = [...rest.offsets];
      await client.query(
        `UPDATE training_inputs t SET shard_id = $1, byte_offset = m.new_offset
         FROM unnest($3::bigint[], $4::bigint[]) AS m(old_offset, new_offset)
         WHERE t.shard_id = $2 AND t.byte_offset = m.old_offset`,
        [written.shardId, shard.shard_id, moved.map(([o]) => o), moved.map(([, n]) => n)],
      );
      result.rewritten++;
    } else {
      result.removed++;
    }
    await client.query('DELETE FROM training_shard_lineage WHERE shard_id = $1', [shard.shard_id]);
    await client.query('DELETE FROM training_shards WHERE shard_id = $1', [shard.shard_id]);
    await client.query('INSERT INTO erasure_pending_files (path) VALUES ($1) ON CONFLICT DO NOTHING', [
      shard.path,
    ]);
  }
  // inputs of these images in shards that were not found (none expected): their rows go too
  const { rowCount } = await client.query(
    'DELETE FROM training_inputs WHERE sop_instance_uid = ANY($1::text[])',
    [sops],
  );
  result.inputsDeleted += rowCount ?? 0;
  return result;
}

/** Deletes the shard files replaced by committed erasures; returns how many. */
async function deletePendingFiles(pool: pg.Pool, store: FileTrainingStore): Promise<number> {
  const { rows } = await pool.query<{ path: string }>(
    `SELECT path FROM erasure_pending_files p
     WHERE NOT EXISTS (SELECT 1 FROM training_shards s WHERE s.path = p.path)`,
  );
  for (const { path } of rows) {
    await store.removeShard(path);
    await pool.query('DELETE FROM erasure_pending_files WHERE path = $1', [path]);
  }
  return rows.length;
}
