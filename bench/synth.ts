/**
 * Synthetic hospital generation speed: writes a cohort to a temporary directory (or --out) and
 * prints studies/s, images/s, bytes written and peak memory.
 *   node --import tsx bench/synth.ts [--studies 200] [--size 512] [--seed 1] [--out DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeCohort } from '../tools/synth/write-cohort.ts';
import { DEFAULT_COHORT_OPTIONS } from '../tools/synth/cohort.ts';

const { values } = parseArgs({
  options: {
    studies: { type: 'string', default: '200' },
    size: { type: 'string', default: '512' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const studies = Number(values.studies);
const size = Number(values.size);
const dir = values.out ?? mkdtempSync(join(tmpdir(), 'bench-synth-'));
const region = Math.min(200, Math.floor(studies / 5));
try {
  const s = await writeCohort(dir, {
    ...DEFAULT_COHORT_OPTIONS,
    studies,
    size,
    seed: values.seed,
    regionTrain: region,
    regionTest: region,
  });
  const mb = s.bytes / 1e6;
  console.log(
    `synth: ${s.studies} studies, ${s.images} images (${size}x${size}), ${s.reports} report versions`,
  );
  console.log(
    `  ${(s.studies / s.seconds).toFixed(1)} studies/s, ${(s.images / s.seconds).toFixed(1)} images/s on one core (${s.seconds.toFixed(1)} s)`,
  );
  console.log(`  ${mb.toFixed(1)} MB written, ${(mb / s.studies).toFixed(3)} MB/study`);
  console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
} finally {
  if (!values.out) rmSync(dir, { recursive: true, force: true });
}
