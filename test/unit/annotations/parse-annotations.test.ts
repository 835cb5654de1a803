import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AnnotationFileError,
  parseAnnotationsJson,
  parseCocoAnnotations,
  readManifestGeometry,
  type Rejection,
} from '../../../services/shared/annotations/index.ts';

const SOP_A = '2.25.1001';
const SOP_B = '2.25.1002';

const reasons = (rejects: Rejection[]) => rejects.map((r) => [r.where, r.reason]);

describe('annotations.json (the synth layout)', () => {
  it('reads every well-formed row with its place in the file, split and optional annotator', () => {
    const parsed = parseAnnotationsJson(
      JSON.stringify([
        { sopInstanceUid: SOP_A, class: 'rib', box: [10, 20, 30, 45], split: 'region-train' },
        { sopInstanceUid: SOP_B, class: 'clavicle', box: [0.5, 1, 2.25, 3], annotator: ' dr-k ' },
      ]),
    );
    assert.equal(parsed.total, 2);
    assert.deepEqual(parsed.rejects, []);
    assert.deepEqual(parsed.entries, [
      {
        index: 0,
        where: 'row 1',
        sopInstanceUid: SOP_A,
        class: 'rib',
        box: [10, 20, 30, 45],
        split: 'region-train',
      },
      {
        index: 1,
        where: 'row 2',
        sopInstanceUid: SOP_B,
        class: 'clavicle',
        box: [0.5, 1, 2.25, 3],
        annotator: 'dr-k',
      },
    ]);
  });

  it('reads {"sopInstanceUid","split","fractureFree":true} as an image reviewed with no fracture', () => {
    const parsed = parseAnnotationsJson(
      JSON.stringify([
        { sopInstanceUid: SOP_A, split: 'region-test', fractureFree: true, annotator: 'dr-k' },
        { sopInstanceUid: SOP_B, class: 'rib', box: [1, 1, 2, 2], fractureFree: true },
        { sopInstanceUid: SOP_B, class: 'rib', box: [1, 1, 2, 2], split: 'region-test' },
      ]),
    );
    assert.deepEqual(parsed.fractureFree, [
      { index: 0, where: 'row 1', sopInstanceUid: SOP_A, split: 'region-test', annotator: 'dr-k' },
    ]);
    assert.deepEqual(
      parsed.rejects.map((r) => [r.where, r.reason]),
      [['row 2', 'fracture-free-conflict']],
    );
    assert.equal(parsed.entries.length, 1);
    assert.equal(parsed.total, 2);
  });

  it('rejects each kind of bad row with its row number and keeps the good rows around it', () => {
    const good = { sopInstanceUid: SOP_A, class: 'rib', box: [1, 2, 3, 4], split: 'region-test' };
    const parsed = parseAnnotationsJson(
      JSON.stringify([
        good,
        'not a row',
        { ...good, sopInstanceUid: '' },
        { ...good, class: 'other' },
        { ...good, box: [1, 2, 3] },
        { ...good, box: [5, 2, 3, 4] },
        { ...good, box: [1, 2, 3, 2] },
        { ...good, box: [1, 2, 'x', 4] },
        { ...good, split: 'record' },
        { ...good, box: [2, 3, 4, 5] },
      ]),
    );
    assert.equal(parsed.total, 10);
    assert.deepEqual(
      parsed.entries.map((e) => e.where),
      ['row 1', 'row 10'],
    );
    assert.deepEqual(reasons(parsed.rejects), [
      ['row 2', 'not-an-object'],
      ['row 3', 'missing-image'],
      ['row 4', 'unknown-class'],
      ['row 5', 'bad-box'],
      ['row 6', 'bad-box'],
      ['row 7', 'bad-box'],
      ['row 8', 'bad-box'],
      ['row 9', 'bad-split'],
    ]);
    assert.match(parsed.rejects[2]!.detail, /"other" is not rib or clavicle/);
  });

  it('accepts class names in any case and snake_case sop_instance_uid', () => {
    const parsed = parseAnnotationsJson(
      JSON.stringify([{ sop_instance_uid: SOP_A, class: 'Clavicle', box: [1, 2, 3, 4] }]),
    );
    assert.equal(parsed.entries[0]!.class, 'clavicle');
    assert.equal(parsed.entries[0]!.sopInstanceUid, SOP_A);
    assert.equal(parsed.entries[0]!.split, undefined);
  });

  it('fails the whole file when it is not JSON or not an array', () => {
    assert.throws(() => parseAnnotationsJson('[{"sopInstanceUid":'), AnnotationFileError);
    assert.throws(
      () => parseAnnotationsJson('{"images":[],"annotations":[]}'),
      (err: Error) => err instanceof AnnotationFileError && /--format coco/.test(err.message),
    );
  });
});

const cocoDoc = (extra: { images?: unknown[]; annotations?: unknown[]; categories?: unknown[] } = {}) => ({
  images: [
    {
      id: 1,
      file_name: `dicom/${SOP_A}.dcm`,
      width: 128,
      height: 100,
      sop_instance_uid: SOP_A,
      split: 'region-train',
    },
    // no sop_instance_uid: the SOP comes from file_name (dicom/<sop>.dcm)
    { id: 2, file_name: `dicom/${SOP_B}.dcm`, width: 128, height: 128, split: 'region-test' },
    { id: 3, file_name: 'scan-0003.png', width: 128, height: 128, split: 'region-test' },
    { id: 4, file_name: 'dicom/2.25.4.dcm', width: 128, height: 128, split: 'held-out' },
    ...(extra.images ?? []),
  ],
  categories: extra.categories ?? [
    { id: 1, name: 'rib', supercategory: 'fracture' },
    { id: 2, name: 'clavicle', supercategory: 'fracture' },
    { id: 3, name: 'other', supercategory: 'fracture' },
  ],
  annotations: extra.annotations ?? [],
});

describe('annotations.coco.json (the synth layout)', () => {
  it('maps images to SOP UIDs (sop_instance_uid, else dicom/<sop>.dcm), categories by name, bbox to corners', () => {
    const parsed = parseCocoAnnotations(
      JSON.stringify(
        cocoDoc({
          annotations: [
            { id: 7, image_id: 1, category_id: 1, bbox: [10, 20, 15, 5], split: 'region-train' },
            { id: 8, image_id: 2, category_id: 2, bbox: [0.1, 0.2, 0.2, 0.1], annotator: 'dr-k' },
          ],
        }),
      ),
    );
    // images 3 and 4 have no annotation, so they would be fracture-free images: unusable ones are refused
    assert.deepEqual(
      parsed.rejects.map((r) => [r.where, r.reason]),
      [
        ['image 3 (id 3)', 'missing-image'],
        ['image 4 (id 4)', 'bad-split'],
      ],
    );
    assert.deepEqual(parsed.fractureFree, []);
    assert.equal(parsed.total, 2);
    assert.deepEqual(parsed.entries, [
      {
        index: 0,
        where: 'annotation 1 (id 7)',
        sopInstanceUid: SOP_A,
        class: 'rib',
        box: [10, 20, 25, 25],
        split: 'region-train',
        stated: { rows: 100, columns: 128 },
      },
      {
        index: 1,
        where: 'annotation 2 (id 8)',
        sopInstanceUid: SOP_B,
        class: 'clavicle',
        // 0.1 + 0.2 is 0.30000000000000004 in binary: kept at the decimal the tool meant
        box: [0.1, 0.2, 0.3, 0.3],
        split: 'region-test',
        annotator: 'dr-k',
        stated: { rows: 128, columns: 128 },
      },
    ]);
  });

  it('records every listed image without an annotation as reviewed and fracture-free, with its split', () => {
    const parsed = parseCocoAnnotations(
      JSON.stringify(
        cocoDoc({ annotations: [{ id: 7, image_id: 1, category_id: 1, bbox: [10, 20, 15, 5] }] }),
      ),
    );
    assert.deepEqual(parsed.fractureFree, [
      {
        index: 2, // after the file's annotations, in image order
        where: 'image 2 (id 2)',
        sopInstanceUid: SOP_B,
        split: 'region-test',
        stated: { rows: 128, columns: 128 },
      },
    ]);
  });

  it('rejects each kind of bad annotation with its number and id, keeping the good ones', () => {
    const parsed = parseCocoAnnotations(
      JSON.stringify(
        cocoDoc({
          annotations: [
            { id: 1, image_id: 1, category_id: 1, bbox: [1, 1, 2, 2] },
            null,
            { id: 3, image_id: 99, category_id: 1, bbox: [1, 1, 2, 2] },
            { id: 4, image_id: 3, category_id: 1, bbox: [1, 1, 2, 2] },
            { id: 5, image_id: 1, category_id: 3, bbox: [1, 1, 2, 2] },
            { id: 6, image_id: 1, category_id: 9, bbox: [1, 1, 2, 2] },
            { id: 7, image_id: 1, category_id: 1, bbox: [1, 1, 0, 2] },
            { id: 8, image_id: 1, category_id: 1, bbox: [1, 1, 2] },
            { id: 9, image_id: 4, category_id: 1, bbox: [1, 1, 2, 2] },
            { id: 10, image_id: 1, category_id: 1, bbox: [1, 1, 2, 2], split: 'region-test' },
            { id: 11, image_id: 2, category_id: 2, bbox: [3, 3, 2, 2] },
          ],
        }),
      ),
    );
    assert.deepEqual(
      parsed.entries.map((e) => e.where),
      ['annotation 1 (id 1)', 'annotation 11 (id 11)'],
    );
    assert.deepEqual(reasons(parsed.rejects), [
      ['annotation 2', 'not-an-object'],
      ['annotation 3 (id 3)', 'missing-image'],
      ['annotation 4 (id 4)', 'missing-image'],
      ['annotation 5 (id 5)', 'unknown-class'],
      ['annotation 6 (id 6)', 'unknown-class'],
      ['annotation 7 (id 7)', 'bad-box'],
      ['annotation 8 (id 8)', 'bad-box'],
      ['annotation 9 (id 9): its image', 'bad-split'],
      ['annotation 10 (id 10)', 'split-conflict'],
    ]);
  });

  it('fails the whole file when it is not COCO-shaped or an image id repeats', () => {
    assert.throws(() => parseCocoAnnotations('[]'), /--format json/);
    assert.throws(() => parseCocoAnnotations('{"images":[],"categories":[]}'), /no "annotations" array/);
    assert.throws(
      () => parseCocoAnnotations(JSON.stringify(cocoDoc({ images: [{ id: 1, file_name: 'x.dcm' }] }))),
      /id 1 appears twice/,
    );
  });
});

describe('cohort manifest geometry', () => {
  it('reads rows and columns per SOP Instance UID and fails on a broken line with its number', () => {
    const text = [
      JSON.stringify({ sopInstanceUid: SOP_A, rows: 100, columns: 128, split: 'region-train' }),
      '',
      JSON.stringify({ sopInstanceUid: SOP_B, rows: 64, columns: 64 }),
    ].join('\n');
    assert.deepEqual(
      [...readManifestGeometry(text)],
      [
        [SOP_A, { rows: 100, columns: 128 }],
        [SOP_B, { rows: 64, columns: 64 }],
      ],
    );
    assert.throws(
      () => readManifestGeometry(`${text}\n{"sopInstanceUid":"x","rows":0,"columns":5}`),
      /manifest.jsonl line 4/,
    );
  });
});
