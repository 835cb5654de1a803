import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * The subjects erased by `harvester forget` (table erased_subjects), as later arrivals are matched
 * against them: patients by pseudonym (already a keyed HMAC), accessions and images by the SHA-256 of
 * the accession or SOP Instance UID, so the table never holds an identifier in the clear.
 */

export type ErasedKind = 'patient' | 'accession' | 'image';

/** The reasons a service gives (metrics, ledger) when it drops an arrival of an erased subject. */
export const ERASED_REASON: Record<ErasedKind, string> = {
  patient: 'erased-patient',
  accession: 'erased-accession',
  image: 'erased-image',
};

/** SHA-256 (hex) of an accession or SOP Instance UID, as Postgres computes it: encode(sha256(x::bytea), 'hex'). */
export function subjectDigest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** What to look up: pseudonyms as they are, accessions and UIDs in the clear (digested here). */
export interface SubjectsToCheck {
  pseudonyms?: Iterable<string | null | undefined>;
  accessions?: Iterable<string | null | undefined>;
  sopInstanceUids?: Iterable<string | null | undefined>;
}

/** The erased ones among the given subjects, by kind, in the clear form they were given in. */
export interface ErasedMatches {
  pseudonyms: Set<string>;
  accessions: Set<string>;
  sopInstanceUids: Set<string>;
}

function distinct(values: Iterable<string | null | undefined> | undefined): string[] {
  return [...new Set([...(values ?? [])].filter((v): v is string => typeof v === 'string' && v !== ''))];
}

/** One query: which of these subjects were erased. Nothing to check: no query. */
export async function findErased(
  db: Pick<pg.ClientBase, 'query'>,
  subjects: SubjectsToCheck,
): Promise<ErasedMatches> {
  const pseudonyms = distinct(subjects.pseudonyms);
  const accessions = distinct(subjects.accessions);
  const sops = distinct(subjects.sopInstanceUids);
  const found: ErasedMatches = { pseudonyms: new Set(), accessions: new Set(), sopInstanceUids: new Set() };
  if (pseudonyms.length + accessions.length + sops.length === 0) return found;
  const byDigest = new Map<string, string>();
  for (const a of accessions) byDigest.set(`accession:${subjectDigest(a)}`, a);
  for (const s of sops) byDigest.set(`image:${subjectDigest(s)}`, s);
  const { rows } = await db.query<{ kind: ErasedKind; digest: string }>(
    `SELECT kind, digest FROM erased_subjects
     WHERE (kind = 'patient' AND digest = ANY($1::text[]))
        OR (kind = 'accession' AND digest = ANY($2::text[]))
        OR (kind = 'image' AND digest = ANY($3::text[]))`,
    [pseudonyms, accessions.map(subjectDigest), sops.map(subjectDigest)],
  );
  for (const r of rows) {
    if (r.kind === 'patient') found.pseudonyms.add(r.digest);
    else {
      const clear = byDigest.get(`${r.kind}:${r.digest}`);
      if (clear === undefined) continue;
      (r.kind === 'accession' ? found.accessions : found.sopInstanceUids).add(clear);
    }
  }
  return found;
}

/**
 * Waits for a running erasure to commit (it holds SHARE ROW EXCLUSIVE on the tables it erases from),
 * so the check that follows in the same transaction sees its erased_subjects rows: without it, a
 * batch checked just before the erasure committed could write the patient back just after.
 * ROW EXCLUSIVE is what an INSERT takes anyway: services never wait for each other here.
 */
export async function waitForRunningErasure(client: pg.ClientBase, table: string): Promise<void> {
  await client.query(`LOCK TABLE ${table} IN ROW EXCLUSIVE MODE`);
}
