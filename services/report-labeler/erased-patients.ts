import type pg from 'pg';
import { ERASED_REASON, findErased, waitForRunningErasure } from '../shared/privacy/erased-subjects.ts';
import type { ReportVersion } from './extract.ts';
import type { LedgerEntry } from './store.ts';

/** The part of a prepared batch (batch-processor.ts) that erasure looks at. */
export interface BatchVersions {
  versions: ReportVersion[];
  ledger: LedgerEntry[];
}

/** What is left of a batch once the reports of erased patients are taken out. */
export interface BatchWithoutErased {
  versions: ReportVersion[];
  ledger: LedgerEntry[];
  /** Records dropped because their patient was erased (`harvester forget`). */
  erasedRecords: number;
}

/**
 * Drops the report versions of erased patients (erased_subjects, by pseudonym) from a prepared
 * batch: a record whose every version was dropped is ledgered `skipped` / `erased-patient`, so the
 * audit still finds one ledger row per offset. Pure given the set of erased pseudonyms.
 */
export function withoutErasedPatients(batch: BatchVersions, erased: ReadonlySet<string>): BatchWithoutErased {
  if (erased.size === 0) return { versions: batch.versions, ledger: batch.ledger, erasedRecords: 0 };
  const versions = batch.versions.filter((v) => !erased.has(v.patientPseudonym));
  const dropped = new Set(
    batch.versions.filter((v) => erased.has(v.patientPseudonym)).map((v) => v.sourceOffset),
  );
  const kept = new Set(versions.map((v) => v.sourceOffset));
  let erasedRecords = 0;
  const ledger = batch.ledger.map((entry): LedgerEntry => {
    if (entry.outcome !== 'stored' || !dropped.has(entry.offset)) return entry;
    const remaining = versions.filter((v) => v.sourceOffset === entry.offset).length;
    if (kept.has(entry.offset)) return { ...entry, reportCount: remaining };
    erasedRecords++;
    return { ...entry, outcome: 'skipped', reason: ERASED_REASON.patient, reportCount: 0 };
  });
  return { versions, ledger, erasedRecords };
}

/**
 * The batch without erased patients, read inside the caller's transaction after waiting for any
 * running erasure to commit (so a patient erased a moment ago is not written back).
 */
export async function dropErasedPatients(
  client: pg.ClientBase,
  batch: BatchVersions,
): Promise<BatchWithoutErased> {
  if (batch.versions.length === 0) return { versions: [], ledger: batch.ledger, erasedRecords: 0 };
  await waitForRunningErasure(client, 'reports');
  const erased = await findErased(client, { pseudonyms: batch.versions.map((v) => v.patientPseudonym) });
  return withoutErasedPatients(batch, erased.pseudonyms);
}
