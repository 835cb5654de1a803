/**
 * `harvester synth`: writes a synthetic hospital cohort (DICOM, HL7, manifest, expert boxes) to
 * a directory, streaming study by study; `harvester synth preview`: a PNG contact sheet.
 */
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { SingleBar, Presets } from 'cli-progress';
import { PNG } from 'pngjs';
import { CohortPlanner, DEFAULT_COHORT_OPTIONS, type CohortOptions } from '../../../tools/synth/cohort.ts';
import { generateStudy, type ManifestLine, type PublishedReport } from '../../../tools/synth/study-output.ts';
import { PublicationQueue } from '../../../tools/synth/publication-order.ts';
import { composeContactSheet, type SheetTile } from '../../../tools/synth/contact-sheet.ts';
import { dicomToModelInput } from '../../shared/imaging/index.ts';

class SynthUserError extends Error {
  readonly expected = true;
}

export interface SynthCliOptions {
  out: string;
  studies: string;
  seed: string;
  size?: string;
  ribPrevalence?: string;
  claviclePrevalence?: string;
  missRate?: string;
  hedgeRate?: string;
  regionTrain?: string;
  regionTest?: string;
  compressedFraction?: string;
  force?: boolean;
  progress?: boolean;
}

function num(name: string, raw: string | undefined, fallback: number, integer = false): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new SynthUserError(`${name} must be ${integer ? 'an integer' : 'a number'} (got "${raw}")`);
  }
  return v;
}

export function cohortOptionsFromCli(o: SynthCliOptions): CohortOptions {
  const d = DEFAULT_COHORT_OPTIONS;
  return {
    ...d,
    studies: num('--studies', o.studies, 0, true),
    seed: String(o.seed),
    size: num('--size', o.size, d.size, true),
    ribPrevalence: num('--rib-prevalence', o.ribPrevalence, d.ribPrevalence),
    claviclePrevalence: num('--clavicle-prevalence', o.claviclePrevalence, d.claviclePrevalence),
    missRate: num('--miss-rate', o.missRate, d.missRate),
    hedgeRate: num('--hedge-rate', o.hedgeRate, d.hedgeRate),
    regionTrain: num('--region-train', o.regionTrain, d.regionTrain, true),
    regionTest: num('--region-test', o.regionTest, d.regionTest, true),
    compressedFraction: num('--compressed-fraction', o.compressedFraction, d.compressedFraction),
  };
}

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

export async function synthCommand(
  action: string | undefined,
  opts: SynthCliOptions & PreviewCliOptions,
): Promise<void> {
  if (action === 'preview') return synthPreviewCommand(opts);
  if (action !== undefined)
    throw new SynthUserError(
      `unknown synth action "${action}" (expected: preview, or none to write a cohort)`,
    );
  if (!opts.out || !opts.studies) throw new SynthUserError('synth needs --out <dir> and --studies <n>');
  const options = cohortOptionsFromCli(opts);
  if (existsSync(opts.out) && readdirSync(opts.out).length > 0 && !opts.force) {
    throw new SynthUserError(`${opts.out} is not empty; choose another --out or pass --force to overwrite`);
  }
  const bar = new SingleBar(
    {
      format: 'synth |{bar}| {value}/{total} studies | {rate}/s | eta {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const show = opts.progress !== false;
  if (show) bar.start(options.studies, 0, { rate: '0.0' });
  const t0 = performance.now();
  let summary: CohortSummary;
  try {
    summary = await writeCohort(opts.out, options, (done) => {
      if (show && (done % 5 === 0 || done === options.studies))
        bar.update(done, { rate: (done / ((performance.now() - t0) / 1000)).toFixed(1) });
    });
  } finally {
    if (show) bar.stop();
  }
  console.log(
    `wrote ${summary.studies} studies, ${summary.images} images, ${summary.reports} report versions to ${opts.out} ` +
      `(${(summary.bytes / 1e6).toFixed(1)} MB, ${(summary.studies / summary.seconds).toFixed(1)} studies/s); ` +
      `rib-positive studies ${summary.positives.rib}, clavicle-positive ${summary.positives.clavicle}, ` +
      `region images ${summary.regionImages} with ${summary.annotations} expert boxes`,
  );
}

export interface PreviewCliOptions {
  dir?: string;
  out: string;
  count?: string;
  columns?: string;
}

export async function synthPreviewCommand(opts: PreviewCliOptions): Promise<void> {
  if (!opts.dir || !opts.out)
    throw new SynthUserError('synth preview needs --dir <cohort dir> and --out <file.png>');
  const dir = opts.dir;
  const manifestPath = join(dir, 'manifest.jsonl');
  if (!existsSync(manifestPath))
    throw new SynthUserError(`${manifestPath} not found: is ${dir} a cohort written by harvester synth?`);
  const count = num('--count', opts.count, 12, true);
  const columns = num('--columns', opts.columns, 4, true);
  const lines = readFileSync(manifestPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ManifestLine);
  // Positives first (they are what one wants to see), then negatives to fill the sheet.
  const positives = lines.filter((m) => m.fractures.length > 0);
  const chosen = [
    ...positives.slice(0, count),
    ...lines.filter((m) => m.fractures.length === 0).slice(0, Math.max(0, count - positives.length)),
  ];
  if (chosen.length === 0) throw new SynthUserError(`${manifestPath} lists no images`);
  const tiles: SheetTile[] = [];
  for (const m of chosen) {
    // Decoded and windowed by the project's own imaging pipeline, at the stored size.
    const input = await dicomToModelInput(readFileSync(join(dir, m.file)), { size: m.rows });
    tiles.push({
      intensity: input.pixels,
      rows: input.height,
      columns: input.width,
      boxes: m.fractures.map((f) => ({ class: f.class, box: f.box })),
    });
  }
  const sheet = composeContactSheet(tiles, columns, 384);
  const png = new PNG({ width: sheet.width, height: sheet.height });
  png.data = Buffer.from(sheet.rgba);
  writeFileSync(opts.out, PNG.sync.write(png));
  console.log(
    `wrote ${opts.out}: ${tiles.length} images (${Math.min(positives.length, count)} with fractures; rib boxes red, clavicle boxes cyan)`,
  );
}
