import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { prepareCohort } from '../../../services/app/prepare-cohort.ts';
import { bytes16, writeDicom } from '../../support/dicom-writer.ts';

// A three-image cohort laid out as docs/data-contracts.md says, plus one broken file and one
// bad manifest line: prepare writes the good ones and reports the others.
describe('harvester prepare', () => {
  let dir: string;
  const negative = { rib: 'negative', clavicle: 'negative' };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prepare-test-'));
    mkdirSync(join(dir, 'dicom'));
    const image = (
      rows: number,
      columns: number,
      value: (x: number, y: number) => number,
      photometric = 'MONOCHROME2',
    ) =>
      writeDicom({
        rows,
        columns,
        bitsAllocated: 16,
        photometricInterpretation: photometric,
        windowCenter: 500.5,
        windowWidth: 1001,
        pixelBytes: bytes16(
          Array.from({ length: rows * columns }, (_, i) => value(i % columns, Math.floor(i / columns))),
        ),
      });
    writeFileSync(
      join(dir, 'dicom/a.dcm'),
      image(40, 80, (x) => (x < 40 ? 0 : 1000)),
    );
    writeFileSync(
      join(dir, 'dicom/b.dcm'),
      image(64, 64, () => 1000, 'MONOCHROME1'),
    );
    writeFileSync(join(dir, 'dicom/broken.dcm'), new TextEncoder().encode('not a dicom file'));
    const manifest = [
      {
        sopInstanceUid: '1.1',
        accession: 'A1',
        file: 'dicom/a.dcm',
        rows: 40,
        columns: 80,
        split: 'region-train',
        fractures: [
          { class: 'rib', box: [40, 10, 60, 20] },
          { class: 'clavicle', box: [0, 0, 8, 4] },
        ],
        reportLabel: { rib: 'positive', clavicle: 'uncertain' },
      },
      {
        sopInstanceUid: '1.3',
        accession: 'A3',
        file: 'dicom/broken.dcm',
        split: 'record',
        fractures: [],
        reportLabel: negative,
      },
      'this line is not JSON',
      {
        sopInstanceUid: '1.2',
        accession: 'A2',
        file: 'dicom/b.dcm',
        rows: 64,
        columns: 64,
        split: 'record',
        fractures: [{ class: 'rib', box: [16, 16, 32, 48] }],
        reportLabel: { rib: 'positive', clavicle: 'negative' },
      },
    ];
    writeFileSync(
      join(dir, 'manifest.jsonl'),
      manifest.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join('\n') + '\n',
    );
    writeFileSync(
      join(dir, 'annotations.json'),
      JSON.stringify([
        { sopInstanceUid: '1.1', class: 'rib', box: [40, 10, 60, 20], split: 'train' },
        { sopInstanceUid: '1.2', class: 'rib', box: [16, 16, 32, 48], split: 'train' },
      ]),
    );
    await prepareCohort({ cohort: dir, size: '16' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes meta.json with the contract fields and the failure count', () => {
    const meta = JSON.parse(readFileSync(join(dir, 'prepared/meta.json'), 'utf8'));
    assert.equal(meta.size, 16);
    assert.equal(meta.count, 2);
    assert.deepEqual(meta.classes, ['rib', 'clavicle']);
    assert.equal(meta.dtype, 'uint8');
    assert.equal(meta.file, 'images.u8');
    assert.equal(typeof meta.preprocessing, 'object');
    assert.equal(meta.failed, 2);
  });

  it('writes N x size x size bytes, value/255 = windowed, resized intensity', () => {
    const bytes = readFileSync(join(dir, 'prepared/images.u8'));
    assert.equal(bytes.length, 2 * 16 * 16);
    // image a: left half 0 -> 0, right half 1000 -> 1 (window 0..1000), stretched to 16x16.
    assert.equal(bytes[0], 0);
    assert.equal(bytes[15], 255);
    // image b is MONOCHROME1 and all 1000 (white in the window): inverted to 0.
    assert.ok(bytes.subarray(256).every((v) => v === 0));
  });

  it('writes one index line per written image, with boxes in model pixels only for region images', () => {
    const index = readFileSync(join(dir, 'prepared/index.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(index[0], {
      i: 0,
      sopInstanceUid: '1.1',
      accession: 'A1',
      split: 'region-train',
      record: { rib: 'positive', clavicle: 'uncertain' },
      // 80x40 -> 16x16: x * 0.2, y * 0.4
      boxes: [{ class: 'rib', box: [8, 4, 12, 8] }],
      truthBoxes: [
        { class: 'rib', box: [8, 4, 12, 8] },
        { class: 'clavicle', box: [0, 0, 1.6, 1.6] },
      ],
    });
    assert.equal(index[1].i, 1);
    assert.equal(index[1].sopInstanceUid, '1.2');
    assert.deepEqual(index[1].boxes, [], 'record images get no expert boxes even if annotated');
    assert.deepEqual(index[1].truthBoxes, [{ class: 'rib', box: [4, 4, 8, 12] }]);
  });

  it('lists each failure with its file and reason', () => {
    const failures = readFileSync(join(dir, 'prepared/failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(failures.length, 2);
    assert.equal(failures[0].file, 'dicom/broken.dcm');
    assert.equal(failures[0].code, 'not-dicom');
    assert.match(failures[0].reason, /not a DICOM file/);
    assert.equal(failures[1].line, 3);
    assert.equal(failures[1].code, 'bad-manifest-line');
  });

  it('fails clearly when the cohort directory has no manifest', async () => {
    await assert.rejects(
      prepareCohort({ cohort: join(dir, 'nope'), size: '16' }),
      /cannot read .*manifest\.jsonl/,
    );
  });
});
