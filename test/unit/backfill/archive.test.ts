import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  isDicomFileName,
  isHl7FileName,
  listArchiveFiles,
} from '../../../services/app/backfill/archive-files.ts';
import { archiveOffset } from '../../../services/app/backfill/archive-keys.ts';
import { ArchiveImageError, dicomArrivalFromFile } from '../../../services/app/backfill/dicom-arrival.ts';
import { CohortPlanner, DEFAULT_COHORT_OPTIONS } from '../../../tools/synth/cohort.ts';
import { generateStudy } from '../../../tools/synth/study-output.ts';

describe('archive keys', () => {
  it('gives the same message the same non-negative 63-bit ledger offset, and different messages different ones', () => {
    const a = archiveOffset(Buffer.from('MSH|^~\\&|A\r'));
    assert.equal(a, archiveOffset(Buffer.from('MSH|^~\\&|A\r')));
    assert.notEqual(a, archiveOffset(Buffer.from('MSH|^~\\&|B\r')));
    const v = BigInt(a);
    assert.ok(v >= 0n && v < 2n ** 63n);
  });
});

describe('archive files', () => {
  it('walks a folder recursively in a stable order, skipping hidden entries and other extensions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-archive-'));
    try {
      mkdirSync(join(dir, 'b', 'c'), { recursive: true });
      mkdirSync(join(dir, '.hidden'));
      for (const f of ['b/c/2.dcm', 'b/1.DCM', 'a', 'notes.txt', '.hidden/x.dcm', 'r.hl7', 'b/s.HL7']) {
        writeFileSync(join(dir, f), 'x');
      }
      assert.deepEqual(
        (await listArchiveFiles(dir, isDicomFileName, 'DICOM')).map((f) => f.slice(dir.length + 1)),
        ['a', 'b/1.DCM', 'b/c/2.dcm'],
      );
      assert.deepEqual(
        (await listArchiveFiles(dir, isHl7FileName, 'reports')).map((f) => f.slice(dir.length + 1)),
        ['b/s.HL7', 'r.hl7'],
      );
      assert.deepEqual(await listArchiveFiles(join(dir, 'notes.txt'), isHl7FileName, 'reports'), [
        join(dir, 'notes.txt'),
      ]);
      await assert.rejects(listArchiveFiles(join(dir, 'missing'), isHl7FileName, 'reports'), {
        message: /reports .*missing cannot be read \(ENOENT\)/,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DicomArrived from a stored file', () => {
  it('reads identity, geometry and encoding from the header, as a PACS router would announce it', () => {
    const options = {
      ...DEFAULT_COHORT_OPTIONS,
      studies: 3,
      seed: 'arrival',
      size: 128,
      regionTrain: 0,
      regionTest: 0,
    };
    const planner = new CohortPlanner(options);
    const out = generateStudy(planner.study(0), planner.seed, options.size);
    const m = out.manifest[0]!;
    const file = out.files.find((f) => f.path === m.file)!;
    const event = dicomArrivalFromFile(
      new Uint8Array(file.bytes),
      { uri: 'file:///a.dcm', sizeBytes: 1, sha256: 'h' },
      0,
    );
    assert.equal(event.sopInstanceUid, m.sopInstanceUid);
    assert.equal(event.studyInstanceUid, m.studyInstanceUid);
    assert.equal(event.seriesInstanceUid, m.seriesInstanceUid);
    assert.equal(event.accession, m.accession);
    assert.equal(event.modality, m.modality);
    assert.equal(event.viewPosition, m.viewPosition);
    assert.equal(event.rows, m.rows);
    assert.equal(event.columns, m.columns);
    assert.equal(event.photometricInterpretation, m.photometricInterpretation);
    assert.equal(event.transferSyntaxUid, m.transferSyntaxUid);
    assert.equal(event.patientPseudonym, null, 'no patient id leaves the archive path');
    assert.ok(event.arrivedAt > 0, 'the study date and time from the header');
    assert.equal(event.uri, 'file:///a.dcm');
  });

  it('refuses bytes that are not DICOM with a reason', () => {
    assert.throws(
      () => dicomArrivalFromFile(new Uint8Array(300), { uri: 'file:///x', sizeBytes: 300, sha256: 'h' }, 0),
      (err: unknown) => err instanceof ArchiveImageError && err.reason === 'not-dicom',
    );
  });
});
