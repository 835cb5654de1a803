import type pg from 'pg';
import { runBackfill } from './backfill/backfill.ts';
import { type BackfillConfig } from './backfill/config.ts';
import { OnnxTeacher } from '../shared/onnx/teacher.ts';
import { sharpenAALS } from '../shared/aals/index.ts';
import { DEFAULT_EMBEDDED_DATA_DIR, startEmbeddedPostgres } from '../shared/db/embedded-postgres.ts';
import { createPool } from '../shared/db/pool.ts';
import { migrateDatabase } from '../shared/db/migrate.ts';
import { type Logger } from '../shared/observability/logger.ts';
import { reportExtraction } from '../report-labeler/extraction.ts';
import type { BackfillSummary } from './backfill/backfill.ts';
import { openTrainingStore } from '../shared/training-store/training-store.ts';

export interface BackfillCliOptions {
  reports: string;
  dicom: string;
  database?: string;
  dataDir?: string;
  /** Training store root (default: TRAINING_STORE_URL or var/training-store). */
  store?: string;
  model?: string;
  progress?: boolean;
}

export interface BackfillRun {
  summary: BackfillSummary;
  /** The database it wrote to (the embedded one's loopback URL is valid only while it runs). */
  databaseUrl: string;
}

/**
 * Runs a backfill with a validated config: into the server at `database`, migrated first, or into
 * the embedded PGlite database in `dataDir`. `keepOpen` lets the demo query the database before
 * it closes; the returned close() closes everything this function opened.
 */
export async function backfillWithConfig(
  config: BackfillConfig,
  options: Omit<BackfillCliOptions, 'model'> & {
    logger: Logger;
    signal?: AbortSignal;
    onProblem?: (line: string) => void;
    afterBatch?: Parameters<typeof runBackfill>[0]['afterBatch'];
    use?: (pool: pg.Pool, run: BackfillRun) => Promise<void>;
  },
): Promise<BackfillRun> {
  const aals = { t: config.AALS_T, a0: config.AALS_A0, eps: config.AALS_EPS };
  sharpenAALS(new Float32Array([0.5]), aals); // bad AALS settings fail here, not per image
  const teacher = await OnnxTeacher.load({
    modelPath: config.TEACHER_MODEL_PATH,
    version: config.TEACHER_MODEL_VERSION,
    providers: config.TEACHER_EXECUTION_PROVIDERS,
    intraOpThreads: config.TEACHER_INTRA_OP_THREADS,
    fallbackInputSize: config.TEACHER_INPUT_SIZE,
    logger: options.logger,
  });
  const trainingStore = openTrainingStore(options.store ?? config.TRAINING_STORE_URL);
  await trainingStore.prepare();
  const embedded = options.database
    ? null
    : await startEmbeddedPostgres({ dataDir: options.dataDir ?? DEFAULT_EMBEDDED_DATA_DIR });
  const url = options.database ?? embedded!.url;
  try {
    if (options.database) await migrateDatabase({ database: url });
    const pool = createPool({ url, maxConnections: 2, applicationName: 'backfill' }, (err) =>
      options.logger.warn({ err: err.message }, 'idle database connection failed'),
    );
    try {
      const summary = await runBackfill({
        reports: options.reports,
        dicom: options.dicom,
        pool,
        extraction: reportExtraction({
          hmacKey: config.PATIENT_ID_HMAC_KEY,
          maxMessageBytes: config.REPORT_LABELER_MAX_MESSAGE_BYTES,
        }),
        maxDicomBytes: config.PSEUDO_LABELER_MAX_DICOM_BYTES,
        teacher,
        trainingStore,
        policy: {
          uncertain: config.PSEUDO_LABELER_UNCERTAIN,
          acceptProvisional: config.PSEUDO_LABELER_ACCEPT_PROVISIONAL,
        },
        target: { targetMethod: config.TEACHER_TARGET_METHOD, aals },
        inference: {
          batchSize: config.PSEUDO_LABELER_INFERENCE_BATCH_SIZE,
          maxWaitMs: config.PSEUDO_LABELER_INFERENCE_MAX_WAIT_MS,
          maxQueue: config.PSEUDO_LABELER_MAX_QUEUE,
          decodeConcurrency: config.PSEUDO_LABELER_DECODE_CONCURRENCY,
        },
        signal: options.signal,
        progress: options.progress,
        onProblem: options.onProblem,
        afterBatch: options.afterBatch,
      });
      const run = { summary, databaseUrl: url };
      await options.use?.(pool, run);
      return run;
    } finally {
      await pool.end();
    }
  } finally {
    await teacher.release();
    await embedded?.close();
  }
}
