import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackfillSummary } from '../../../services/app/backfill/backfill.ts';
import { formatBackfillSummary } from '../../../services/app/backfill/format-summary.ts';
import type { HeldOutMetrics } from '../../../services/shared/distill/evaluate-onnx.ts';
import { pngDataUri } from '../../../services/demo/png-data-uri.ts';
import { renderDemoReport, type DemoReportData } from '../../../services/demo/render-report.ts';
import { PNG } from 'pngjs';

const summary: BackfillSummary = {
  modelVersion: 'teacher-v1',
  interrupted: false,
  seconds: 12.3,
  reports: {
    files: 1,
    messages: 10,
    alreadyDone: 2,
    stored: 7,
    versions: 7,
    skipped: { 'not-chest-radiograph': 1 },
    failed: {},
  },
  images: { files: 9, alreadyDone: 0, recorded: 8, failed: { 'not-dicom': 1 }, skipped: {} },
  pseudoLabels: {
    studies: 6,
    images: 8,
    inferred: 8,
    written: { 'rib/aals': 2, 'rib/zero': 6, 'clavicle/zero': 8 },
    superseded: 0,
    withdrawn: 0,
    stale: 0,
    failed: {},
  },
  totals: {
    reports: 6,
    labels: { 'rib/positive': 2, 'rib/negative': 4, 'clavicle/negative': 6, 'other/negative': 6 },
    images: 8,
    imagesFailed: 0,
    imagesWaitingForReport: 0,
    pseudoLabels: { 'rib/aals': 2, 'rib/zero': 6, 'clavicle/zero': 8 },
  },
};

const metrics = (auroc: number): HeldOutMetrics => ({
  images: 10,
  frocRates: [0.125, 0.25, 0.5, 1, 2, 4, 8],
  suppressionRadius: 2,
  stride: 4,
  split: 'region-test',
  rib: { auroc, froc: 0.5, frocSensitivities: [0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8], positives: 4, boxes: 5 },
  clavicle: {
    auroc: null,
    froc: null,
    frocSensitivities: [null, null, null, null, null, null, null],
    positives: 0,
    boxes: 0,
  },
});

const data = (over: Partial<DemoReportData> = {}): DemoReportData => ({
  generatedAt: new Date('2026-01-01T00:00:00Z'),
  cohort: { studies: 6, images: 8, reports: 10, regionTrain: 1, regionTest: 2, seed: 'demo' },
  steps: [{ name: 'backfill', seconds: 12.3 }],
  backfill: summary,
  databaseDir: '/tmp/db',
  teacher: { version: 'teacher-<v1>', path: 'models/teacher/teacher.onnx', metrics: metrics(0.8) },
  aals: { t: 0.4, a0: 4, eps: 1e-6 },
  student: { ran: false, reason: 'PyTorch is not importable: apt-get install python3-torch' },
  prevalence: [
    {
      month: '2020-01',
      class: 'rib',
      reports: 3,
      positive: 1,
      uncertain: 0,
      negative: 2,
      positiveRate: 1 / 3,
    },
    {
      month: '2020-02',
      class: 'rib',
      reports: 3,
      positive: 1,
      uncertain: 0,
      negative: 2,
      positiveRate: 1 / 3,
    },
  ],
  byView: [],
  recordVsTeacher: [],
  scoreHistogram: [],
  models: [],
  samples: [],
  sql: ['SELECT 1 FROM analytics_prevalence_monthly WHERE x < 2'],
  commands: ['harvester demo'],
  ...over,
});

describe('demo report', () => {
  it('is one self-contained page with every section, values escaped, no scripts', () => {
    const html = renderDemoReport(data());
    for (const id of ['prevalence', 'labels', 'samples', 'metrics', 'sql'])
      assert.match(html, new RegExp(`id="${id}"`));
    assert.match(html, /teacher-&lt;v1&gt;/);
    assert.doesNotMatch(html, /teacher-<v1>/);
    assert.match(html, /WHERE x &lt; 2/);
    assert.doesNotMatch(html, /<script/);
    assert.match(html, /2020 Q1/, 'months are summed to quarters in the chart');
  });

  it('says why there is no student and how to install PyTorch', () => {
    assert.match(
      renderDemoReport(data()),
      /class="warning">No student was trained: PyTorch is not importable: apt-get install python3-torch/,
    );
  });

  it('says plainly whether the student beats the teacher', () => {
    const html = renderDemoReport(
      data({
        student: { ran: true, version: 's1', path: 's.onnx', epochs: 1, seconds: 5, metrics: metrics(0.6) },
      }),
    );
    assert.match(html, /It beats the teacher on AUROC and FROC for neither class/);
  });
});

describe('demo images', () => {
  it('encodes a map as a PNG data URI of the scaled size', () => {
    const uri = pngDataUri(new Float32Array([0, 0.5, 1, 0.25]), 2, 2, 'heat', 3);
    const png = PNG.sync.read(Buffer.from(uri.slice('data:image/png;base64,'.length), 'base64'));
    assert.equal(png.width, 6);
    assert.equal(png.height, 6);
    assert.throws(() => pngDataUri([1, 2, 3], 2, 2, 'grey'), RangeError);
  });
});

describe('backfill summary', () => {
  it('lists what the run did and what the database holds, with reasons', () => {
    const text = formatBackfillSummary(summary);
    assert.match(text, /^backfill finished in 12\.3 s; teacher teacher-v1/);
    assert.match(
      text,
      /HL7 messages {3}10 in 1 file\(s\): 7 stored \(7 report versions\), 1 skipped \(not-chest-radiograph 1\), 0 failed, 2 already done/,
    );
    assert.match(text, /DICOM files {4}9: 8 recorded, 0 skipped, 1 failed \(not-dicom 1\)/);
    assert.match(text, /pseudo-labels {2}16 written \(clavicle\/zero 8, rib\/aals 2, rib\/zero 6\)/);
    assert.match(
      formatBackfillSummary({ ...summary, interrupted: true }),
      /INTERRUPTED \(run the same command again to resume\)/,
    );
  });
});
