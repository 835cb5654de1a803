import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type pg from 'pg';
import { withTransaction } from '../shared/db/transaction.ts';
import { decidePromotion, type PromotionDecision, type PromotionRule } from '../shared/distill/index.ts';
import { EventEncoder } from '../shared/events/encoder.ts';
import type { MessageProducer } from '../shared/kafka/producer.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { fetchVerifiedModel } from '../shared/onnx/model-artefact.ts';
import type { Teacher } from '../shared/onnx/teacher.ts';
import {
  evaluateTeacher,
  EvaluationError,
  loadHeldOutSet,
  loadHeldOutSetFromDatabase,
  type HeldOutMetrics,
  type HeldOutSet,
} from '../shared/distill/evaluate-onnx.ts';
import type { TrainingStore } from '../shared/training-store/training-store.ts';
import { ExpectedError } from '../shared/errors.ts';

/** schemas/ModelReleased.avsc as TypeScript. */
export interface ModelReleasedEvent {
  version: string;
  releasedAt: number;
  artefactUri: string;
  sha256: string;
  format: string;
  inputSize: number;
  outputStride: number;
  classes: string[];
  trainingJobId: string | null;
  parentVersion: string | null;
  metrics: Record<string, number>;
  evaluationSet: string;
}

interface ModelRow {
  version: string;
  parent_version: string | null;
  checksum_sha256: string | null;
  artefact_uri: string | null;
  input_size: number | null;
  output_stride: number | null;
  classes: string[] | null;
  status: string;
}

export interface PromotionDeps {
  pool: pg.Pool;
  registry: SchemaRegistry;
  producer: MessageProducer;
  releasedTopic: string;
  rule: PromotionRule;
  /**
   * Where the held-out region-labelled split is: the expert-reviewed images in the database with
   * their inputs in this training store (the default), or a prepared cohort folder.
   */
  heldOut: { store: TrainingStore } | { dir: string };
  heldOutSplit: string;
  modelCacheDir?: string;
  loadTeacher: (modelPath: string, version: string) => Promise<Teacher>;
  logger: Logger;
}

export interface PromotionOutcome {
  candidate: string;
  active: string | null;
  decision: PromotionDecision;
  candidateMetrics: HeldOutMetrics;
  activeMetrics: HeldOutMetrics | null;
  released: boolean;
}

/** The event's flat metric map: auroc.rib, froc.rib, ... (undefined metrics are left out). */
export function flatMetrics(m: HeldOutMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const cls of ['rib', 'clavicle'] as const) {
    if (m[cls].auroc !== null) out[`auroc.${cls}`] = m[cls].auroc;
    if (m[cls].froc !== null) out[`froc.${cls}`] = m[cls].froc;
  }
  return out;
}

/**
 * The quality gate: evaluates the candidate and the active teacher on the same held-out set with
 * the serving runtime, applies the rule (services/shared/distill/promotion-rule.ts), records the
 * decision with both metric sets in model_promotions, switches model_versions when promoted, and
 * publishes models.released. One decision per candidate: a repeat returns the recorded one.
 */
export class PromotionGate {
  private readonly encoder: EventEncoder<ModelReleasedEvent>;

  constructor(private readonly deps: PromotionDeps) {
    this.encoder = new EventEncoder(deps.registry, 'ModelReleased', deps.releasedTopic);
  }

  private async model(db: pg.Pool | pg.ClientBase, where: string, param?: string): Promise<ModelRow | null> {
    const { rows } = await db.query<ModelRow>(
      `SELECT version, parent_version, checksum_sha256, artefact_uri, input_size, output_stride, classes, status
       FROM model_versions WHERE ${where}`,
      param === undefined ? [] : [param],
    );
    return rows[0] ?? null;
  }

  /** The held-out set at the candidate's input size (from the database, or the prepared folder). */
  private async heldOutSet(candidate: ModelRow): Promise<HeldOutSet> {
    const source = this.deps.heldOut;
    if ('dir' in source) return loadHeldOutSet(source.dir, this.deps.heldOutSplit);
    if (!candidate.input_size) {
      throw new EvaluationError(`model ${candidate.version} has no input_size in model_versions`);
    }
    return loadHeldOutSetFromDatabase(
      this.deps.pool,
      source.store,
      candidate.input_size,
      this.deps.heldOutSplit,
    );
  }

  private async score(row: ModelRow, set: HeldOutSet): Promise<HeldOutMetrics> {
    if (!row.artefact_uri || !row.checksum_sha256) {
      throw new ExpectedError(`model ${row.version} has no artefact uri or checksum in model_versions`);
    }
    const file = await fetchVerifiedModel(row.artefact_uri, row.checksum_sha256, this.deps.modelCacheDir);
    const teacher = await this.deps.loadTeacher(file, row.version);
    try {
      return await evaluateTeacher(teacher, set);
    } finally {
      await teacher.release();
    }
  }

  async decide(candidateVersion: string, jobId: string | null): Promise<PromotionOutcome> {
    const { pool, rule, logger } = this.deps;
    const candidate = await this.model(pool, 'version = $1', candidateVersion);
    if (!candidate) throw new Error(`candidate ${candidateVersion} is not registered in model_versions`);
    const active = await this.model(pool, `status = 'active'`);
    const set = await this.heldOutSet(candidate);
    const candidateMetrics = await this.score(candidate, set);
    const activeMetrics =
      active && active.version !== candidate.version ? await this.score(active, set) : null;
    if (active && activeMetrics) {
      // the serving teacher gets its figures on this set once (the dashboard shows the active model's)
      await pool.query(`UPDATE model_versions SET metrics = $2 WHERE version = $1 AND metrics IS NULL`, [
        active.version,
        JSON.stringify(activeMetrics),
      ]);
    }
    const decision = decidePromotion(candidateMetrics, activeMetrics, rule);
    const promote = decision.promote && active?.version !== candidate.version;
    const recorded = await withTransaction(pool, async (client) => {
      // the active row is locked so two gates cannot both promote against the same teacher
      const now = await client.query<{ version: string }>(
        `SELECT version FROM model_versions WHERE status = 'active' FOR UPDATE`,
      );
      const stillActive = now.rows[0]?.version ?? null;
      const reasons =
        stillActive === (active?.version ?? null)
          ? decision.reasons
          : [`the active teacher changed during evaluation (${stillActive})`];
      const outcome = stillActive === (active?.version ?? null) && promote ? 'promoted' : 'rejected';
      const inserted = await client.query(
        `INSERT INTO model_promotions (candidate_version, active_version, job_id, decision, reasons, rule,
           candidate_metrics, active_metrics, evaluation_set)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (candidate_version) DO NOTHING`,
        [
          candidate.version,
          active?.version ?? null,
          jobId,
          outcome,
          reasons,
          JSON.stringify(rule),
          JSON.stringify(candidateMetrics),
          activeMetrics ? JSON.stringify(activeMetrics) : null,
          set.id,
        ],
      );
      if (inserted.rowCount === 1 && outcome === 'promoted') {
        await client.query(
          `UPDATE model_versions SET status = 'retired', status_changed_at = now() WHERE status = 'active'`,
        );
        await client.query(
          `UPDATE model_versions SET status = 'active', status_changed_at = now() WHERE version = $1`,
          [candidate.version],
        );
      }
      const { rows } = await client.query<{ decision: string; reasons: string[] }>(
        'SELECT decision, reasons FROM model_promotions WHERE candidate_version = $1',
        [candidate.version],
      );
      return rows[0]!;
    });
    const promoted = recorded.decision === 'promoted';
    logger.info(
      {
        candidate: candidate.version,
        active: active?.version ?? null,
        decision: recorded.decision,
        reasons: recorded.reasons,
        candidateMetrics: flatMetrics(candidateMetrics),
        activeMetrics: activeMetrics ? flatMetrics(activeMetrics) : null,
      },
      `candidate ${candidate.version} ${recorded.decision}`,
    );
    const released = promoted ? (await this.publishPendingReleases()) > 0 : false;
    return {
      candidate: candidate.version,
      active: active?.version ?? null,
      decision: { ...decision, promote: promoted, reasons: recorded.reasons },
      candidateMetrics,
      activeMetrics,
      released,
    };
  }

  /**
   * Decides every candidate whose job succeeded but has no recorded decision: the worker crashed
   * between the job's end and the gate, or the gate could not evaluate yet (no held-out images
   * with stored inputs). Returns the decisions made; a candidate still undecidable stays pending.
   */
  async decidePending(): Promise<PromotionOutcome[]> {
    const { rows } = await this.deps.pool.query<{ id: string; version: string }>(
      `SELECT j.id::text, j.output_model_version AS version FROM distill_jobs j
       JOIN model_versions m ON m.version = j.output_model_version
       WHERE j.status = 'succeeded'
         AND NOT EXISTS (SELECT 1 FROM model_promotions p WHERE p.candidate_version = j.output_model_version)
       ORDER BY j.finished_at`,
    );
    const outcomes: PromotionOutcome[] = [];
    for (const r of rows) {
      try {
        outcomes.push(await this.decide(r.version, r.id));
      } catch (err) {
        if (!(err as { expected?: boolean }).expected) throw err;
        this.deps.logger.warn(
          { candidate: r.version, jobId: r.id, err: (err as Error).message },
          `the gate cannot decide on ${r.version} yet; retrying later`,
        );
      }
    }
    return outcomes;
  }

  /** Publishes models.released for every promotion not yet acknowledged (also after a crash). */
  async publishPendingReleases(): Promise<number> {
    const { pool, producer, releasedTopic } = this.deps;
    const { rows } = await pool.query<
      ModelRow & {
        id: string;
        job_id: string | null;
        candidate_metrics: HeldOutMetrics;
        evaluation_set: string;
      }
    >(
      `SELECT p.id::text, p.job_id::text, p.candidate_metrics, p.evaluation_set, m.version, m.parent_version, m.checksum_sha256,
         m.artefact_uri, m.input_size, m.output_stride, m.classes, m.status
       FROM model_promotions p JOIN model_versions m ON m.version = p.candidate_version
       WHERE p.decision = 'promoted' AND p.released_event_at IS NULL ORDER BY p.decided_at`,
    );
    if (rows.length === 0) return 0;
    await this.encoder.ready();
    for (const r of rows) {
      const event: ModelReleasedEvent = {
        version: r.version,
        releasedAt: Date.now(),
        artefactUri: r.artefact_uri!,
        sha256: r.checksum_sha256!,
        format: 'onnx',
        inputSize: r.input_size ?? 0,
        outputStride: r.output_stride ?? 0,
        classes: r.classes ?? ['rib', 'clavicle'],
        trainingJobId: r.job_id,
        parentVersion: r.parent_version,
        metrics: flatMetrics(r.candidate_metrics),
        evaluationSet: r.evaluation_set,
      };
      await producer.send(releasedTopic, [{ key: r.version, value: this.encoder.encode(event) }]);
      await pool.query('UPDATE model_promotions SET released_event_at = now() WHERE id = $1', [r.id]);
      this.deps.logger.info({ version: r.version, topic: releasedTopic }, 'models.released published');
    }
    return rows.length;
  }
}
