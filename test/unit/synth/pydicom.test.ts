import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCohort } from '../../../tools/synth/write-cohort.ts';
import { DEFAULT_COHORT_OPTIONS } from '../../../tools/synth/cohort.ts';

// An independent, widely used reader: Debian's python3-pydicom (with numpy), when installed.
const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import pydicom, numpy'], { encoding: 'utf8' });
const hasPydicom = probe.status === 0;

const CHECK = `
import json, sys, pydicom, numpy as np
d = sys.argv[1]
n = 0
for line in open(d + '/manifest.jsonl'):
    m = json.loads(line)
    ds = pydicom.dcmread(d + '/' + m['file'])
    a = ds.pixel_array
    assert a.shape == (m['rows'], m['columns']), a.shape
    assert ds.SOPInstanceUID == m['sopInstanceUid'] and ds.AccessionNumber == m['accession']
    assert ds.ViewPosition == m['viewPosition'] and ds.BodyPartExamined == 'CHEST'
    assert ds.file_meta.TransferSyntaxUID == m['transferSyntaxUid']
    assert ds.PhotometricInterpretation == m['photometricInterpretation']
    assert a.max() < 2 ** ds.BitsStored and a.std() > 0
    n += 1
print(n)
`;

test(
  'pydicom opens every file of a cohort, RLE included',
  { skip: hasPydicom ? false : 'python3-pydicom not installed' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synth-pydicom-'));
    try {
      const s = await writeCohort(dir, {
        ...DEFAULT_COHORT_OPTIONS,
        studies: 10,
        seed: '7',
        size: 128,
        regionTrain: 1,
        regionTest: 1,
        compressedFraction: 0.5,
      });
      const r = spawnSync(PYTHON, ['-c', CHECK, dir], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(Number(r.stdout.trim()), s.images);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
