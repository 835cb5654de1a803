import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkExpertBoxes,
  countRejections,
  formatImportSummary,
  formatRejection,
  type ExpertBoxEntry,
  type KnownImage,
} from '../../../services/shared/annotations/index.ts';

const IN_DB = '2.25.1';
const IN_MANIFEST = '2.25.2';
const TRAIN_STORED = '2.25.3';

const images = new Map<string, KnownImage>([
  [IN_DB, { rows: 100, columns: 120, from: 'database' }],
  [IN_MANIFEST, { rows: 64, columns: 64, from: 'manifest' }],
  [TRAIN_STORED, { rows: 64, columns: 64, from: 'database' }],
]);
const storedSplits = new Map([[TRAIN_STORED, 'region-train' as const]]);

let n = 0;
const entry = (e: Partial<ExpertBoxEntry> = {}): ExpertBoxEntry => {
  const index = n++;
  return {
    index,
    where: `row ${index + 1}`,
    sopInstanceUid: IN_DB,
    class: 'rib',
    box: [10, 10, 20, 20],
    split: 'region-train',
    ...e,
  };
};

describe('checking expert boxes against the images', () => {
  it('accepts boxes on known images, inside them (x1/y1 exclusive: up to columns/rows), and says where each image was found', () => {
    n = 0;
    const { accepted, rejects } = checkExpertBoxes(
      [
        entry({ box: [0, 0, 120, 100] }),
        entry({ sopInstanceUid: IN_MANIFEST, class: 'clavicle', box: [1, 2, 64, 64], split: 'region-test' }),
        entry({ sopInstanceUid: TRAIN_STORED }),
      ],
      { images, storedSplits },
    );
    assert.deepEqual(rejects, []);
    assert.deepEqual(
      accepted.map((b) => [b.where, b.split, b.imageFrom]),
      [
        ['row 1', 'region-train', 'database'],
        ['row 2', 'region-test', 'manifest'],
        ['row 3', 'region-train', 'database'],
      ],
    );
  });

  it('rejects each kind of bad row with a reason and keeps the good rows between them', () => {
    n = 0;
    const { accepted, rejects } = checkExpertBoxes(
      [
        entry(), // good
        entry({ sopInstanceUid: '2.25.404' }), // unknown image
        entry({ box: [100, 10, 121, 20] }), // past the last column
        entry({ box: [10, 90, 20, 101] }), // past the last row
        entry({ box: [-1, 10, 20, 20] }), // left of the image
        entry({ stated: { rows: 512, columns: 512 } }), // drawn on another size
        entry({ sopInstanceUid: TRAIN_STORED, split: 'region-test' }), // image stored as train
        entry({ split: 'region-test' }), // row 1 put this image in train
        entry({ box: [10, 10, 20, 20] }), // same as row 1
        entry({ class: 'clavicle' }), // good: same box, other class
      ],
      { images, storedSplits, manifestGiven: true },
    );
    assert.deepEqual(
      accepted.map((b) => b.where),
      ['row 1', 'row 10'],
    );
    assert.deepEqual(
      rejects.map((r) => [r.where, r.reason]),
      [
        ['row 2', 'unknown-image'],
        ['row 3', 'box-outside-image'],
        ['row 4', 'box-outside-image'],
        ['row 5', 'box-outside-image'],
        ['row 6', 'size-mismatch'],
        ['row 7', 'split-conflict'],
        ['row 8', 'split-conflict'],
        ['row 9', 'duplicate-in-file'],
      ],
    );
    assert.match(rejects[0]!.detail, /not in the images table or the cohort manifest/);
    assert.match(rejects[5]!.detail, /already in region-train in the database/);
    assert.match(rejects[6]!.detail, /row 1 puts this image in region-train/);
    assert.match(rejects[7]!.detail, /as row 1/);
  });

  it('takes --split for rows without one, refuses rows stating the other, and needs a split from somewhere', () => {
    n = 0;
    const rows = [entry({ split: undefined }), entry({ split: 'region-train', box: [1, 1, 2, 2] })];
    const withOption = checkExpertBoxes(rows, { images, storedSplits, split: 'region-test' });
    assert.deepEqual(
      withOption.accepted.map((b) => [b.where, b.split]),
      [['row 1', 'region-test']],
    );
    assert.deepEqual(
      withOption.rejects.map((r) => [r.where, r.reason]),
      [['row 2', 'split-conflict']],
    );
    const without = checkExpertBoxes(rows, { images, storedSplits });
    assert.deepEqual(
      without.rejects.map((r) => [r.where, r.reason]),
      [['row 1', 'missing-split']],
    );
  });

  it('accepts fracture-free images like boxed ones (known, one split) and refuses those with boxes anywhere', () => {
    n = 0;
    const free = (sop: string, e: Partial<ExpertBoxEntry> = {}) => {
      const { index, where, split } = entry(e);
      return { index, where, sopInstanceUid: sop, ...(split ? { split } : {}) };
    };
    const { fractureFree, rejects } = checkExpertBoxes(
      [entry({ sopInstanceUid: IN_DB })],
      { images, storedSplits, storedBoxed: new Set([TRAIN_STORED]), split: 'region-test' },
      [
        free(IN_MANIFEST, { split: undefined }),
        free(IN_DB),
        free(TRAIN_STORED),
        free('2.25.404', { split: 'region-test' }),
      ],
    );
    assert.deepEqual(
      fractureFree.map((f) => [f.sopInstanceUid, f.split, f.imageFrom]),
      [[IN_MANIFEST, 'region-test', 'manifest']],
    );
    assert.deepEqual(
      rejects.map((r) => [r.where, r.reason]),
      [
        ['row 1', 'split-conflict'],
        ['row 3', 'fracture-free-conflict'],
        ['row 4', 'fracture-free-conflict'],
        ['row 5', 'unknown-image'],
      ],
    );
  });

  it('points to --images-from when an image is unknown and no manifest was given', () => {
    n = 0;
    const { rejects } = checkExpertBoxes([entry({ sopInstanceUid: '2.25.404' })], { images, storedSplits });
    assert.match(rejects[0]!.detail, /--images-from/);
  });
});

describe('the import summary', () => {
  it('counts rejections by reason and prints imported, already present and each reason', () => {
    n = 0;
    const { rejects } = checkExpertBoxes(
      [
        entry({ sopInstanceUid: '2.25.404' }),
        entry({ sopInstanceUid: '2.25.405' }),
        entry({ box: [0, 0, 999, 5] }),
      ],
      { images, storedSplits },
    );
    const rejected = countRejections(rejects);
    assert.deepEqual(rejected, { 'unknown-image': 2, 'box-outside-image': 1 });
    const text = formatImportSummary({
      source: 'boxes.json',
      format: 'json',
      total: 10,
      imported: 4,
      alreadyPresent: 3,
      rejected,
      bySplit: { 'region-train': 5, 'region-test': 2 },
      fractureFree: { imported: 6, alreadyPresent: 1, bySplit: { 'region-train': 3, 'region-test': 4 } },
      inputs: { stored: 12, alreadyStored: 1, unavailable: 2, preprocessingVersion: 'fh1-256x256-u8' },
      imagesFromManifest: 1,
    });
    assert.match(text, /10 boxes read/);
    assert.match(text, /imported\s+4\n/);
    assert.match(text, /already present\s+3\n/);
    assert.match(text, /rejected\s+3\n/);
    assert.match(text, /unknown-image\s+2 /);
    assert.match(text, /box-outside-image\s+1 /);
    assert.match(text, /1 image\(s\) checked against the cohort manifest/);
    assert.match(
      text,
      /fracture-free images 6 imported, 1 already present \(region-train 3, region-test 4\)/,
    );
    assert.match(
      text,
      /model inputs \(fh1-256x256-u8\) 12 stored, 1 already in the training store, 2 unavailable/,
    );
    assert.equal(
      formatRejection('boxes.json', rejects[2]!),
      'boxes.json: row 3: box-outside-image: box [0, 0, 999, 5] is outside the image (columns 120, rows 100)',
    );
  });
});
