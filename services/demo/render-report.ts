import type { BackfillSummary } from '../app/backfill/backfill.ts';
import type { Counts } from '../app/backfill/counts.ts';
import type { HeldOutMetrics } from '../shared/distill/evaluate-onnx.ts';
import type {
  LabelCounts,
  ModelHistoryEntry,
  MonthlyPrevalence,
  RecordVsTeacher,
  ScoreHistogramBin,
} from '../app/analytics/queries.ts';
import { CLASS_COLORS } from '../app/analytics/dashboard/render-dashboard.ts';
import { escapeHtml } from '../app/analytics/dashboard/escape-html.ts';
import { groupedBars, lineChart } from '../app/analytics/dashboard/svg-charts.ts';
import type { SampleImage } from './sample-images.ts';

/** Everything the demo report shows; rendering is pure (data in, one HTML string out). */
export interface DemoReportData {
  generatedAt: Date;
  cohort: {
    studies: number;
    images: number;
    reports: number;
    regionTrain: number;
    regionTest: number;
    seed: string;
  };
  steps: Array<{ name: string; seconds: number }>;
  backfill: BackfillSummary;
  databaseDir: string;
  teacher: { version: string; path: string; metrics: HeldOutMetrics };
  aals: { t: number; a0: number; eps: number };
  student:
    | { ran: true; version: string; path: string; epochs: number; metrics: HeldOutMetrics; seconds: number }
    | { ran: false; reason: string };
  prevalence: MonthlyPrevalence[];
  byView: LabelCounts[];
  recordVsTeacher: RecordVsTeacher[];
  scoreHistogram: ScoreHistogramBin[];
  models: ModelHistoryEntry[];
  samples: SampleImage[];
  sql: string[];
  commands: string[];
}

const e = (v: unknown) => escapeHtml(String(v));
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const fixed = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? 'n/a' : v.toFixed(d));
const STATUS_ORDER = ['positive', 'uncertain', 'negative'];

function table(head: string[], rows: Array<Array<string | number>>, cls = ''): string {
  return (
    `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`
  );
}

function countOf(counts: Counts, key: string): number {
  return counts[key] ?? 0;
}

function prevalenceSection(d: DemoReportData): string {
  const totals = d.backfill.totals.labels;
  const classes = ['rib', 'clavicle', 'other'];
  const rows = classes.map((cls) => {
    const n = STATUS_ORDER.reduce((a, s) => a + countOf(totals, `${cls}/${s}`), 0);
    return [
      cls,
      n,
      ...STATUS_ORDER.map((s) => countOf(totals, `${cls}/${s}`)),
      n > 0 ? pct(countOf(totals, `${cls}/positive`) / n) : 'n/a',
    ];
  });
  // a few hundred studies over three years are a handful a month: the chart sums months to quarters
  const quarterOf = (month: string) =>
    `${month.slice(0, 4)} Q${Math.floor((Number(month.slice(5, 7)) - 1) / 3) + 1}`;
  const quarters = [...new Set(d.prevalence.map((p) => quarterOf(p.month)))].sort();
  const series = ['rib', 'clavicle'].map((cls) => ({
    name: `${cls} positive rate`,
    color: CLASS_COLORS[cls] ?? '#334155',
    values: quarters.map((q) => {
      const rows = d.prevalence.filter((p) => p.class === cls && quarterOf(p.month) === q);
      const reports = rows.reduce((a, p) => a + p.reports, 0);
      return reports > 0 ? rows.reduce((a, p) => a + p.positive, 0) / reports : null;
    }),
  }));
  const views = [...new Set(d.byView.map((v) => v.group))].sort();
  return `<section id="prevalence"><h2>Prevalence of report labels</h2>
<p>Current label of every chest radiograph report (final and corrected versions win over preliminary ones), by the
report rules. The synthetic hospital's prevalence is raised for the demo so that a few hundred studies hold enough
fractures to show.</p>
${table(['class', 'reports', 'positive', 'uncertain', 'negative', 'positive rate'], rows, 'prevalence')}
<figure>${lineChart({
    title: 'Positive rate per quarter',
    categories: quarters,
    series,
    yDomain: [0, Math.max(0.05, ...series.flatMap((s) => s.values.map((v) => v ?? 0)))],
    format: pct,
  })}<figcaption>Share of positive report labels per quarter (the months of analytics_prevalence_monthly summed;
final and corrected reports).</figcaption></figure>
${table(
  ['view position', 'class', 'reports', 'positive', 'uncertain', 'negative', 'positive rate'],
  views.flatMap((v) =>
    d.byView
      .filter((r) => r.group === v)
      .map((r) => [v, r.class, r.reports, r.positive, r.uncertain, r.negative, pct(r.positiveRate)]),
  ),
)}
</section>`;
}

function labelSection(d: DemoReportData): string {
  const t = d.backfill.totals;
  const labelChart = groupedBars({
    title: 'Report labels by class and status',
    categories: STATUS_ORDER,
    series: ['rib', 'clavicle', 'other'].map((cls) => ({
      name: cls,
      color: CLASS_COLORS[cls] ?? '#334155',
      values: STATUS_ORDER.map((s) => countOf(t.labels, `${cls}/${s}`)),
    })),
  });
  const kinds = ['aals', 'zero'];
  const pseudoChart = groupedBars({
    title: 'Pseudo-labels by class and target',
    categories: ['AALS target (record-positive)', 'zero target (record-negative)'],
    series: ['rib', 'clavicle'].map((cls) => ({
      name: cls,
      color: CLASS_COLORS[cls] ?? '#334155',
      values: kinds.map((k) => countOf(t.pseudoLabels, `${cls}/${k}`)),
    })),
  });
  const bins = Array.from({ length: 10 }, (_, i) => i + 1);
  const histSeries = ['rib', 'clavicle'].flatMap((cls) =>
    ['positive', 'negative'].map((status) => ({
      name: `${cls}, record ${status}`,
      color: status === 'positive' ? (CLASS_COLORS[cls] ?? '#334155') : cls === 'rib' ? '#93c5fd' : '#fcd34d',
      values: bins.map(
        (bin) =>
          d.scoreHistogram.find((h) => h.bin === bin && h.class === cls && h.recordStatus === status)
            ?.labels ?? 0,
      ),
    })),
  );
  const s = d.backfill;
  return `<section id="labels"><h2>Label counts</h2>
<p>The archive went through <code>harvester backfill</code>: ${e(s.reports.messages)} HL7 messages
(${e(s.reports.stored)} stored, ${e(Object.values(s.reports.skipped).reduce((a, b) => a + b, 0))} skipped,
${e(Object.values(s.reports.failed).reduce((a, b) => a + b, 0))} failed), ${e(s.images.recorded)} DICOM images recorded,
${e(t.images - t.imagesFailed)} usable; the teacher ran on ${e(s.pseudoLabels.inferred)} images and wrote
${e(Object.values(t.pseudoLabels).reduce((a, b) => a + b, 0))} pseudo-labels. Uncertain report labels get no
pseudo-label (excluded, as in the paper); images wait while their report is preliminary.</p>
<div class="charts"><figure>${labelChart}<figcaption>Current report labels (report_labels).</figcaption></figure>
<figure>${pseudoChart}<figcaption>Stored pseudo-labels of ${e(d.teacher.version)} (pseudo_labels).</figcaption></figure></div>
<figure>${groupedBars({
    title: 'Teacher score distribution',
    // bins are 1-based tenths of the score (the view's width_bucket)
    categories: bins.map((b) => `${((b - 1) / 10).toFixed(1)}-${(b / 10).toFixed(1)}`),
    series: histSeries,
    width: 820,
  })}<figcaption>Teacher image scores (map maximum) by record label (analytics_pseudo_label_score_histogram).</figcaption></figure>
${table(
  [
    'class',
    'images',
    'record positive',
    'teacher positive',
    'record neg. / teacher pos.',
    'record pos. / teacher neg.',
  ],
  d.recordVsTeacher.map((r) => [
    r.class,
    r.images,
    r.recordPositive,
    r.teacherPositive,
    r.recordNegativeTeacherPositive,
    r.recordPositiveTeacherNegative,
  ]),
)}
</section>`;
}

function samplesSection(d: DemoReportData): string {
  const cards = d.samples
    .map(
      (s) => `<div class="sample" data-class="${e(s.cls)}" data-record="${e(s.recordStatus)}">
<div class="triple"><figure><img src="${s.image}" alt="model input" width="192" height="192"><figcaption>image</figcaption></figure>
<figure><img src="${s.teacherMap}" alt="teacher map (${e(s.cls)})" width="192" height="192"><figcaption>teacher map, ${e(s.cls)} (max ${fixed(s.teacherScore, 2)})</figcaption></figure>
<figure><img src="${s.target}" alt="stored target (${e(s.cls)})" width="192" height="192"><figcaption>${s.targetMethod === 'aals' ? 'AALS target' : 'zero target'} (max ${fixed(s.targetMax, 2)})</figcaption></figure></div>
<p>record ${e(s.recordStatus)} for ${e(s.cls)}</p></div>`,
    )
    .join('\n');
  return `<section id="samples"><h2>Sample images: teacher map and stored target</h2>
<p>For record-positive images the teacher's map is sharpened by AALS (t = ${e(d.aals.t)}, a0 = ${e(d.aals.a0)}:
strength adapted to the map's maximum, never below the teacher); record-negative images get all-zero targets. The
target is the stored 8-bit map from pseudo_labels; the teacher map is recomputed from the DICOM file.</p>
${cards}</section>`;
}

function metricsSection(d: DemoReportData): string {
  const t = d.teacher.metrics;
  const st = d.student.ran ? d.student.metrics : null;
  const row = (model: string, version: string, m: HeldOutMetrics, cls: 'rib' | 'clavicle') => [
    model,
    version,
    cls,
    fixed(m[cls].auroc),
    fixed(m[cls].froc),
    m[cls].positives,
    m[cls].boxes,
  ];
  const rows = (['rib', 'clavicle'] as const).flatMap((cls) => [
    row('teacher', d.teacher.version, t, cls),
    ...(st && d.student.ran ? [row('student', d.student.version, st, cls)] : []),
  ]);
  const rates = t.frocRates.map(String);
  const series = (['rib', 'clavicle'] as const).flatMap((cls) => [
    {
      name: `teacher ${cls}`,
      color: CLASS_COLORS[cls] ?? '#334155',
      values: t[cls].frocSensitivities.map((v) => v),
    },
    ...(st
      ? [
          {
            name: `student ${cls}`,
            color: CLASS_COLORS[cls] ?? '#334155',
            dash: '6 4',
            values: st[cls].frocSensitivities.map((v) => v),
          },
        ]
      : []),
  ]);
  const better = st
    ? (['rib', 'clavicle'] as const).filter(
        (c) => (st[c].auroc ?? 0) > (t[c].auroc ?? 0) && (st[c].froc ?? 0) > (t[c].froc ?? 0),
      )
    : [];
  const student = d.student.ran
    ? `<p>The student (${e(d.student.version)}) was distilled for ${e(d.student.epochs)} epoch(s) in
${d.student.seconds.toFixed(0)} s from the region-labelled training images and the AALS pseudo-labels it read from
the embedded database (<code>harvester distill distill --database ... --teacher-version ${e(d.teacher.version)}</code>),
starting from the teacher's weights, and registered in model_versions as a candidate.
${
  better.length === 2
    ? 'It beats the teacher on both classes (AUROC and FROC).'
    : `It beats the teacher on AUROC and FROC for ${better.length === 0 ? 'neither class' : `${e(better[0])} only`}:
a few hundred images and ${e(d.student.epochs)} CPU epoch(s) are a demonstration of the loop, not the volume the
method needs (PAPER.md); at this scale students sit at or below the teacher whatever the target method
(BENCHMARKS.md, Ablation), and the quality gate of the closing-the-loop service keeps such a student from
replacing the teacher.`
}</p>`
    : `<p class="warning">No student was trained: ${e(d.student.reason)}</p>`;
  return `<section id="metrics"><h2>Teacher and student on the held-out region-labelled set</h2>
<p>${e(t.images)} region-test images with expert boxes, never used for training. AUROC of the image score (map
maximum) and FROC score (mean sensitivity at ${e(t.frocRates.join(', '))} false positives per image), computed with
services/shared/metrics on the ONNX models' outputs (onnxruntime-node).</p>
${student}
${table(['model', 'version', 'class', 'AUROC', 'FROC score', 'positive images', 'boxes'], rows, 'metrics')}
<figure>${lineChart({
    title: 'FROC: sensitivity by false positives per image',
    categories: rates,
    series,
    yDomain: [0, 1],
    format: (v) => v.toFixed(2),
  })}<figcaption>FROC curves (solid: teacher, dashed: student).</figcaption></figure>
${table(
  [
    'version',
    'parent',
    'status',
    'mode',
    'eval images',
    'rib AUROC',
    'rib FROC',
    'clavicle AUROC',
    'clavicle FROC',
    'pseudo-labels',
  ],
  d.models.map((m) => [
    m.version,
    m.parentVersion ?? '',
    m.status,
    m.mode ?? '',
    m.evalImages ?? '',
    fixed(m.ribAuroc),
    fixed(m.ribFroc),
    fixed(m.clavicleAuroc),
    fixed(m.clavicleFroc),
    m.pseudoLabels,
  ]),
)}
<p>Model registry (analytics_model_history): what the distiller registered.</p>
</section>`;
}

function sqlSection(d: DemoReportData): string {
  return `<section id="sql"><h2>The SQL it ran</h2>
<p>Every statement the report's queries sent to the embedded database (PGlite, same migrations as a server:
<code>${e(d.databaseDir)}</code>, kept after the demo); the analytics views are in migrations/ and
docs/analytics.md. The same backfill writes to a PostgreSQL server with <code>--database URL</code>, where
<code>harvester stats</code> and <code>harvester serve dashboard</code> read these views.</p>
${d.sql.map((s, i) => `<pre class="sql" id="sql-${i + 1}">${e(s.trim())}</pre>`).join('\n')}
<h3>Commands</h3>
${d.commands.map((c) => `<pre class="cmd">${e(c)}</pre>`).join('\n')}
</section>`;
}

export function renderDemoReport(d: DemoReportData): string {
  const total = d.steps.reduce((a, s) => a + s.seconds, 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fracture-harvester demo report</title>
<style>
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0 auto; max-width: 1100px;
  padding: 24px; color: #0f172a; line-height: 1.45; }
h1 { margin-bottom: 4px; } h2 { margin-top: 40px; border-bottom: 1px solid #e2e8f0; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
th, td { border: 1px solid #e2e8f0; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f8fafc; }
figure { margin: 12px 0; } figcaption { font-size: 13px; color: #475569; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.sample { display: inline-block; margin: 8px 16px 8px 0; padding: 8px; border: 1px solid #e2e8f0; border-radius: 6px; }
.sample p { margin: 4px 0 0; font-size: 13px; color: #475569; }
.triple { display: flex; gap: 6px; } .triple figure { margin: 0; text-align: center; }
.triple img { image-rendering: pixelated; display: block; }
pre { background: #f8fafc; border: 1px solid #e2e8f0; padding: 8px; overflow-x: auto; font-size: 12px; }
pre.cmd { white-space: pre-wrap; word-break: break-all; }
.warning { background: #fef3c7; padding: 8px; border-radius: 4px; }
.meta { color: #475569; font-size: 14px; }
</style></head>
<body>
<h1>fracture-harvester demo</h1>
<p class="meta">Generated ${e(d.generatedAt.toISOString())} in ${total.toFixed(0)} s: a synthetic hospital of
${e(d.cohort.studies)} chest radiograph studies (${e(d.cohort.images)} DICOM images, ${e(d.cohort.reports)} HL7 report
versions; seed ${e(d.cohort.seed)}), backfilled into an embedded PostgreSQL with the default teacher
${e(d.teacher.version)}, AALS pseudo-labels, ${d.student.ran ? 'one distillation' : 'no distillation'}.</p>
${table(
  ['step', 'seconds'],
  d.steps.map((s) => [s.name, s.seconds.toFixed(1)]),
  'steps',
)}
${prevalenceSection(d)}
${labelSection(d)}
${samplesSection(d)}
${metricsSection(d)}
${sqlSection(d)}
</body></html>
`;
}
