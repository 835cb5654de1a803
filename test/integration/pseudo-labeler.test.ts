import { DETECTOR_CLASSES } from '../../services/shared/vocabulary.ts';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DLQ_HEADERS } from '../../services/shared/kafka/dlq.ts';
import { dequantiseTarget } from '../../services/shared/aals/target-encoding.ts';
import type { RunningPseudoLabeler } from '../../services/pseudo-labeler/service.ts';
import { readDicomModelInput } from '../../services/shared/imaging/index.ts';
import { quantiseInput } from '../../services/shared/training-store/model-input-bytes.ts';
import { findStoredInputs } from '../../services/shared/training-store/training-store-index.ts';
import { openTrainingStore } from '../../services/shared/training-store/training-store.ts';
import { waitFor } from '../support/report-labeler.ts';
import {
  dicomArrivedFor,
  PseudoLabelerHarness,
  removeCohort,
  reportLabelFor,
  writeTestCohort,
  type TestCohort,
} from '../support/pseudo-labeler.ts';

interface Row {
  sop_instance_uid: string;
  class: string;
  record_status: string;
  target_method: string;
  report_status: string;
  target: Buffer;
  target_height: number;
  target_width: number;
  teacher_score: number;
  target_max: number;
  aals_t: number;
  aals_a0: number;
  aals_eps: number;
}

describe('pseudo-labeler on the real stack', () => {
  const h = new PseudoLabelerHarness();
  let cohort: TestCohort;
  let service: RunningPseudoLabeler;

  before(async () => {
    cohort = await writeTestCohort(14);
    await h.setUp();
    service = await h.start({ PSEUDO_LABELER_INFERENCE_BATCH_SIZE: '4', PSEUDO_LABELER_MAX_QUEUE: '4' });
  });
  after(async () => {
    await h.tearDown();
    await removeCohort(cohort);
  });

  const rowsOf = async (sops: string[]): Promise<Row[]> =>
    (
      await h.pool.query<Row>(
        `SELECT sop_instance_uid, class, record_status, target_method, report_status, target, target_height,
           target_width, teacher_score, target_max, aals_t, aals_a0, aals_eps
         FROM pseudo_labels WHERE sop_instance_uid = ANY($1) ORDER BY sop_instance_uid, class`,
        [sops],
      )
    ).rows;

  /** Every image has the target its report label calls for: AALS map, zero map, or none (uncertain). */
  function assertTargets(images: TestCohort['images'], rows: Row[]): void {
    for (const m of images) {
      for (const cls of DETECTOR_CLASSES) {
        const row = rows.find((r) => r.sop_instance_uid === m.sopInstanceUid && r.class === cls);
        const label = m.reportLabel[cls];
        const where = `${cls} of an image labelled ${label}`;
        if (label === 'uncertain') {
          assert.equal(row, undefined, `${where}: skipped`);
          continue;
        }
        assert.ok(row, `${where}: has a row`);
        assert.equal(row.record_status, label, where);
        const target = dequantiseTarget(row.target, row.target_height, row.target_width);
        assert.equal(target.length, 16 * 16, 'the teacher output size (64 / 4)');
        assert.ok(row.teacher_score > 0 && row.teacher_score < 1, `${where}: teacher score is a probability`);
        if (label === 'negative') {
          assert.equal(row.target_method, 'zero', where);
          assert.ok(
            target.every((v) => v === 0),
            `${where}: all-zero target`,
          );
          assert.equal(row.target_max, 0);
        } else {
          assert.equal(row.target_method, 'aals', where);
          assert.deepEqual([row.aals_t, row.aals_a0, row.aals_eps], [0.4, 4, 1e-6]);
          // AALS never lowers the teacher: the target's max is at least the teacher's score
          assert.ok(row.target_max >= row.teacher_score - 1e-6, `${where}: target max >= teacher score`);
          assert.ok(
            target.some((v) => v > 0),
            `${where}: a non-zero map`,
          );
        }
      }
    }
  }

  it('labels every image with the right kind of target in both arrival orders', async () => {
    const images = cohort.images;
    const half = Math.ceil(images.length / 2);
    const reportFirst = images.slice(0, half);
    const imageFirst = images.slice(half);
    const labelOf = (m: (typeof images)[number]) => reportLabelFor(m.accession, m.reportLabel);
    const uniqueByAccession = (ms: typeof images) => [...new Map(ms.map((m) => [m.accession, m])).values()];

    // report first: the labels are stored (nothing to join yet), then the images arrive
    await h.produceLabels(uniqueByAccession(reportFirst).map(labelOf));
    await waitFor(
      'labels stored',
      async () => (await h.count('SELECT count(*) FROM study_record_labels')) > 0,
    );
    await h.produceImages(reportFirst.map((m) => dicomArrivedFor(cohort.dir, m)));

    // image first: the images wait in Postgres, then their reports arrive and trigger them
    const onlyImageFirst = uniqueByAccession(imageFirst).filter(
      (m) => !reportFirst.some((r) => r.accession === m.accession),
    );
    await h.produceImages(imageFirst.map((m) => dicomArrivedFor(cohort.dir, m)));
    await waitFor(
      'image-first arrivals stored',
      async () =>
        (await h.count('SELECT count(*) FROM images WHERE sop_instance_uid = ANY($1)', [
          imageFirst.map((m) => m.sopInstanceUid),
        ])) === imageFirst.length,
    );
    assert.equal(
      await h.count('SELECT count(*) FROM pseudo_labels WHERE accession = ANY($1)', [
        onlyImageFirst.map((m) => m.accession),
      ]),
      0,
      'images without a report wait',
    );
    await h.produceLabels(onlyImageFirst.map(labelOf));

    const expected = images.reduce(
      (n, m) => n + DETECTOR_CLASSES.filter((c) => m.reportLabel[c] !== 'uncertain').length,
      0,
    );
    await waitFor(
      'every expected pseudo-label',
      async () => (await h.count('SELECT count(*) FROM pseudo_labels')) === expected,
    );
    assertTargets(images, await rowsOf(images.map((m) => m.sopInstanceUid)));
    const kinds = new Set(images.flatMap((m) => DETECTOR_CLASSES.map((c) => m.reportLabel[c])));
    assert.ok(kinds.has('positive') && kinds.has('negative'), 'the cohort has positive and negative labels');

    await waitFor('one event per label', () => h.events.length >= expected);
    assert.equal(h.events.length, expected);
    const e = h.events[0]!;
    assert.equal(e.modelVersion, 'parity-teacher-1');
    assert.deepEqual([e.stats.height, e.stats.width], [16, 16]);

    // redelivered inputs change nothing (idempotent by image, class and model version)
    await h.produceImages(reportFirst.slice(0, 2).map((m) => dicomArrivedFor(cohort.dir, m)));
    await h.produceLabels([labelOf(reportFirst[0]!)]);
    const fence = cohort.images[0]!;
    await h.produceLabels([reportLabelFor('ACC-FENCE-1', fence.reportLabel)]);
    await waitFor(
      'the fence label',
      async () =>
        (await h.count(`SELECT count(*) FROM study_record_labels WHERE accession = 'ACC-FENCE-1'`)) === 1,
    );
    assert.equal(await h.count('SELECT count(*) FROM pseudo_labels'), expected);
    assert.equal(await h.count('SELECT count(*) FROM pseudo_labels_superseded'), 0);
    assert.equal(h.events.length, expected, 'no event for a duplicate');
  });

  it('keeps the exact model input of every labelled image in the training store, indexed in Postgres', async () => {
    const labelled = cohort.images.filter((m) =>
      DETECTOR_CLASSES.some((c) => m.reportLabel[c] !== 'uncertain'),
    );
    assert.equal(
      await h.count(`SELECT count(*) FROM training_inputs WHERE preprocessing_version = 'fh1-64x64-u8'`),
      labelled.length,
    );
    const store = openTrainingStore(h.trainingStore);
    const refs = await findStoredInputs(
      h.pool,
      labelled.map((m) => m.sopInstanceUid),
      'fh1-64x64-u8',
    );
    for (const m of labelled.slice(0, 3)) {
      const stored = await store.read(refs.get(m.sopInstanceUid)!);
      const decoded = await readDicomModelInput(path.join(cohort.dir, m.file), { size: 64 });
      assert.deepEqual([...stored], [...quantiseInput(decoded.pixels)], 'the bytes the teacher saw');
      assert.deepEqual(
        [refs.get(m.sopInstanceUid)!.sourceRows, refs.get(m.sopInstanceUid)!.sourceColumns],
        [decoded.meta.rows, decoded.meta.columns],
      );
    }
    // the teacher it started with is the active model, with what the gate needs to evaluate it
    const { rows } = await h.pool.query(
      `SELECT version, status, input_size, output_stride, mode, artefact_uri LIKE 'file://%' AS file
       FROM model_versions`,
    );
    assert.deepEqual(rows, [
      {
        version: 'parity-teacher-1',
        status: 'active',
        input_size: 64,
        output_stride: 4,
        mode: 'teacher',
        file: true,
      },
    ]);
  });

  it('recomputes a study when a corrected report changes a label, keeping the history', async () => {
    const m = cohort.images.find((i) => i.reportLabel.rib !== 'uncertain')!;
    const before = (await rowsOf([m.sopInstanceUid])).find((r) => r.class === 'rib')!;
    const flipped = before.record_status === 'positive' ? 'negative' : 'positive';
    const eventsBefore = h.events.length;

    await h.produceLabels([
      reportLabelFor(
        m.accession,
        { ...m.reportLabel, rib: flipped },
        { status: 'C', observedAt: Date.UTC(2024, 0, 2) },
      ),
    ]);
    await waitFor('the corrected rib label', async () => {
      const rib = (await rowsOf([m.sopInstanceUid])).find((r) => r.class === 'rib');
      return rib?.report_status === 'C';
    });
    const rows = await rowsOf([m.sopInstanceUid]);
    const rib = rows.find((r) => r.class === 'rib')!;
    assert.equal(rib.record_status, flipped);
    assert.equal(rib.target_method, flipped === 'negative' ? 'zero' : 'aals');
    assert.ok(
      Math.abs(rib.teacher_score - before.teacher_score) < 1e-6,
      'same teacher, same image, same score',
    );
    const { rows: history } = await h.pool.query(
      `SELECT class, record_status, report_status, superseded_by_report_status FROM pseudo_labels_superseded
       WHERE sop_instance_uid = $1 AND class = 'rib'`,
      [m.sopInstanceUid],
    );
    assert.deepEqual(history, [
      {
        class: 'rib',
        record_status: before.record_status,
        report_status: 'F',
        superseded_by_report_status: 'C',
      },
    ]);

    // and back again with a later correction
    await h.produceLabels([
      reportLabelFor(m.accession, m.reportLabel, { status: 'C', observedAt: Date.UTC(2024, 0, 3) }),
    ]);
    await waitFor('the second correction', async () => {
      const { rows: hist } = await h.pool.query(
        `SELECT 1 FROM pseudo_labels_superseded WHERE sop_instance_uid = $1 AND class = 'rib'`,
        [m.sopInstanceUid],
      );
      return hist.length === 2;
    });
    const back = (await rowsOf([m.sopInstanceUid])).find((r) => r.class === 'rib')!;
    assert.equal(back.record_status, before.record_status);
    const reused = (await service.metrics.trainingInputs.get()).values.find(
      (v) => v.labels.source === 'store',
    );
    assert.ok((reused?.value ?? 0) >= 2, 'each correction read the input back from the training store');
    assert.deepEqual([...back.target], [...before.target], 'the same target as before the first correction');

    // a stale final arriving after the corrections changes nothing
    await h.produceLabels([
      reportLabelFor(
        m.accession,
        { ...m.reportLabel, rib: flipped },
        { status: 'F', observedAt: Date.UTC(2024, 0, 4) },
      ),
    ]);
    await waitFor('events of the two recomputations', () => h.events.length - eventsBefore >= 2 * 2);
    await h.produceLabels([reportLabelFor('ACC-FENCE-2', m.reportLabel)]);
    await waitFor(
      'the fence',
      async () =>
        (await h.count(`SELECT count(*) FROM study_record_labels WHERE accession = 'ACC-FENCE-2'`)) === 1,
    );
    assert.equal(
      (await rowsOf([m.sopInstanceUid])).find((r) => r.class === 'rib')!.record_status,
      before.record_status,
    );
  });

  it('dead-letters broken DICOM and undecodable events, and goes on', async () => {
    const good = cohort.images[0]!;
    const brokenFile = path.join(cohort.dir, 'dicom', 'broken.dcm');
    writeFileSync(
      brokenFile,
      Buffer.from('this is not a DICOM file, just text pretending to be one'.repeat(4)),
    );
    const broken = {
      ...dicomArrivedFor(cohort.dir, good),
      sopInstanceUid: '2.25.999001',
      accession: 'ACC-BROKEN-1',
      uri: pathToFileURL(brokenFile).href,
    };
    const missing = {
      ...broken,
      sopInstanceUid: '2.25.999002',
      uri: pathToFileURL(brokenFile + '.gone').href,
    };
    const s3 = { ...broken, sopInstanceUid: '2.25.999003', uri: 's3://pacs-bucket/2.25.999003.dcm' };
    const fine = {
      ...dicomArrivedFor(cohort.dir, good),
      sopInstanceUid: '2.25.999004',
      accession: 'ACC-BROKEN-1',
    };
    // a structured report announced by a PACS router: skipped (counted), neither an image nor a dead letter
    const report = { ...fine, sopInstanceUid: '2.25.999005', sopClassUid: '1.2.840.10008.5.1.4.1.1.88.22' };
    const lettersBefore = h.deadLetters.length;

    await h.send(h.dicomTopic, [{ key: 'junk', value: 'not avro at all' }]);
    await h.send(h.labelsTopic, [{ key: 'junk', value: Buffer.from([0, 0, 0, 0x7f, 0x7f, 1, 2, 3]) }]);
    await h.produceImages([broken, missing, s3, report, fine]);
    await h.produceLabels([reportLabelFor('ACC-BROKEN-1', { rib: 'negative', clavicle: 'negative' })]);

    await waitFor('five dead letters', () => h.deadLetters.length - lettersBefore >= 5);
    await waitFor(
      'the good image of the same study labelled',
      async () =>
        (await h.count(`SELECT count(*) FROM pseudo_labels WHERE sop_instance_uid = '2.25.999004'`)) === 2,
    );
    const letters = h.deadLetters.slice(lettersBefore);
    const reasons = letters.map(
      (l) => `${l.topic === h.dicomTopic + '.dlq' ? 'dicom' : 'labels'}:${l.headers[DLQ_HEADERS.reason]}`,
    );
    assert.deepEqual(reasons.sort(), [
      'dicom:not-avro',
      'dicom:not-dicom',
      'dicom:not-found',
      'dicom:storage-not-configured',
      'labels:unknown-schema',
    ]);
    const dicomLetter = letters.find((l) => l.headers[DLQ_HEADERS.reason] === 'not-dicom')!;
    assert.equal(dicomLetter.headers[DLQ_HEADERS.sourceTopic], h.dicomTopic);
    assert.equal(dicomLetter.headers[DLQ_HEADERS.stage], 'pseudo-labeler/read-image');
    assert.equal(
      (await h.registry.decode(dicomLetter.value!)).sopInstanceUid,
      '2.25.999001',
      'the original event',
    );
    const { rows } = await h.pool.query(
      `SELECT sop_instance_uid, failed_reason FROM images WHERE sop_instance_uid LIKE '2.25.99900%' ORDER BY 1`,
    );
    assert.deepEqual(
      rows.map((r) => [r.sop_instance_uid, r.failed_reason]),
      [
        ['2.25.999001', 'not-dicom'],
        ['2.25.999002', 'not-found'],
        ['2.25.999003', 'storage-not-configured'],
        ['2.25.999004', null],
      ],
      'the structured report (2.25.999005) is not recorded as an image',
    );
  });

  it('lists confident teacher scores on record-negative images in the discordance view', async () => {
    const { rows } = await h.pool.query<{ teacher_score: number }>(
      `SELECT teacher_score FROM pseudo_labels WHERE record_status = 'negative' ORDER BY teacher_score`,
    );
    const median = rows[Math.floor(rows.length / 2)]!.teacher_score;
    await h.pool.query('UPDATE discordance_settings SET teacher_score_threshold = $1', [median]);
    const listed = await h.count('SELECT count(*) FROM discordant_images');
    assert.equal(listed, rows.filter((r) => r.teacher_score > median).length);
    assert.equal(await h.count('SELECT count(*) FROM discordant_images_above(1)'), 0);
    assert.equal(
      await h.count('SELECT count(*) FROM discordant_images_above(0)'),
      rows.filter((r) => r.teacher_score > 0).length,
    );
  });
});
