import type pg from 'pg';
import { checkOutClient } from '../../../shared/db/checked-out-client.ts';
import {
  discordantImages,
  labelVolumeSinceDistill,
  modelHistory,
  prevalenceMonthly,
  recordVsTeacher,
  scoreHistogram,
  type DiscordantImage,
  type LabelVolume,
  type ModelHistoryEntry,
  type MonthlyPrevalence,
  type Queryable,
  type RecordVsTeacher,
  type ScoreHistogramBin,
} from '../queries.ts';

/** Everything the dashboard page shows, read in one pass over the analytics views. */
export interface DashboardData {
  prevalence: MonthlyPrevalence[];
  volume: LabelVolume[];
  retrainThreshold: number;
  models: ModelHistoryEntry[];
  recordVsTeacher: RecordVsTeacher[];
  /** The version whose score histogram is shown: the active teacher, else the newest with labels. */
  histogramVersion: string | null;
  histogram: ScoreHistogramBin[];
  discordant: { total: number; images: DiscordantImage[] };
  /** The database role the queries ran as (current_user). */
  role: string;
  generatedAt: Date;
}

export interface LoadDashboardOptions {
  retrainThreshold: number;
  discordantLimit?: number;
  now?: () => Date;
}

export async function loadDashboardData(
  pool: pg.Pool,
  options: LoadDashboardOptions,
): Promise<DashboardData> {
  // one read-only transaction, so every panel sees the same snapshot
  const { client, release } = await checkOutClient(pool);
  const q: Queryable = client;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const prevalence = await prevalenceMonthly(q);
    const volume = await labelVolumeSinceDistill(q);
    const models = await modelHistory(q);
    const rvt = await recordVsTeacher(q);
    const withLabels = models.filter((m) => m.pseudoLabels > 0);
    const histogramVersion =
      models.find((m) => m.status === 'active' && m.pseudoLabels > 0)?.version ??
      withLabels.at(-1)?.version ??
      null;
    const histogram = histogramVersion ? await scoreHistogram(q, histogramVersion) : [];
    const discordant = await discordantImages(q, options.discordantLimit ?? 50);
    const { rows } = await q.query('SELECT current_user AS role');
    await client.query('COMMIT');
    return {
      prevalence,
      volume,
      retrainThreshold: options.retrainThreshold,
      models,
      recordVsTeacher: rvt,
      histogramVersion,
      histogram,
      discordant,
      role: rows[0].role,
      generatedAt: (options.now ?? (() => new Date()))(),
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    release();
  }
}
