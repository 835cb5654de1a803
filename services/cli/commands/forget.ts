import { z } from 'zod';
import { databaseEnvShape, patientIdKeyEnvShape } from '../../shared/config/common-env.ts';
import { loadConfig } from '../../shared/config/env.ts';
import { createPool } from '../../shared/db/pool.ts';
import { forget, type ErasureSubject } from '../../shared/privacy/erasure.ts';
import { pseudonymisePatientId } from '../../shared/privacy/pseudonymise.ts';
import { openTrainingStore, trainingStoreEnvShape } from '../../shared/training-store/training-store.ts';
import { ExpectedError } from '../../shared/errors.ts';

export interface ForgetCliOptions {
  patientId?: string;
  accession?: string;
}

/** DATABASE_URL and TRAINING_STORE_URL; PATIENT_ID_HMAC_KEY for --patient-id (the report-labeler's key). */
const forgetEnvSchema = z.object({ ...databaseEnvShape, ...trainingStoreEnvShape });
const keyEnvSchema = z.object(patientIdKeyEnvShape);

/**
 * `harvester forget --patient-id ID | --accession ACC`: erases a patient (docs/erasure.md) and
 * prints the erasure record as one JSON line (counts, never the id).
 */
export async function forgetCommand(opts: ForgetCliOptions): Promise<void> {
  if (Boolean(opts.patientId) === Boolean(opts.accession)) {
    throw new ExpectedError('name the patient with exactly one of --patient-id ID or --accession ACC');
  }
  const config = loadConfig(forgetEnvSchema);
  const subject: ErasureSubject = opts.patientId
    ? {
        kind: 'patient-id',
        // the same pseudonym the report-labeler stored: same key, same trimming
        pseudonym: pseudonymisePatientId(opts.patientId, loadConfig(keyEnvSchema).PATIENT_ID_HMAC_KEY),
      }
    : { kind: 'accession', accession: opts.accession!.trim() };
  const store = openTrainingStore(config.TRAINING_STORE_URL);
  const pool = createPool({ url: config.DATABASE_URL, maxConnections: 2, applicationName: 'forget' });
  try {
    const summary = await forget(pool, store, subject);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await pool.end();
  }
}
