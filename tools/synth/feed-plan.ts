/**
 * The order in which a hospital would publish a cohort: DICOM arrivals from the PACS router and
 * HL7 ORU reports from the RIS, interleaved on one virtual clock. Pure and seeded: the same
 * inputs, seed and options give the same plan.
 *
 * The clock is the cohort's own: a study's images arrive shortly after its study time (routing
 * delay of seconds to minutes, so usually before the report, which the RIS sends 10+ minutes
 * later), except in a backlogged study whose images come hours late, after the report. Reports
 * keep the times the cohort gave them (P, then F hours later, a correction days later), so a late
 * correction lands among much later studies. Interface engines resend on lost acks, so some
 * messages appear twice, a little later, with the same bytes.
 */
import type { ReportStatus } from '../../services/shared/vocabulary.ts';
import { Rng, seedFromString } from './prng.ts';
import { ExpectedError } from '../../services/shared/errors.ts';

/** One image of the cohort (manifest order). */
export interface FeedImageInput {
  accession: string;
  /** Study date/time of the image's study, epoch ms. */
  studyTime: number;
}

/** One report version (publication order, as in reports.hl7). */
export interface FeedReportInput {
  accession: string;
  status: ReportStatus;
  /** When the RIS released it (OBR-22), epoch ms. */
  time: number;
}

export interface FeedPlanOptions {
  seed: string;
  /** Probability that a message is delivered a second time (0..1). */
  duplicateRate: number;
  /** Probability that a study's images reach the PACS router hours late, after its report (0..1). */
  lateImageRate: number;
}

export const DEFAULT_FEED_PLAN_OPTIONS: Omit<FeedPlanOptions, 'seed'> = {
  duplicateRate: 0.02,
  lateImageRate: 0.05,
};

export interface FeedStep {
  kind: 'dicom' | 'hl7';
  /** Index into the images (kind dicom) or the reports (kind hl7) given to planFeed. */
  index: number;
  /** Virtual arrival time, epoch ms (DicomArrived.arrivedAt for images). */
  time: number;
  /** A redelivery of a message already planned earlier. */
  duplicate: boolean;
}

export class FeedPlanError extends ExpectedError {}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

// PRNG stream ids.
const STREAM = { study: 1, report: 2, imageDuplicate: 3 } as const;
const STATUS_RANK: Record<ReportStatus, number> = { P: 0, F: 1, C: 2 };

function checkRate(name: string, v: number): void {
  if (!(v >= 0 && v <= 1)) throw new FeedPlanError(`${name} must be between 0 and 1 (got ${v})`);
}

/** A resend comes seconds to minutes later: the sender's ack timeout, or a retry after an outage. */
function resendDelay(rng: Rng): number {
  return rng.bool(0.8) ? rng.range(1 * SECOND, 2 * MINUTE) : rng.range(2 * MINUTE, 30 * MINUTE);
}

/**
 * Plans the feed: every image and report exactly once (plus duplicates), in arrival order. Within
 * an accession, every copy of a P comes before every copy of its F, and those before any C.
 */
export function planFeed(
  images: readonly FeedImageInput[],
  reports: readonly FeedReportInput[],
  options: FeedPlanOptions,
): FeedStep[] {
  checkRate('duplicate rate', options.duplicateRate);
  checkRate('late image rate', options.lateImageRate);
  const seed = seedFromString(options.seed);
  const steps: FeedStep[] = [];

  // Images: per study (first appearance order), one routing delay for the whole study, and the
  // images of a multi-view study acquired a minute or two apart.
  const studyOrdinal = new Map<string, number>();
  const studyState = new Map<string, { rng: Rng; next: number }>();
  images.forEach((img, index) => {
    if (!Number.isFinite(img.studyTime)) throw new FeedPlanError(`image ${index} has no study time`);
    let state = studyState.get(img.accession);
    if (!state) {
      const ordinal = studyOrdinal.size;
      studyOrdinal.set(img.accession, ordinal);
      const rng = new Rng(seed, STREAM.study, ordinal);
      const delay = rng.bool(options.lateImageRate)
        ? rng.range(1 * HOUR, 36 * HOUR) // a backlogged router or a modality that sends in bulk
        : rng.range(5 * SECOND, 4 * MINUTE);
      state = { rng, next: img.studyTime + delay };
      studyState.set(img.accession, state);
    } else {
      state.next += state.rng.range(30 * SECOND, 3 * MINUTE);
    }
    const time = Math.round(state.next);
    steps.push({ kind: 'dicom', index, time, duplicate: false });
    const dup = new Rng(seed, STREAM.imageDuplicate, index);
    if (dup.bool(options.duplicateRate)) {
      steps.push({ kind: 'dicom', index, time: Math.round(time + resendDelay(dup)), duplicate: true });
    }
  });

  // Reports: their own times, forced strictly increasing per accession in publication order (a
  // sender never releases F before the P it replaces); a resend stays before the next version.
  const byAccession = new Map<string, number[]>();
  reports.forEach((r, index) => {
    if (!(r.status in STATUS_RANK)) throw new FeedPlanError(`report ${index} has status "${r.status}"`);
    if (!Number.isFinite(r.time)) throw new FeedPlanError(`report ${index} has no time`);
    const list = byAccession.get(r.accession) ?? [];
    const prev = list.length > 0 ? reports[list[list.length - 1]!]! : undefined;
    if (prev && STATUS_RANK[r.status] < STATUS_RANK[prev.status]) {
      throw new FeedPlanError(
        `report ${index} (${r.status}) follows a ${prev.status} of the same accession in publication order`,
      );
    }
    list.push(index);
    byAccession.set(r.accession, list);
  });
  for (const list of byAccession.values()) {
    const times = list.map((i) => reports[i]!.time);
    for (let k = 1; k < times.length; k++) times[k] = Math.max(times[k]!, times[k - 1]! + 2);
    list.forEach((index, k) => {
      const time = times[k]!;
      steps.push({ kind: 'hl7', index, time, duplicate: false });
      const rng = new Rng(seed, STREAM.report, index);
      if (rng.bool(options.duplicateRate)) {
        const next = times[k + 1];
        let at = time + resendDelay(rng);
        if (next !== undefined) at = Math.min(at, time + (next - time) / 2);
        steps.push({ kind: 'hl7', index, time: Math.max(time + 1, Math.round(at)), duplicate: true });
      }
    });
  }

  // Stable by time; ties keep the insertion order (images first, then reports).
  const order = steps.map((_, i) => i);
  order.sort((a, b) => steps[a]!.time - steps[b]!.time || a - b);
  return order.map((i) => steps[i]!);
}

/** How many steps of each kind a plan holds, duplicates counted separately. */
export function summarisePlan(plan: readonly FeedStep[]): {
  dicom: number;
  hl7: number;
  duplicates: { dicom: number; hl7: number };
} {
  const s = { dicom: 0, hl7: 0, duplicates: { dicom: 0, hl7: 0 } };
  for (const step of plan) {
    s[step.kind]++;
    if (step.duplicate) s.duplicates[step.kind]++;
  }
  return s;
}
