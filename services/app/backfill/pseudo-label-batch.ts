import type pg from 'pg';
import {
  computedLabels,
  inferJobs,
  planComputeJobs,
  type InferenceDeps,
  type JobResult,
  type TargetSettings,
} from '../../pseudo-labeler/compute-labels.ts';
import type { JoinPolicy } from '../../pseudo-labeler/join-decision.ts';
import {
  loadJoinState,
  markImagesFailed,
  writePseudoLabels,
  type ComputedLabel,
} from '../../pseudo-labeler/store.ts';
import { storedInputsFor, writeNewInputs } from '../../pseudo-labeler/training-inputs.ts';
import { withTransaction } from '../../shared/db/transaction.ts';
import { indexShard } from '../../shared/training-store/training-store-index.ts';
import type { TrainingStore } from '../../shared/training-store/training-store.ts';
import { bump, type Counts } from './counts.ts';

export interface PseudoLabelDeps {
  modelVersion: string;
  policy: JoinPolicy;
  target: TargetSettings;
  inference: Omit<InferenceDeps, 'stored'>;
  /** Every labelled image's model input goes here, as the pseudo-labeler keeps it. */
  trainingStore: TrainingStore;
}

export interface PseudoLabelBatchOutcome {
  images: number;
  /** Images the teacher ran on. */
  inferred: number;
  /** Written pseudo-labels by class and target method, e.g. "rib/aals", "clavicle/zero". */
  written: Counts;
  superseded: number;
  withdrawn: number;
  /** Computed but not written: a label from a newer report was stored meanwhile (a live service). */
  stale: number;
  failed: Counts;
  problems: Array<{ sopInstanceUid: string; reason: string; detail: string }>;
}

/**
 * Studies with at least one usable image that lacks a pseudo-label of this teacher version for some
 * class, and a record label to join it with: what is left to do (an interrupted run resumes here).
 */
export async function pendingAccessions(db: pg.Pool, modelVersion: string): Promise<string[]> {
  const { rows } = await db.query<{ accession: string }>(
    `SELECT DISTINCT i.accession
     FROM images i JOIN study_record_labels s ON s.accession = i.accession
     WHERE i.failed_reason IS NULL
       AND (SELECT count(*) FROM pseudo_labels p
            WHERE p.sop_instance_uid = i.sop_instance_uid AND p.model_version = $1) < 2
     ORDER BY 1`,
    [modelVersion],
  );
  return rows.map((r) => r.accession);
}

/**
 * Pseudo-labels the images of some studies exactly as the pseudo-labeler does: the join decision,
 * the teacher in micro-batches, AALS (or zero) targets, the guarded write, unreadable images marked
 * failed. One transaction for the writes: an interruption loses at most this batch's inference.
 */
export async function backfillPseudoLabelBatch(
  pool: pg.Pool,
  accessions: string[],
  deps: PseudoLabelDeps,
): Promise<PseudoLabelBatchOutcome> {
  const rows = await loadJoinState(pool, accessions, deps.modelVersion);
  const { jobs, withdrawals } = planComputeJobs(rows, deps.policy);
  const { teacher } = deps.inference;
  const results = await inferJobs(jobs, {
    ...deps.inference,
    stored: await storedInputsFor(pool, deps.trainingStore, jobs, teacher),
  });
  const computed: ComputedLabel[] = [];
  const failures: Array<JobResult & { ok: false }> = [];
  for (const r of results) {
    if (r.ok) computed.push(...computedLabels(r.job, r.maps, deps.target));
    else failures.push(r);
  }
  const shard = await writeNewInputs(deps.trainingStore, results, teacher);
  const written = await withTransaction(pool, async (client) => {
    const outcome = await writePseudoLabels(client, deps.modelVersion, computed, withdrawals);
    await markImagesFailed(
      client,
      failures.map((f) => ({ sopInstanceUid: f.job.row.sopInstanceUid, reason: f.reason })),
    );
    if (shard) await indexShard(client, shard, 'backfill');
    return outcome;
  });
  const outcome: PseudoLabelBatchOutcome = {
    images: rows.length,
    inferred: results.length - failures.length,
    written: {},
    superseded: written.superseded,
    withdrawn: written.withdrawn,
    stale: written.stale,
    failed: {},
    problems: [],
  };
  for (const l of computed) bump(outcome.written, `${l.cls}/${l.targetMethod}`);
  for (const f of failures) {
    bump(outcome.failed, f.reason);
    outcome.problems.push({ sopInstanceUid: f.job.row.sopInstanceUid, reason: f.reason, detail: f.detail });
  }
  return outcome;
}
