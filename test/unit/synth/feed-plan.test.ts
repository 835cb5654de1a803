import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CohortPlanner, DEFAULT_COHORT_OPTIONS } from '../../../tools/synth/cohort.ts';
import {
  planFeed,
  summarisePlan,
  type FeedImageInput,
  type FeedPlanOptions,
  type FeedReportInput,
  type FeedStep,
} from '../../../tools/synth/feed-plan.ts';

/** Feed inputs as a cohort of `studies` studies gives them (images in manifest order, reports in publication order). */
function cohortInputs(studies: number, seed = '3'): { images: FeedImageInput[]; reports: FeedReportInput[] } {
  const planner = new CohortPlanner({
    ...DEFAULT_COHORT_OPTIONS,
    studies,
    seed,
    regionTrain: 0,
    regionTest: 0,
    correctionRate: 0.05,
  });
  const images: FeedImageInput[] = [];
  const reports: FeedReportInput[] = [];
  for (let i = 0; i < studies; i++) {
    const s = planner.study(i);
    for (let k = 0; k < s.images.length; k++) images.push({ accession: s.accession, studyTime: s.studyTime });
    for (const r of s.reports) reports.push({ accession: s.accession, status: r.status, time: r.time });
  }
  reports.sort((a, b) => a.time - b.time);
  return { images, reports };
}

const options = (o: Partial<FeedPlanOptions> = {}): FeedPlanOptions => ({
  seed: '1',
  duplicateRate: 0.02,
  lateImageRate: 0.05,
  ...o,
});

const { images, reports } = cohortInputs(3000);
const plan = planFeed(images, reports, options());

test('every image and every report version is planned exactly once as an original', () => {
  const originals = { dicom: new Map<number, number>(), hl7: new Map<number, number>() };
  for (const s of plan)
    if (!s.duplicate) originals[s.kind].set(s.index, (originals[s.kind].get(s.index) ?? 0) + 1);
  assert.equal(originals.dicom.size, images.length);
  assert.equal(originals.hl7.size, reports.length);
  assert.ok([...originals.dicom.values(), ...originals.hl7.values()].every((n) => n === 1));
  for (const s of plan) {
    const bound = s.kind === 'dicom' ? images.length : reports.length;
    assert.ok(Number.isInteger(s.index) && s.index >= 0 && s.index < bound);
  }
});

test('steps are in time order, and a duplicate comes after its original', () => {
  for (let i = 1; i < plan.length; i++)
    assert.ok(plan[i]!.time >= plan[i - 1]!.time, `step ${i} goes back in time`);
  const seen = new Set<string>();
  for (const s of plan) {
    const id = `${s.kind}:${s.index}`;
    if (s.duplicate) assert.ok(seen.has(id), `duplicate of ${id} before its original`);
    else seen.add(id);
  }
});

test('per accession, every copy of P comes before every F, and every F before every C', () => {
  const rank = { P: 0, F: 1, C: 2 } as const;
  const last = new Map<string, number>();
  let corrections = 0;
  for (const s of plan) {
    if (s.kind !== 'hl7') continue;
    const r = reports[s.index]!;
    const before = last.get(r.accession) ?? -1;
    assert.ok(rank[r.status] >= before, `${r.accession}: ${r.status} after a later status`);
    last.set(r.accession, rank[r.status]);
    if (r.status === 'C') corrections++;
  }
  assert.ok(corrections > 50, `the cohort has corrections (${corrections})`);
});

test("a study's images usually arrive before its first report, sometimes after", () => {
  const firstReport = new Map<string, number>();
  const lastImage = new Map<string, number>();
  plan.forEach((s, pos) => {
    if (s.duplicate) return;
    if (s.kind === 'hl7') {
      const acc = reports[s.index]!.accession;
      if (!firstReport.has(acc)) firstReport.set(acc, pos);
    } else lastImage.set(images[s.index]!.accession, pos);
  });
  let after = 0;
  for (const [acc, pos] of lastImage) if (pos > firstReport.get(acc)!) after++;
  const fraction = after / lastImage.size;
  assert.ok(
    fraction > 0.02 && fraction < 0.2,
    `images after the report in ${(fraction * 100).toFixed(1)}% of studies`,
  );
  const none = planFeed(images, reports, options({ lateImageRate: 0 }));
  const noneAfter = countStudiesWithImagesAfterReport(none, images, reports);
  assert.ok(noneAfter < after, 'late images make images-after-report more frequent');
});

function countStudiesWithImagesAfterReport(
  p: FeedStep[],
  im: FeedImageInput[],
  rep: FeedReportInput[],
): number {
  const firstReport = new Map<string, number>();
  const late = new Set<string>();
  p.forEach((s, pos) => {
    if (s.kind === 'hl7' && !firstReport.has(rep[s.index]!.accession))
      firstReport.set(rep[s.index]!.accession, pos);
  });
  p.forEach((s, pos) => {
    if (s.kind === 'dicom' && pos > (firstReport.get(im[s.index]!.accession) ?? Infinity))
      late.add(im[s.index]!.accession);
  });
  return late.size;
}

test('late corrections come much later: other studies are fed between a final and its correction', () => {
  const finalPos = new Map<string, number>();
  const gaps: number[] = [];
  plan.forEach((s, pos) => {
    if (s.kind !== 'hl7' || s.duplicate) return;
    const r = reports[s.index]!;
    if (r.status === 'F') finalPos.set(r.accession, pos);
    if (r.status === 'C') gaps.push(pos - finalPos.get(r.accession)!);
  });
  assert.ok(gaps.length > 0);
  const median = gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
  assert.ok(median > 5, `median steps between F and C: ${median}`);
});

test('duplicates appear at about the configured rate, none at 0', () => {
  const originals = images.length + reports.length;
  const many = summarisePlan(planFeed(images, reports, options({ duplicateRate: 0.1 })));
  const fraction = (many.duplicates.dicom + many.duplicates.hl7) / originals;
  assert.ok(Math.abs(fraction - 0.1) < 0.015, `duplicate fraction ${fraction}`);
  assert.ok(many.duplicates.dicom > 0 && many.duplicates.hl7 > 0);
  const none = summarisePlan(planFeed(images, reports, options({ duplicateRate: 0 })));
  assert.equal(none.duplicates.dicom + none.duplicates.hl7, 0);
  assert.equal(none.dicom + none.hl7, originals);
});

test('the same seed gives the same plan; another seed another order', () => {
  assert.deepEqual(planFeed(images, reports, options()), plan);
  const other = planFeed(images, reports, options({ seed: '2' }));
  assert.notDeepEqual(other, plan);
  assert.equal(other.filter((s) => !s.duplicate).length, images.length + reports.length);
});

test('reports with equal or reversed times still go out P before F', () => {
  const t = Date.UTC(2020, 0, 1);
  const p = planFeed(
    [{ accession: 'A1', studyTime: t }],
    [
      { accession: 'A1', status: 'P', time: t + 60_000 },
      { accession: 'A1', status: 'F', time: t + 60_000 },
      { accession: 'A1', status: 'C', time: t + 30_000 },
    ],
    options({ duplicateRate: 1 }),
  );
  const statuses = p.filter((s) => s.kind === 'hl7').map((s) => ['P', 'F', 'C'][s.index]);
  assert.deepEqual(statuses, ['P', 'P', 'F', 'F', 'C', 'C']);
});

test('bad input is refused with a clear error', () => {
  const t = Date.UTC(2020, 0, 1);
  assert.throws(
    () => planFeed([], [], options({ duplicateRate: 1.5 })),
    /duplicate rate must be between 0 and 1/,
  );
  assert.throws(
    () =>
      planFeed(
        [],
        [
          { accession: 'A1', status: 'F', time: t },
          { accession: 'A1', status: 'P', time: t + 1 },
        ],
        options(),
      ),
    /report 1 \(P\) follows a F/,
  );
  assert.throws(
    () => planFeed([{ accession: 'A1', studyTime: Number.NaN }], [], options()),
    /image 0 has no study time/,
  );
});
