import { REJECT_REASON_TEXT, type RejectReason, type Rejection } from './expert-box.ts';

export interface AnnotationImportSummary {
  source: string;
  format: 'json' | 'coco';
  /** Rows (JSON) or annotations (COCO) in the file. */
  total: number;
  imported: number;
  alreadyPresent: number;
  rejected: Partial<Record<RejectReason, number>>;
  /** Accepted boxes per split (imported or already present). */
  bySplit: { 'region-train': number; 'region-test': number };
  /** Images reviewed and found fracture-free (D_R negatives). */
  fractureFree: {
    imported: number;
    alreadyPresent: number;
    bySplit: { 'region-train': number; 'region-test': number };
  };
  /** Model inputs put into the training store for the reviewed images (set after the store step). */
  inputs?: { stored: number; alreadyStored: number; unavailable: number; preprocessingVersion: string };
  /** Images whose geometry came from the cohort manifest because they are not in the images table yet. */
  imagesFromManifest: number;
}

export function countRejections(rejects: readonly Rejection[]): Partial<Record<RejectReason, number>> {
  const counts: Partial<Record<RejectReason, number>> = {};
  for (const r of rejects) counts[r.reason] = (counts[r.reason] ?? 0) + 1;
  return counts;
}

export const rejectedTotal = (s: AnnotationImportSummary): number =>
  Object.values(s.rejected).reduce((a, b) => a + (b ?? 0), 0);

/** One line per rejected row, for stderr: where it is in the file, the reason code and the detail. */
export const formatRejection = (source: string, r: Rejection): string =>
  `${source}: ${r.where}: ${r.reason}: ${r.detail}`;

/** The end-of-run summary (stdout). */
export function formatImportSummary(s: AnnotationImportSummary): string {
  const lines = [
    `annotations import ${s.source} (${s.format}): ${s.total} boxes read`,
    `  imported          ${s.imported}`,
    `  already present   ${s.alreadyPresent}`,
    `  rejected          ${rejectedTotal(s)}`,
  ];
  for (const [reason, n] of Object.entries(s.rejected).sort((a, b) => b[1] - a[1]))
    lines.push(
      `    ${reason.padEnd(18)}${String(n).padStart(5)}  ${REJECT_REASON_TEXT[reason as RejectReason]}`,
    );
  lines.push(
    `  region-train boxes ${s.bySplit['region-train']}, region-test boxes ${s.bySplit['region-test']}`,
  );
  const free = s.fractureFree;
  if (free.imported + free.alreadyPresent > 0)
    lines.push(
      `  fracture-free images ${free.imported} imported, ${free.alreadyPresent} already present ` +
        `(region-train ${free.bySplit['region-train']}, region-test ${free.bySplit['region-test']})`,
    );
  if (s.inputs)
    lines.push(
      `  model inputs (${s.inputs.preprocessingVersion}) ${s.inputs.stored} stored, ${s.inputs.alreadyStored} already ` +
        `in the training store, ${s.inputs.unavailable} unavailable (no readable DICOM yet)`,
    );
  if (s.imagesFromManifest > 0)
    lines.push(
      `  ${s.imagesFromManifest} image(s) checked against the cohort manifest: not in the images table yet`,
    );
  return lines.join('\n');
}
