import { createPool } from '../../shared/db/pool.ts';
import { schemaRegistryFromEnv } from '../../shared/events/registry.ts';
import { createKafka } from '../../shared/kafka/client.ts';
import { kafkaConnectionFromEnv } from '../../shared/kafka/config.ts';
import { createMessageProducer } from '../../shared/kafka/producer.ts';
import { createLogger } from '../../shared/observability/logger.ts';
import { loadPseudoLabelerConfig, processorSettingsFromConfig } from '../../pseudo-labeler/config.ts';
import { createImageStorage } from '../../shared/storage/image-storage.ts';
import { fetchVerifiedModel } from '../../shared/onnx/model-artefact.ts';
import { relabel, type RelabelSummary } from './relabel.ts';
import { OnnxTeacher } from '../../shared/onnx/teacher.ts';
import { openTrainingStore } from '../../shared/training-store/training-store.ts';
import { ExpectedError } from '../../shared/errors.ts';

export interface RelabelWithModelOptions {
  /** A version in model_versions, with its artefact and checksum. */
  model: string;
  since: Date | null;
  batchStudies: number;
}

/**
 * Relabels with a released model, wired from the pseudo-labeler's environment (its database, image
 * storage, training store, Kafka, registry and teacher settings): `harvester relabel`.
 */
export async function relabelWithModel(opts: RelabelWithModelOptions): Promise<RelabelSummary> {
  const { since, batchStudies } = opts;
  const config = loadPseudoLabelerConfig();
  const logger = createLogger('relabel');
  const trainingStore = openTrainingStore(config.TRAINING_STORE_URL);
  await trainingStore.prepare();
  const pool = createPool({ url: config.DATABASE_URL, maxConnections: 2, applicationName: 'relabel' });
  try {
    const { rows } = await pool.query<{ artefact_uri: string | null; checksum_sha256: string | null }>(
      'SELECT artefact_uri, checksum_sha256 FROM model_versions WHERE version = $1',
      [opts.model],
    );
    const row = rows[0];
    if (!row) throw new ExpectedError(`model ${opts.model} is not in model_versions`);
    if (!row.artefact_uri || !row.checksum_sha256)
      throw new ExpectedError(`model ${opts.model} has no artefact uri or checksum`);
    const file = await fetchVerifiedModel(row.artefact_uri, row.checksum_sha256, config.MODEL_CACHE_DIR);
    const teacher = await OnnxTeacher.load({
      modelPath: file,
      version: opts.model,
      providers: config.TEACHER_EXECUTION_PROVIDERS,
      intraOpThreads: config.TEACHER_INTRA_OP_THREADS,
      fallbackInputSize: config.TEACHER_INPUT_SIZE,
      logger,
    });
    const producer = await createMessageProducer(createKafka(kafkaConnectionFromEnv(config), logger));
    try {
      const summary = await relabel({
        pool,
        registry: schemaRegistryFromEnv(config),
        producer,
        teacher,
        storage: createImageStorage({ maxBytes: config.PSEUDO_LABELER_MAX_DICOM_BYTES }),
        trainingStore,
        settings: processorSettingsFromConfig(config),
        since,
        batchStudies,
        inferenceBatchSize: config.PSEUDO_LABELER_INFERENCE_BATCH_SIZE,
        logger,
      });
      return summary;
    } finally {
      await producer.disconnect();
      await teacher.release();
    }
  } finally {
    await pool.end();
  }
}
