import type pg from 'pg';

/** What the running system has done so far, read from Postgres (the one place every service writes). */
export interface ProgressSnapshot {
  reports: number;
  images: number;
  failedImages: number;
  pseudoLabels: number;
  trainingInputs: number;
  reviewedImages: number;
  jobs: Array<{
    id: string;
    status: string;
    attempt: number;
    outputModel: string | null;
    durationSeconds: number | null;
    error: string | null;
  }>;
  decisions: Array<{ candidate: string; active: string | null; decision: string; reasons: string[] }>;
  activeTeacher: string | null;
}

export async function readProgress(db: pg.Pool): Promise<ProgressSnapshot> {
  const { rows } = await db.query<{
    reports: string;
    images: string;
    failed: string;
    labels: string;
    inputs: string;
    reviewed: string;
    active: string | null;
  }>(
    `SELECT (SELECT count(*) FROM reports) AS reports,
       (SELECT count(*) FROM images) AS images,
       (SELECT count(*) FROM images WHERE failed_reason IS NOT NULL) AS failed,
       (SELECT count(*) FROM pseudo_labels) AS labels,
       (SELECT count(*) FROM training_inputs) AS inputs,
       (SELECT count(*) FROM region_annotated_images) AS reviewed,
       (SELECT version FROM model_versions WHERE status = 'active') AS active`,
  );
  const jobs = await db.query<{
    id: string;
    status: string;
    attempt: number;
    output_model_version: string | null;
    duration_seconds: number | null;
    error: string | null;
  }>(
    `SELECT id::text, status, attempt, output_model_version, duration_seconds, error
     FROM distill_jobs ORDER BY id`,
  );
  const decisions = await db.query<{
    candidate_version: string;
    active_version: string | null;
    decision: string;
    reasons: string[];
  }>(`SELECT candidate_version, active_version, decision, reasons FROM model_promotions ORDER BY id`);
  const r = rows[0]!;
  return {
    reports: Number(r.reports),
    images: Number(r.images),
    failedImages: Number(r.failed),
    pseudoLabels: Number(r.labels),
    trainingInputs: Number(r.inputs),
    reviewedImages: Number(r.reviewed),
    jobs: jobs.rows.map((j) => ({
      id: j.id,
      status: j.status,
      attempt: j.attempt,
      outputModel: j.output_model_version,
      durationSeconds: j.duration_seconds,
      error: j.error,
    })),
    decisions: decisions.rows.map((d) => ({
      candidate: d.candidate_version,
      active: d.active_version,
      decision: d.decision,
      reasons: d.reasons,
    })),
    activeTeacher: r.active,
  };
}

/** What changed between two snapshots, one line each (jobs, gate decisions, the active teacher). */
export function progressEvents(before: ProgressSnapshot | null, now: ProgressSnapshot): string[] {
  const lines: string[] = [];
  const previous = new Map((before?.jobs ?? []).map((j) => [j.id, j]));
  for (const job of now.jobs) {
    const was = previous.get(job.id);
    if (was && was.status === job.status && was.attempt === job.attempt) continue;
    // a job seen first when already running (or done) was requested in between: say both
    if (!was && job.status !== 'requested') lines.push(`distill job ${job.id} requested`);
    if (job.status === 'requested')
      lines.push(
        `distill job ${job.id} requested${job.attempt > 0 ? ` (retry after attempt ${job.attempt})` : ''}`,
      );
    else if (job.status === 'running') lines.push(`distill job ${job.id} running (attempt ${job.attempt})`);
    else if (job.status === 'succeeded')
      lines.push(
        `distill job ${job.id} succeeded: ${job.outputModel}` +
          (job.durationSeconds !== null ? ` in ${Math.round(job.durationSeconds)} s` : ''),
      );
    else if (job.status === 'failed')
      lines.push(`distill job ${job.id} failed: ${job.error ?? 'no error recorded'}`);
  }
  for (const d of now.decisions.slice(before?.decisions.length ?? 0)) {
    lines.push(
      `gate: ${d.candidate} ${d.decision} against ${d.active ?? 'no active teacher'} (${d.reasons.join('; ')})`,
    );
  }
  if (before && before.activeTeacher !== now.activeTeacher)
    lines.push(`active teacher: ${now.activeTeacher}`);
  return lines;
}

export interface ServiceState {
  name: string;
  state: string;
  restarts: number;
}

/** The status block: services, feed, labels, store, jobs, gate decisions, the active teacher. */
export function formatProgress(
  s: ProgressSnapshot,
  services: readonly ServiceState[],
  elapsedSeconds: number,
  feed: string | null,
): string[] {
  const byStatus = (status: string) => s.jobs.filter((j) => j.status === status).length;
  const promoted = s.decisions.filter((d) => d.decision === 'promoted').length;
  const clock = `${Math.floor(elapsedSeconds / 60)}:${String(Math.floor(elapsedSeconds % 60)).padStart(2, '0')}`;
  return [
    `harvester up  ${clock}  ` +
      services.map((v) => `${v.name} ${v.state}${v.restarts ? ` (${v.restarts} restarts)` : ''}`).join(', '),
    ...(feed ? [`  feed          ${feed}`] : []),
    `  reports       ${s.reports} labelled`,
    `  images        ${s.images} recorded${s.failedImages ? `, ${s.failedImages} unreadable (DLQ)` : ''}`,
    `  pseudo-labels ${s.pseudoLabels}; training store ${s.trainingInputs} inputs; D_R ${s.reviewedImages} reviewed images`,
    `  jobs          ${s.jobs.length} (${byStatus('requested')} requested, ${byStatus('running')} running, ` +
      `${byStatus('succeeded')} succeeded, ${byStatus('failed')} failed)`,
    `  gate          ${s.decisions.length} decisions (${promoted} promoted, ${s.decisions.length - promoted} rejected)`,
    `  teacher       ${s.activeTeacher ?? 'none active yet'}`,
  ];
}
