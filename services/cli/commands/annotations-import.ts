import { formatImportSummary, formatRejection, type ManifestImage } from '../../shared/annotations/index.ts';
import { DEFAULT_EMBEDDED_DATA_DIR, startEmbeddedPostgres } from '../../shared/db/embedded-postgres.ts';
import { migrateDatabase } from '../../shared/db/migrate.ts';
import { createPool } from '../../shared/db/pool.ts';
import { DEFAULT_SIZE } from '../../shared/imaging/index.ts';
import { storeAnnotatedInputs } from '../../shared/training-store/annotated-inputs.ts';
import { DEFAULT_TRAINING_STORE_DIR, openTrainingStore } from '../../shared/training-store/training-store.ts';
import {
  annotationsInputError,
  AnnotationsImportOptions,
  importAnnotations,
  readAnnotationsInput,
} from '../../app/import-annotations.ts';

/**
 * `harvester annotations import`: expert boxes (D_R) into region_annotations. Bad rows go to stderr
 * with their place in the file and are counted; the good ones are kept. Exit status 2 when some
 * rows were rejected, as `harvester label-reports`.
 */
export async function annotationsImportCommand(opts: AnnotationsImportOptions): Promise<void> {
  const input = readAnnotationsInput(opts);
  const size = Number(opts.size ?? process.env.TEACHER_INPUT_SIZE ?? DEFAULT_SIZE);
  if (!Number.isInteger(size) || size < 16 || size > 8192)
    throw annotationsInputError(
      `--size must be an integer model input side in 16..8192 (got "${opts.size}")`,
    );
  const store = openTrainingStore(opts.store ?? process.env.TRAINING_STORE_URL ?? DEFAULT_TRAINING_STORE_DIR);
  await store.prepare();
  const embedded = opts.database
    ? null
    : await startEmbeddedPostgres({ dataDir: opts.dataDir ?? DEFAULT_EMBEDDED_DATA_DIR });
  const url = opts.database ?? embedded!.url;
  try {
    if (opts.database) await migrateDatabase({ database: url });
    const pool = createPool({ url, maxConnections: 1, applicationName: 'annotations-import' });
    try {
      const { summary, rejects } = await importAnnotations(pool, input);
      for (const r of rejects)
        process.stderr.write(`harvester annotations import: ${formatRejection(input.source, r)}\n`);
      const files = new Map(
        [...(input.manifest ?? new Map<string, ManifestImage>())]
          .filter(([, m]) => m.file)
          .map(([sop, m]) => [sop, m.file!]),
      );
      const inputs = await storeAnnotatedInputs(pool, store, { width: size, height: size, files });
      summary.inputs = inputs;
      for (const p of inputs.problems.slice(0, 20))
        process.stderr.write(
          `harvester annotations import: model input of ${p.sopInstanceUid}: ${p.reason}\n`,
        );
      process.stdout.write(formatImportSummary(summary) + '\n');
      if (rejects.length > 0) process.exitCode = 2;
    } finally {
      await pool.end();
    }
  } finally {
    await embedded?.close();
  }
}
