import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import type { LabelVolume, ScheduleDecision } from './schedule-decision.ts';

/**
 * Postgres side of distillation jobs (distill_jobs, migrations 1764547200000 and 1764806400000),
 * shared by the scheduler and the worker. Every state change is a guarded UPDATE (status and
 * attempt in the WHERE), so a stale replica or a worker that lost its lease changes nothing.
 */

export interface DistillJobRow {
  id: string;
  status: 'requested' | 'running' | 'succeeded' | 'failed';
  reason: string;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  labelWatermark: Date;
  labelCounts: Record<string, number>;
  recipe: Record<string, string>;
  claimedBy: string | null;
  attempt: number;
  maxAttempts: number;
  heartbeatAt: Date | null;
  eventPublishedAt: Date | null;
  baseModelVersion: string | null;
  outputModelVersion: string | null;
  outputModelPath: string | null;
  outputChecksum: string | null;
  durationSeconds: number | null;
  runner: string | null;
  error: string | null;
  attempts: AttemptRecord[];
}

export interface AttemptRecord {
  attempt: number;
  claimedBy: string | null;
  startedAt: string | null;
  endedAt: string;
  outcome: 'succeeded' | 'failed' | 'lease-expired';
  error?: string;
}

const COLUMNS = `id::text, status, reason, requested_at, started_at, finished_at, label_watermark, label_counts,
  recipe, claimed_by, attempt, max_attempts, heartbeat_at, event_published_at, base_model_version,
  output_model_version, output_model_path, output_checksum_sha256, duration_seconds, runner, error, attempts`;

interface RawJob {
  id: string;
  status: DistillJobRow['status'];
  reason: string;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  label_watermark: Date;
  label_counts: Record<string, number>;
  recipe: Record<string, string>;
  claimed_by: string | null;
  attempt: number;
  max_attempts: number;
  heartbeat_at: Date | null;
  event_published_at: Date | null;
  base_model_version: string | null;
  output_model_version: string | null;
  output_model_path: string | null;
  output_checksum_sha256: string | null;
  duration_seconds: number | null;
  runner: string | null;
  error: string | null;
  attempts: AttemptRecord[];
}

function toJob(r: RawJob): DistillJobRow {
  return {
    id: r.id,
    status: r.status,
    reason: r.reason,
    requestedAt: r.requested_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    labelWatermark: r.label_watermark,
    labelCounts: r.label_counts,
    recipe: r.recipe,
    claimedBy: r.claimed_by,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    heartbeatAt: r.heartbeat_at,
    eventPublishedAt: r.event_published_at,
    baseModelVersion: r.base_model_version,
    outputModelVersion: r.output_model_version,
    outputModelPath: r.output_model_path,
    outputChecksum: r.output_checksum_sha256,
    durationSeconds: r.duration_seconds,
    runner: r.runner,
    error: r.error,
    attempts: r.attempts,
  };
}

/** The analytics view of new pseudo-labels per class since the last non-failed job. */
export async function readLabelVolume(db: pg.ClientBase | pg.Pool): Promise<LabelVolume> {
  const { rows } = await db.query<{
    class: string;
    new_pseudo_labels: string;
    last_job_requested_at: Date | null;
  }>('SELECT class, new_pseudo_labels, last_job_requested_at FROM analytics_label_volume_since_distill');
  return {
    newLabels: Object.fromEntries(rows.map((r) => [r.class, Number(r.new_pseudo_labels)])),
    lastRequestedAt: rows[0]?.last_job_requested_at ?? null,
  };
}

/** The teacher a new job distils from: the active model, else the version of the newest pseudo-labels. */
export async function currentTeacherVersion(db: pg.ClientBase | pg.Pool): Promise<string | null> {
  const { rows } = await db.query<{ version: string | null }>(
    `SELECT coalesce(
       (SELECT version FROM model_versions WHERE status = 'active'),
       (SELECT model_version FROM pseudo_labels ORDER BY created_at DESC LIMIT 1)) AS version`,
  );
  return rows[0]?.version ?? null;
}

/** Any key: the scheduler's lock id (pg_advisory_xact_lock) for the decide-and-insert step. */
export const SCHEDULER_LOCK_KEY = 0x46480008; // "FH" + issue 8

export interface JobRequestSettings {
  maxAttempts: number;
  recipe: Record<string, string>;
  decide: (volume: LabelVolume, now: Date) => ScheduleDecision;
}

export type RequestOutcome =
  | { requested: true; job: DistillJobRow; decision: ScheduleDecision }
  | { requested: false; decision: ScheduleDecision | null; why: 'job-in-flight' | 'decided-not-to' };

/**
 * Single flight: the decision and the insert run in one transaction under an advisory lock, so two
 * scheduler replicas serialise here and the second sees the first one's job (in flight, or its
 * new watermark). The partial unique index on requested/running jobs backs this up: a conflicting
 * insert does nothing.
 */
export async function requestJobIfDue(pool: pg.Pool, settings: JobRequestSettings): Promise<RequestOutcome> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEDULER_LOCK_KEY]);
    const inFlight = await client.query(
      `SELECT 1 FROM distill_jobs WHERE status IN ('requested', 'running') LIMIT 1`,
    );
    if (inFlight.rowCount! > 0) return { requested: false, decision: null, why: 'job-in-flight' };
    const { rows: clock } = await client.query<{ now: Date }>('SELECT now() AS now');
    const now = clock[0]!.now;
    const volume = await readLabelVolume(client);
    const decision = settings.decide(volume, now);
    if (!decision.request) return { requested: false, decision, why: 'decided-not-to' };
    const teacher = await currentTeacherVersion(client);
    // the watermark is this transaction's clock: labels created after it count for the next job
    const { rows } = await client.query<RawJob>(
      `INSERT INTO distill_jobs (status, reason, label_watermark, label_counts, recipe, max_attempts, base_model_version)
       VALUES ('requested', $1, $2, $3, $4, $5, $6)
       ON CONFLICT ((true)) WHERE status IN ('requested', 'running') DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        decision.reason,
        now,
        JSON.stringify(volume.newLabels),
        JSON.stringify(settings.recipe),
        settings.maxAttempts,
        teacher,
      ],
    );
    if (rows.length === 0) return { requested: false, decision, why: 'job-in-flight' };
    return { requested: true, job: toJob(rows[0]!), decision };
  });
}

export async function getJob(db: pg.Pool | pg.ClientBase, id: string): Promise<DistillJobRow | null> {
  const { rows } = await db.query<RawJob>(`SELECT ${COLUMNS} FROM distill_jobs WHERE id = $1`, [id]);
  return rows[0] ? toJob(rows[0]) : null;
}

export async function listUnfinishedJobs(db: pg.Pool): Promise<DistillJobRow[]> {
  const { rows } = await db.query<RawJob>(
    `SELECT ${COLUMNS} FROM distill_jobs WHERE status IN ('requested', 'running') ORDER BY id`,
  );
  return rows.map(toJob);
}

/** Records that the request for this attempt is on Kafka (only while it is still requested). */
export async function markJobPublished(db: pg.Pool, id: string, attempt: number): Promise<void> {
  await db.query(
    `UPDATE distill_jobs SET event_published_at = now() WHERE id = $1 AND attempt = $2 AND status = 'requested'`,
    [id, attempt],
  );
}

/**
 * A worker takes the job: requested -> running, attempt + 1. Returns null when another worker has
 * it, it is finished, or its attempts are used up (a duplicate or stale event).
 */
export async function claimJob(
  db: pg.Pool,
  id: string,
  workerId: string,
  runner: string,
): Promise<DistillJobRow | null> {
  const { rows } = await db.query<RawJob>(
    `UPDATE distill_jobs SET status = 'running', attempt = attempt + 1, claimed_by = $2, runner = $3,
       started_at = now(), heartbeat_at = now(), error = NULL
     WHERE id = $1 AND status = 'requested' AND attempt < max_attempts
     RETURNING ${COLUMNS}`,
    [id, workerId, runner],
  );
  return rows[0] ? toJob(rows[0]) : null;
}

/** Extends the lease; false when the worker no longer holds the job (it was requeued or failed). */
export async function heartbeatJob(
  db: pg.Pool,
  id: string,
  attempt: number,
  workerId: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE distill_jobs SET heartbeat_at = now()
     WHERE id = $1 AND attempt = $2 AND claimed_by = $3 AND status = 'running'`,
    [id, attempt, workerId],
  );
  return rowCount === 1;
}

export interface JobOutput {
  modelVersion: string;
  modelPath: string;
  checksum: string;
  durationSeconds: number;
}

export async function completeJob(
  db: pg.Pool,
  job: DistillJobRow,
  workerId: string,
  output: JobOutput,
): Promise<boolean> {
  const record: AttemptRecord = {
    attempt: job.attempt,
    claimedBy: workerId,
    startedAt: job.startedAt?.toISOString() ?? null,
    endedAt: new Date().toISOString(),
    outcome: 'succeeded',
  };
  const { rowCount } = await db.query(
    // the data it trained on, as the distiller registered it with the model (null from a prepared folder)
    `UPDATE distill_jobs SET status = 'succeeded', finished_at = now(), heartbeat_at = now(),
       output_model_version = $4, output_model_path = $5, output_checksum_sha256 = $6, duration_seconds = $7,
       attempts = attempts || $8::jsonb,
       snapshot = (SELECT training_snapshot FROM model_versions WHERE version = $4)
     WHERE id = $1 AND attempt = $2 AND claimed_by = $3 AND status = 'running'`,
    [
      job.id,
      job.attempt,
      workerId,
      output.modelVersion,
      output.modelPath,
      output.checksum,
      output.durationSeconds,
      JSON.stringify([record]),
    ],
  );
  return rowCount === 1;
}

/**
 * Ends a failed (or lease-expired) attempt: back to requested for a retry (the event is published
 * again by whoever calls this) or failed for good. Guarded by attempt and status, so the worker and
 * the scheduler cannot both act on the same attempt. Returns what happened, or null if nothing did.
 */
export async function endFailedAttempt(
  db: pg.Pool,
  job: Pick<DistillJobRow, 'id' | 'attempt' | 'claimedBy' | 'startedAt'>,
  next: 'retry' | 'fail',
  outcome: 'failed' | 'lease-expired',
  error: string,
  durationSeconds?: number,
): Promise<DistillJobRow | null> {
  const record: AttemptRecord = {
    attempt: job.attempt,
    claimedBy: job.claimedBy,
    startedAt: job.startedAt?.toISOString() ?? null,
    endedAt: new Date().toISOString(),
    outcome,
    error: error.slice(0, 500),
  };
  const { rows } = await db.query<RawJob>(
    next === 'retry'
      ? `UPDATE distill_jobs SET status = 'requested', claimed_by = NULL, heartbeat_at = NULL,
           event_published_at = NULL, error = $3, attempts = attempts || $4::jsonb
         WHERE id = $1 AND attempt = $2 AND status = 'running' RETURNING ${COLUMNS}`
      : `UPDATE distill_jobs SET status = 'failed', finished_at = now(), error = $3,
           attempts = attempts || $4::jsonb, duration_seconds = coalesce($5, duration_seconds)
         WHERE id = $1 AND attempt = $2 AND status = 'running' RETURNING ${COLUMNS}`,
    next === 'retry'
      ? [job.id, job.attempt, error.slice(0, 2000), JSON.stringify([record])]
      : [job.id, job.attempt, error.slice(0, 2000), JSON.stringify([record]), durationSeconds ?? null],
  );
  return rows[0] ? toJob(rows[0]) : null;
}
