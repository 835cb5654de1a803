/**
 * `harvester synth`: writes a synthetic hospital cohort (DICOM, HL7, manifest, expert boxes) to
 * a directory, streaming study by study; `harvester synth preview`: a PNG contact sheet.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { PNG } from 'pngjs';
import { DEFAULT_COHORT_OPTIONS, type CohortOptions } from '../../../tools/synth/cohort.ts';
import { type ManifestLine } from '../../../tools/synth/study-output.ts';
import { composeContactSheet, type SheetTile } from '../../../tools/synth/contact-sheet.ts';
import { dicomToModelInput } from '../../shared/imaging/index.ts';
import { CohortSummary, writeCohort } from '../../../tools/synth/write-cohort.ts';
import { ExpectedError } from '../../shared/errors.ts';

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
    throw new ExpectedError(`${name} must be ${integer ? 'an integer' : 'a number'} (got "${raw}")`);
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

export async function synthCommand(
  action: string | undefined,
  opts: SynthCliOptions & PreviewCliOptions,
): Promise<void> {
  if (action === 'preview') return synthPreviewCommand(opts);
  if (action !== undefined)
    throw new ExpectedError(
      `unknown synth action "${action}" (expected: preview, or none to write a cohort)`,
    );
  if (!opts.out || !opts.studies) throw new ExpectedError('synth needs --out <dir> and --studies <n>');
  const options = cohortOptionsFromCli(opts);
  if (existsSync(opts.out) && readdirSync(opts.out).length > 0 && !opts.force) {
    throw new ExpectedError(`${opts.out} is not empty; choose another --out or pass --force to overwrite`);
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
    throw new ExpectedError('synth preview needs --dir <cohort dir> and --out <file.png>');
  const dir = opts.dir;
  const manifestPath = join(dir, 'manifest.jsonl');
  if (!existsSync(manifestPath))
    throw new ExpectedError(`${manifestPath} not found: is ${dir} a cohort written by harvester synth?`);
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
  if (chosen.length === 0) throw new ExpectedError(`${manifestPath} lists no images`);
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
