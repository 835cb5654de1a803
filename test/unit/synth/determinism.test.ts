import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCohort } from '../../../tools/synth/write-cohort.ts';
import { DEFAULT_COHORT_OPTIONS, type CohortOptions } from '../../../tools/synth/cohort.ts';

const small = (seed: string): CohortOptions => ({
  ...DEFAULT_COHORT_OPTIONS,
  studies: 12,
  seed,
  size: 128,
  regionTrain: 2,
  regionTest: 2,
  ribPrevalence: 0.3,
  claviclePrevalence: 0.2,
  compressedFraction: 0.5,
  prelimRate: 0.5,
  correctionRate: 0.3,
});

function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${rel}${name}/`);
      else out.set(`${rel}${name}`, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir, '');
  return out;
}

test('the same seed and options give byte-identical cohorts; another seed differs', async () => {
  const root = mkdtempSync(join(tmpdir(), 'synth-det-'));
  try {
    await writeCohort(join(root, 'a'), small('42'));
    await writeCohort(join(root, 'b'), small('42'));
    await writeCohort(join(root, 'c'), small('43'));
    const a = hashTree(join(root, 'a'));
    const b = hashTree(join(root, 'b'));
    const c = hashTree(join(root, 'c'));
    assert.ok(a.size > 12, `expected DICOM files and the cohort files, got ${a.size}`);
    assert.deepEqual([...a.entries()], [...b.entries()]);
    assert.notEqual(a.get('manifest.jsonl'), c.get('manifest.jsonl'));
    assert.notEqual(a.get('reports.hl7'), c.get('reports.hl7'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
