import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { importAnnotations, readAnnotationsInput } from '../../services/app/import-annotations.ts';
import { writeCohort } from '../../tools/synth/write-cohort.ts';
import { migrateDatabase } from '../../services/shared/db/migrate.ts';
import { DEFAULT_COHORT_OPTIONS } from '../../tools/synth/cohort.ts';
import { createTestSchema, getTestStack, type TestSchema } from '../support/index.ts';

// `harvester annotations import` on a small synthetic cohort: its expert boxes into
// region_annotations of a fresh schema, the image geometry from the images table (and, for the
// images left out of it, from the cohort manifest), imported twice, then a file of good and bad rows.

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface ManifestLine {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  accession: string;
  modality: string;
  viewPosition: string;
  rows: number;
  columns: number;
  photometricInterpretation: string;
  transferSyntaxUid: string;
  file: string;
  split: string;
}

interface SynthBox {
  sopInstanceUid: string;
  class: string;
  box: [number, number, number, number];
  split: string;
}

async function insertImage(pool: pg.Pool, m: ManifestLine, dir: string): Promise<void> {
  await pool.query(
    `INSERT INTO images (sop_instance_uid, study_instance_uid, series_instance_uid, accession, modality,
       view_position, rows, columns, bits_allocated, bits_stored, pixel_representation,
       photometric_interpretation, transfer_syntax_uid, uri, arrived_at, event_topic, event_partition,
       event_offset, event_value)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 16, 12, 0, $9, $10, $11, now(), 'test', 0, 0, '\\x00')`,
    [
      m.sopInstanceUid,
      m.studyInstanceUid,
      m.seriesInstanceUid,
      m.accession,
      m.modality,
      m.viewPosition,
      m.rows,
      m.columns,
      m.photometricInterpretation,
      m.transferSyntaxUid,
      `file://${join(dir, m.file)}`,
    ],
  );
}

const storedBoxes = async (pool: pg.Pool) =>
  (
    await pool.query<{ sop: string; class: string; box: number[]; split: string; source: string }>(
      `SELECT sop_instance_uid AS sop, class, ARRAY[x0, y0, x1, y1] AS box, split, source
       FROM region_annotations ORDER BY sop_instance_uid, class, x0, y0, x1, y1`,
    )
  ).rows;

const sortBoxes = (boxes: { sop: string; class: string; box: number[]; split: string }[]) =>
  [...boxes].sort((a, b) =>
    JSON.stringify([a.sop, a.class, ...a.box]) < JSON.stringify([b.sop, b.class, ...b.box]) ? -1 : 1,
  );

describe('harvester annotations import', { timeout: 180_000 }, () => {
  let dir: string;
  let cohort: string;
  let db: TestSchema;
  let regionImages: ManifestLine[];
  let synthBoxes: SynthBox[];
  /** The region image left out of the images table (its geometry comes from the manifest). */
  let notYetArrived: ManifestLine;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fh-annotations-'));
    cohort = join(dir, 'cohort');
    await writeCohort(cohort, {
      ...DEFAULT_COHORT_OPTIONS,
      studies: 12,
      seed: 'annotations-import-test',
      size: 128,
      regionTrain: 4,
      regionTest: 4,
    });
    const manifest = readFileSync(join(cohort, 'manifest.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ManifestLine);
    regionImages = manifest.filter((m) => m.split !== 'record');
    synthBoxes = JSON.parse(readFileSync(join(cohort, 'annotations.json'), 'utf8')) as SynthBox[];
    assert.ok(synthBoxes.length >= 2, 'the cohort needs expert boxes to import');
    // the last boxed image has not arrived yet: only the manifest knows its size
    notYetArrived = regionImages.find((m) => m.sopInstanceUid === synthBoxes.at(-1)!.sopInstanceUid)!;

    const stack = await getTestStack();
    db = await createTestSchema(stack, 'annotations');
    await migrateDatabase({ database: stack.databaseUrl, schema: db.schema });
    for (const m of regionImages) if (m !== notYetArrived) await insertImage(db.pool, m, cohort);
  });
  after(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const expected = () =>
    sortBoxes(synthBoxes.map((b) => ({ sop: b.sopInstanceUid, class: b.class, box: b.box, split: b.split })));

  it('without the manifest, boxes on the image not in the images table are rejected and the rest kept', async () => {
    const input = readAnnotationsInput({ input: join(cohort, 'annotations.coco.json'), format: 'coco' });
    const { summary, rejects } = await importAnnotations(db.pool, input);
    const onMissing = synthBoxes.filter((b) => b.sopInstanceUid === notYetArrived.sopInstanceUid).length;
    assert.equal(summary.imported, synthBoxes.length - onMissing);
    assert.deepEqual(summary.rejected, { 'unknown-image': onMissing });
    assert.ok(rejects.every((r) => /^annotation \d+ \(id \d+\)$/.test(r.where)));
    await db.pool.query('DELETE FROM region_annotations');
    await db.pool.query('DELETE FROM region_annotated_images');
  });

  it('imports the synth COCO file with the manifest for images not yet arrived: every box, its split, once', async () => {
    const input = readAnnotationsInput({
      input: join(cohort, 'annotations.coco.json'),
      format: 'coco',
      imagesFrom: cohort,
    });
    const { summary, rejects } = await importAnnotations(db.pool, input);
    assert.deepEqual(rejects, []);
    assert.equal(summary.total, synthBoxes.length);
    assert.equal(summary.imported, synthBoxes.length);
    assert.equal(summary.alreadyPresent, 0);
    assert.equal(summary.imagesFromManifest, 1);
    const stored = await storedBoxes(db.pool);
    assert.deepEqual(
      sortBoxes(stored.map(({ sop, class: c, box, split }) => ({ sop, class: c, box, split }))),
      expected(),
    );
    assert.ok(stored.every((r) => r.source === 'annotations.coco.json'));
    // every listed image was reviewed: those without a box are D_R's fracture-free images, in their split
    const boxed = new Set(synthBoxes.map((b) => b.sopInstanceUid));
    const free = regionImages.filter((m) => !boxed.has(m.sopInstanceUid));
    assert.ok(free.length > 0, 'the cohort has fracture-free region images');
    assert.equal(summary.fractureFree.imported, free.length);
    const { rows: reviewed } = await db.pool.query<{ sop: string; split: string }>(
      'SELECT sop_instance_uid AS sop, split FROM region_annotated_images ORDER BY 1',
    );
    assert.deepEqual(
      reviewed,
      regionImages
        .map((m) => ({ sop: m.sopInstanceUid, split: m.split }))
        .sort((a, b) => (a.sop < b.sop ? -1 : 1)),
    );
  });

  it('importing again (COCO, then the same boxes as annotations.json) adds nothing and counts them as present', async () => {
    for (const [file, format] of [
      ['annotations.coco.json', 'coco'],
      ['annotations.json', 'json'],
    ] as const) {
      const input = readAnnotationsInput({ input: join(cohort, file), format, imagesFrom: cohort });
      const { summary, rejects } = await importAnnotations(db.pool, input);
      assert.deepEqual(rejects, [], file);
      assert.equal(summary.imported, 0, file);
      assert.equal(summary.alreadyPresent, synthBoxes.length, file);
    }
    assert.equal((await storedBoxes(db.pool)).length, synthBoxes.length);
  });

  it('reports bad rows with their row number and reason, keeps the good ones in the same run', async () => {
    // a held-out image in the images table, and a training image that already has stored boxes
    const image = regionImages.find((m) => m !== notYetArrived && m.split === 'region-test')!;
    const trainSop = synthBoxes.find((b) => b.split === 'region-train')?.sopInstanceUid;
    assert.ok(image && trainSop, 'the cohort needs a region-test image and a boxed region-train image');
    const rows = [
      { sopInstanceUid: image.sopInstanceUid, class: 'rib', box: [1, 1, 5, 5], split: 'region-test' },
      { sopInstanceUid: '2.25.404', class: 'rib', box: [1, 1, 5, 5], split: 'region-test' },
      { sopInstanceUid: image.sopInstanceUid, class: 'other', box: [1, 1, 5, 5], split: 'region-test' },
      {
        sopInstanceUid: image.sopInstanceUid,
        class: 'clavicle',
        box: [1, 1, image.columns + 1, 5],
        split: 'region-test',
      },
      { sopInstanceUid: image.sopInstanceUid, class: 'clavicle', box: [1, 1, 5, 5], split: 'test' },
      { sopInstanceUid: image.sopInstanceUid, class: 'clavicle', box: [2, 2, 6, 6], split: 'region-test' },
      { sopInstanceUid: trainSop, class: 'rib', box: [0, 0, 3, 3], split: 'region-test' },
      { sopInstanceUid: image.sopInstanceUid, class: 'rib', box: [1, 1, 5, 5], split: 'region-test' },
    ];
    const file = join(dir, 'mixed.json');
    writeFileSync(file, JSON.stringify(rows));
    const stored = (await storedBoxes(db.pool)).length;
    const { summary, rejects } = await importAnnotations(db.pool, readAnnotationsInput({ input: file }));
    assert.deepEqual(
      rejects.map((r) => [r.where, r.reason]),
      [
        ['row 2', 'unknown-image'],
        ['row 3', 'unknown-class'],
        ['row 4', 'box-outside-image'],
        ['row 5', 'bad-split'],
        ['row 7', 'split-conflict'],
        ['row 8', 'duplicate-in-file'],
      ],
    );
    assert.equal(summary.imported, 2);
    assert.deepEqual(
      (await storedBoxes(db.pool))
        .filter((r) => r.source === 'mixed.json')
        .map((r) => [r.sop, r.class, r.box, r.split]),
      [
        [image.sopInstanceUid, 'clavicle', [2, 2, 6, 6], 'region-test'],
        [image.sopInstanceUid, 'rib', [1, 1, 5, 5], 'region-test'],
      ],
    );
    assert.equal((await storedBoxes(db.pool)).length, stored + 2);
  });

  it('the table refuses inverted boxes and unknown classes even from other writers; harvester_service may insert', async () => {
    await assert.rejects(
      db.pool.query(
        `INSERT INTO region_annotations (sop_instance_uid, class, x0, y0, x1, y1, split, source)
         VALUES ('2.25.9', 'rib', 5, 1, 4, 2, 'region-train', 't')`,
      ),
      /check constraint/,
    );
    await assert.rejects(
      db.pool.query(
        `INSERT INTO region_annotations (sop_instance_uid, class, x0, y0, x1, y1, split, source)
         VALUES ('2.25.9', 'other', 1, 1, 4, 2, 'region-train', 't')`,
      ),
      /check constraint/,
    );
    const grants = await db.pool.query<{ role: string; insert: boolean; select: boolean }>(
      `SELECT r AS role, has_table_privilege(r, 'region_annotations', 'INSERT') AS insert,
              has_table_privilege(r, 'region_annotations', 'SELECT') AS select
       FROM unnest(ARRAY['harvester_service', 'harvester_analytics']) AS r ORDER BY r`,
    );
    assert.deepEqual(grants.rows, [
      { role: 'harvester_analytics', insert: false, select: false },
      { role: 'harvester_service', insert: true, select: true },
    ]);
  });
});

describe('harvester annotations import (the command, embedded database)', { timeout: 180_000 }, () => {
  it('prints bad rows on stderr, the summary on stdout, exits 2, and keeps the good rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-annotations-cli-'));
    try {
      const cohort = join(dir, 'cohort');
      await writeCohort(cohort, {
        ...DEFAULT_COHORT_OPTIONS,
        studies: 6,
        seed: 'annotations-cli-test',
        size: 128,
        regionTrain: 2,
        regionTest: 2,
      });
      const boxes = JSON.parse(readFileSync(join(cohort, 'annotations.json'), 'utf8')) as SynthBox[];
      const file = join(dir, 'with-bad.json');
      writeFileSync(
        file,
        JSON.stringify([
          ...boxes,
          { sopInstanceUid: '2.25.404', class: 'rib', box: [1, 1, 2, 2], split: 'region-train' },
        ]),
      );
      const args = [
        'bin/harvester.js',
        'annotations',
        'import',
        '--input',
        file,
        '--data-dir',
        join(dir, 'db'),
        '--store',
        join(dir, 'training-store'),
      ];
      const run = await execFileAsync(process.execPath, [...args, '--images-from', cohort], {
        cwd: repoRoot,
      }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      assert.equal(run.code, 2, run.stderr);
      assert.match(
        run.stderr,
        new RegExp(`with-bad\\.json: row ${boxes.length + 1}: unknown-image: image 2\\.25\\.404 is not in`),
      );
      assert.match(run.stdout, new RegExp(`imported\\s+${boxes.length}\\n`));
      assert.match(run.stdout, /unknown-image\s+1 /);
      // every reviewed image (boxed or fracture-free) has its model input in the store now
      const reviewed = readFileSync(join(cohort, 'manifest.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"split":"region-'))
        .map((l) => JSON.parse(l) as ManifestLine)
        .filter((m) => boxes.some((b) => b.sopInstanceUid === m.sopInstanceUid));
      assert.match(
        run.stdout,
        new RegExp(
          `model inputs \\(fh1-256x256-u8\\) ${reviewed.length} stored, 0 already in the training store, 0 unavailable`,
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
