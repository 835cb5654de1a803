import type { z } from 'zod';
import { loadConfig } from '../../shared/config/env.ts';
import { pseudoLabelerEnvSchema } from '../../pseudo-labeler/config.ts';
import { reportLabelerEnvSchema } from '../../report-labeler/config.ts';

/**
 * Environment of `harvester backfill`: the same variables, defaults and checks as the two
 * services it stands in for (no Kafka or registry settings; the database comes from --database or
 * the embedded one). Required: PATIENT_ID_HMAC_KEY.
 */
export const backfillEnvSchema = reportLabelerEnvSchema
  .pick({ PATIENT_ID_HMAC_KEY: true, REPORT_LABELER_MAX_MESSAGE_BYTES: true })
  .extend(
    pseudoLabelerEnvSchema.pick({
      TRAINING_STORE_URL: true,
      TEACHER_MODEL_PATH: true,
      TEACHER_MODEL_VERSION: true,
      TEACHER_EXECUTION_PROVIDERS: true,
      TEACHER_INTRA_OP_THREADS: true,
      TEACHER_INPUT_SIZE: true,
      TEACHER_TARGET_METHOD: true,
      AALS_T: true,
      AALS_A0: true,
      AALS_EPS: true,
      PSEUDO_LABELER_UNCERTAIN: true,
      PSEUDO_LABELER_ACCEPT_PROVISIONAL: true,
      PSEUDO_LABELER_INFERENCE_BATCH_SIZE: true,
      PSEUDO_LABELER_INFERENCE_MAX_WAIT_MS: true,
      PSEUDO_LABELER_MAX_QUEUE: true,
      PSEUDO_LABELER_DECODE_CONCURRENCY: true,
      PSEUDO_LABELER_MAX_DICOM_BYTES: true,
    }).shape,
  );

export type BackfillConfig = z.infer<typeof backfillEnvSchema>;

export function loadBackfillConfig(env: NodeJS.ProcessEnv = process.env): BackfillConfig {
  return loadConfig(backfillEnvSchema, env);
}
