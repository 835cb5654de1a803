/**
 * `harvester synth`: writes a synthetic hospital cohort (DICOM, HL7, manifest, expert boxes) to
 * a directory, streaming study by study; `harvester synth preview`: a PNG contact sheet.
 */
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { CohortPlanner, type CohortOptions } from './cohort.ts';
import { generateStudy, type ManifestLine, type PublishedReport } from './study-output.ts';
import { PublicationQueue } from './publication-order.ts';

/** Writes with back-pressure, so a slow disk never makes the cohort pile up in memory. */
async function put(stream: WriteStream, data: string | Uint8Array): Promise<void> {
  if (!stream.write(data)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

export interface CohortSummary {
  studies: number;
  images: number;
  reports: number;
  bytes: number;
  seconds: number;
  positives: { rib: number; clavicle: number };
  regionImages: number;
  annotations: number;
}

/**
 * Generates and writes a cohort. Memory holds one study, the pending report queue and the
 * region annotations (hundreds), never the cohort.
 */
export async function writeCohort(
  dir: string,
  options: CohortOptions,
  onStudy?: (done: number) => void,
): Promise<CohortSummary> {
  const planner = new CohortPlanner(options);
  mkdirSync(join(dir, 'dicom'), { recursive: true });
  const started = performance.now();
  const manifest = createWriteStream(join(dir, 'manifest.jsonl'));
  const hl7 = createWriteStream(join(dir, 'reports.hl7'));
  const reportsOut = createWriteStream(join(dir, 'reports.jsonl'));
  const queue = new PublicationQueue<PublishedReport>();
  const annotations: {
    sopInstanceUid: string;
    class: 'rib' | 'clavicle';
    box: [number, number, number, number];
    split: string;
  }[] = [];
  const regionImages: ManifestLine[] = [];
  const summary: CohortSummary = {
    studies: 0,
    images: 0,
    reports: 0,
    bytes: 0,
    seconds: 0,
    positives: { rib: 0, clavicle: 0 },
    regionImages: 0,
    annotations: 0,
  };
  const publish = async (r: PublishedReport): Promise<void> => {
    await put(hl7, r.hl7 + '\n');
    await put(reportsOut, JSON.stringify(r.line) + '\n');
    summary.reports++;
    summary.bytes += Buffer.byteLength(r.hl7) + 1;
  };
  for (let i = 0; i < options.studies; i++) {
    const plan = planner.study(i);
    // Reports already due before this study was taken can no longer be overtaken.
    for (const r of queue.releaseBefore(plan.studyTime)) await publish(r);
    const out = generateStudy(plan, planner.seed, options.size);
    for (const f of out.files) {
      writeFileSync(join(dir, f.path), f.bytes);
      summary.bytes += f.bytes.length;
    }
    for (const m of out.manifest) {
      const line = JSON.stringify(m) + '\n';
      await put(manifest, line);
      summary.bytes += line.length;
      summary.images++;
      if (m.split !== 'record') regionImages.push(m);
    }
    for (const r of out.reports) queue.push(r);
    annotations.push(...out.annotations);
    if (plan.fractures.some((f) => f.class === 'rib')) summary.positives.rib++;
    if (plan.fractures.some((f) => f.class === 'clavicle')) summary.positives.clavicle++;
    summary.studies++;
    onStudy?.(i + 1);
  }
  for (const r of queue.drain()) await publish(r);
  await Promise.all([close(manifest), close(hl7), close(reportsOut)]);

  writeFileSync(join(dir, 'annotations.json'), JSON.stringify(annotations) + '\n');
  const categories = [
    { id: 1, name: 'rib', supercategory: 'fracture' },
    { id: 2, name: 'clavicle', supercategory: 'fracture' },
  ];
  const imageIds = new Map(regionImages.map((m, k) => [m.sopInstanceUid, k + 1]));
  const coco = {
    info: { description: 'fracture-harvester synthetic expert boxes (D_R)', version: '1', year: 2024 },
    images: regionImages.map((m, k) => ({
      id: k + 1,
      file_name: m.file,
      width: m.columns,
      height: m.rows,
      sop_instance_uid: m.sopInstanceUid,
      split: m.split,
    })),
    annotations: annotations.map((a, k) => ({
      id: k + 1,
      image_id: imageIds.get(a.sopInstanceUid),
      category_id: a.class === 'rib' ? 1 : 2,
      bbox: [a.box[0], a.box[1], a.box[2] - a.box[0], a.box[3] - a.box[1]],
      area: (a.box[2] - a.box[0]) * (a.box[3] - a.box[1]),
      iscrowd: 0,
      split: a.split,
    })),
    categories,
  };
  writeFileSync(join(dir, 'annotations.coco.json'), JSON.stringify(coco) + '\n');
  writeFileSync(
    join(dir, 'cohort.json'),
    JSON.stringify(
      {
        generator: 'fracture-harvester-synth',
        version: 1,
        seed: options.seed,
        studies: options.studies,
        options: {
          ...options,
          notes: {
            regionSets:
              'region-train and region-test studies are enriched with positives (regionRibPrevalence, regionClaviclePrevalence), as curated expert sets are; each has exactly one image; record studies use ribPrevalence and claviclePrevalence',
            reportLabel:
              'what the last report version (C, else F) states; it misses a present fracture class with probability about missRate',
          },
        },
        counts: {
          images: summary.images,
          reports: summary.reports,
          ribPositiveStudies: summary.positives.rib,
          claviclePositiveStudies: summary.positives.clavicle,
          regionImages: regionImages.length,
          annotations: annotations.length,
        },
      },
      null,
      2,
    ) + '\n',
  );
  summary.regionImages = regionImages.length;
  summary.annotations = annotations.length;
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
