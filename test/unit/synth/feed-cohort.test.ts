import { readDicomArrivalHeader } from '../../../services/shared/imaging/dicom-arrival-header.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { writeCohort } from '../../../tools/synth/write-cohort.ts';
import { readFeedableCohort } from '../../../services/app/feedable-cohort.ts';
import { DEFAULT_COHORT_OPTIONS } from '../../../tools/synth/cohort.ts';
import { dicomArrivedRecord } from '../../../tools/synth/dicom-arrival.ts';
import { loadEventSchema } from '../../../services/shared/events/catalog.ts';

let root: string;
let dir: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'fh-feed-cohort-'));
  dir = join(root, 'cohort');
  await writeCohort(dir, {
    ...DEFAULT_COHORT_OPTIONS,
    studies: 12,
    seed: 'feed',
    size: 128,
    regionTrain: 1,
    regionTest: 1,
    compressedFraction: 0.5,
    prelimRate: 0.5,
  });
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the cohort to break in one way. */
function copy(name: string): string {
  const target = join(root, name);
  cpSync(dir, target, { recursive: true });
  return target;
}

test('reads every image with its arrival header and every report with its key', async () => {
  const cohort = await readFeedableCohort(dir);
  const manifest = readFileSync(join(dir, 'manifest.jsonl'), 'utf8').trim().split('\n');
  const reportLines = readFileSync(join(dir, 'reports.jsonl'), 'utf8').trim().split('\n');
  assert.equal(cohort.images.length, manifest.length);
  assert.equal(cohort.reports.length, reportLines.length);
  for (const im of cohort.images) {
    assert.equal(fileURLToPath(im.uri), join(dir, im.manifest.file));
    assert.equal(im.sizeBytes, readFileSync(join(dir, im.manifest.file)).length);
    assert.equal(im.header.sopInstanceUid, im.manifest.sopInstanceUid);
    assert.equal(im.header.bodyPartExamined, 'CHEST');
    assert.equal(im.header.bitsAllocated, 16);
    assert.ok(im.header.bitsStored >= 12 && im.header.bitsStored <= 16);
    assert.equal(
      im.header.sopClassUid,
      im.manifest.modality === 'CR' ? '1.2.840.10008.5.1.4.1.1.1' : '1.2.840.10008.5.1.4.1.1.1.1',
    );
    assert.equal(im.header.pixelSpacing?.length, 2);
    // the report is written 10 to 60 minutes after the study (OBR-22 of the first version)
    const first = cohort.reports.find((r) => r.line.accession === im.manifest.accession)!;
    const lag = Date.parse(first.line.time) - im.header.studyTime!;
    assert.ok(lag >= 10 * 60_000 - 1000 && lag <= 60 * 60_000 + 1000, `report ${lag} ms after the study`);
  }
  for (const r of cohort.reports) {
    assert.equal(r.key, `SYNTH_HOSP|${r.line.messageControlId}`);
    assert.ok(r.raw.toString('latin1').startsWith('MSH|'));
  }
});

test('the DicomArrived record of a cohort image is valid against schemas/DicomArrived.avsc', async () => {
  const cohort = await readFeedableCohort(dir);
  const type = avro.Type.forSchema(loadEventSchema('DicomArrived') as avro.Schema);
  for (const im of cohort.images) {
    const record = dicomArrivedRecord(
      im.manifest,
      im.header,
      { uri: im.uri, sizeBytes: 1, sha256: 'ab' },
      1_600_000_000_000,
      null,
    );
    const errors: string[] = [];
    assert.ok(type.isValid(record, { errorHook: (path) => errors.push(path.join('.')) }), errors.join(', '));
    assert.equal(record.accession, im.manifest.accession);
    assert.equal(record.transferSyntaxUid, im.manifest.transferSyntaxUid);
  }
});

test('a header cut before the pixel data is refused, so the caller reads the whole file', () => {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.jsonl'), 'utf8').split('\n')[0]!) as { file: string };
  const bytes = readFileSync(join(dir, m.file));
  assert.throws(() => readDicomArrivalHeader(bytes.subarray(0, 300)), /not a readable DICOM header/);
  assert.throws(() => readDicomArrivalHeader(Buffer.from('not dicom at all')), /not a readable DICOM header/);
});

test('a missing directory, manifest or DICOM file, or mismatched reports, get a clear error', async () => {
  await assert.rejects(readFeedableCohort(join(root, 'nowhere')), /cohort directory .*nowhere not found/);
  const noManifest = copy('no-manifest');
  unlinkSync(join(noManifest, 'manifest.jsonl'));
  await assert.rejects(
    readFeedableCohort(noManifest),
    /manifest\.jsonl not found: is .* a cohort written by harvester synth/,
  );

  const noFile = copy('no-file');
  const first = JSON.parse(readFileSync(join(noFile, 'manifest.jsonl'), 'utf8').split('\n')[0]!) as {
    file: string;
  };
  unlinkSync(join(noFile, first.file));
  await assert.rejects(readFeedableCohort(noFile), /1 DICOM file\(s\) listed in manifest\.jsonl are missing/);

  const badJson = copy('bad-json');
  writeFileSync(
    join(badJson, 'manifest.jsonl'),
    readFileSync(join(badJson, 'manifest.jsonl'), 'utf8') + '{oops\n',
  );
  await assert.rejects(readFeedableCohort(badJson), /manifest\.jsonl line \d+ is not JSON/);

  const fewerLines = copy('fewer-lines');
  const lines = readFileSync(join(fewerLines, 'reports.jsonl'), 'utf8').trim().split('\n');
  writeFileSync(join(fewerLines, 'reports.jsonl'), lines.slice(1).join('\n') + '\n');
  await assert.rejects(
    readFeedableCohort(fewerLines),
    /reports\.hl7 holds \d+ message\(s\) but reports\.jsonl \d+ line\(s\)/,
  );

  const swapped = copy('swapped');
  writeFileSync(join(swapped, 'reports.jsonl'), [lines[1], lines[0], ...lines.slice(2)].join('\n') + '\n');
  await assert.rejects(
    readFeedableCohort(swapped),
    /reports\.hl7 message 1 has MSH-10 .*, reports\.jsonl line 1 says/,
  );
});
