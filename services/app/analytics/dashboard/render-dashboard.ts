import type { DashboardData } from './dashboard-data.ts';
import { escapeHtml } from './escape-html.ts';
import { groupedBars, lineChart, thresholdBars } from './svg-charts.ts';

// The dashboard page: plain HTML and inline SVG, no script and nothing loaded from elsewhere (the
// server's Content-Security-Policy forbids both).

export const CLASS_COLORS: Record<string, string> = { rib: '#2563eb', clavicle: '#d97706', other: '#64748b' };
const CLASS_ORDER = ['rib', 'clavicle', 'other'];

const percent = (v: number) => `${(v * 100).toFixed(1)}%`;
const count = (v: number) => v.toLocaleString('en-US');
const metric = (v: number | null) => (v === null ? '–' : v.toFixed(3));
const e = escapeHtml;

function classOrder(a: string, b: string): number {
  const ia = CLASS_ORDER.indexOf(a);
  const ib = CLASS_ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
}

function table(headers: string[], rows: string[][], numericFrom = 1, className = ''): string {
  const th = headers.map((h, i) => `<th${i >= numericFrom ? ' class="num"' : ''}>${e(h)}</th>`).join('');
  const body = rows
    .map(
      (r) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table${className ? ` class="${className}"` : ''}><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function tile(label: string, value: string, note: string, id: string): string {
  return (
    `<div class="tile" id="${id}"><div class="tile-label">${e(label)}</div>` +
    `<div class="tile-value">${e(value)}</div><div class="tile-note">${e(note)}</div></div>`
  );
}

function tiles(data: DashboardData): string {
  const reports = data.prevalence.filter((p) => p.class === 'rib').reduce((s, p) => s + p.reports, 0);
  const rate = (cls: string) => {
    const rows = data.prevalence.filter((p) => p.class === cls);
    const n = rows.reduce((s, p) => s + p.reports, 0);
    const pos = rows.reduce((s, p) => s + p.positive, 0);
    return { n, pos, text: n > 0 ? percent(pos / n) : '–' };
  };
  const rib = rate('rib');
  const clavicle = rate('clavicle');
  const active = data.models.find((m) => m.status === 'active');
  const newLabels = data.volume.reduce((s, v) => s + v.newPseudoLabels, 0);
  return [
    tile('Final reports labelled', count(reports), 'final and corrected chest reports', 'tile-reports'),
    tile('Rib fracture positive', rib.text, `${count(rib.pos)} of ${count(rib.n)} reports`, 'tile-rib'),
    tile(
      'Clavicle fracture positive',
      clavicle.text,
      `${count(clavicle.pos)} of ${count(clavicle.n)} reports`,
      'tile-clavicle',
    ),
    tile(
      'Active teacher',
      active?.version ?? 'none',
      active
        ? `rib AUROC ${metric(active.ribAuroc)} · clavicle ${metric(active.clavicleAuroc)}`
        : 'no model promoted yet',
      'tile-teacher',
    ),
    tile(
      'New pseudo-labels',
      count(newLabels),
      `since the last distillation · retrain at ${count(data.retrainThreshold)} per class`,
      'tile-volume',
    ),
    tile(
      'Discordant images',
      count(data.discordant.total),
      'record negative, teacher confident',
      'tile-discordant',
    ),
  ].join('');
}

function prevalenceSection(data: DashboardData): string {
  const months = [...new Set(data.prevalence.map((p) => p.month))].sort();
  const classes = [...new Set(data.prevalence.map((p) => p.class))].sort(classOrder);
  const value = (cls: string, month: string) =>
    data.prevalence.find((p) => p.class === cls && p.month === month)?.positiveRate ?? null;
  const chart = lineChart({
    title: 'Positive rate per month and class',
    categories: months,
    series: classes.map((cls) => ({
      name: cls,
      color: CLASS_COLORS[cls] ?? '#0f766e',
      values: months.map((m) => value(cls, m)),
    })),
    format: percent,
    labelPoints: months.length <= 12,
  });
  const rows = [...data.prevalence]
    .sort((a, b) => b.month.localeCompare(a.month) || classOrder(a.class, b.class))
    .map((p) => [
      e(p.month),
      e(p.class),
      count(p.reports),
      count(p.positive),
      count(p.uncertain),
      count(p.negative),
      percent(p.positiveRate),
    ]);
  return (
    `<section class="card" id="prevalence"><h2>Fracture prevalence over time</h2>` +
    `<p class="sub">Share of final and corrected chest reports positive for each class, per UTC month.</p>` +
    `${chart}<details><summary>Counts per month</summary>` +
    `${table(['month', 'class', 'reports', 'positive', 'uncertain', 'negative', 'positive rate'], rows, 2)}` +
    `</details></section>`
  );
}

function volumeSection(data: DashboardData): string {
  const job = data.volume.find((v) => v.lastJobId !== null);
  const since = job
    ? `since job #${job.lastJobId} (${e(job.lastJobStatus ?? '')}), label watermark ${e(job.labelWatermark ?? '')}`
    : 'no distillation yet: every label counts';
  const chart = thresholdBars({
    title: 'New pseudo-labels per class against the retraining threshold',
    bars: data.volume.map((v) => ({
      name: v.class,
      color: CLASS_COLORS[v.class] ?? '#0f766e',
      value: v.newPseudoLabels,
    })),
    threshold: data.retrainThreshold,
    thresholdLabel: `retrain at ${count(data.retrainThreshold)}`,
  });
  const rows = data.volume.map((v) => [
    e(v.class),
    count(v.newPseudoLabels),
    count(v.newRecordPositivePseudoLabels),
    count(v.newReportLabels),
  ]);
  return (
    `<section class="card" id="volume"><h2>Label volume against the retraining trigger</h2>` +
    `<p class="sub">New pseudo-labels ${since}.</p>${chart}` +
    `${table(['class', 'new pseudo-labels', 'record-positive', 'new report labels'], rows)}</section>`
  );
}

function modelsSection(data: DashboardData): string {
  const versions = data.models.map((m) => m.version);
  const chart = lineChart({
    title: 'Held-out AUROC and FROC per teacher version',
    categories: versions,
    series: [
      { name: 'rib AUROC', color: CLASS_COLORS.rib!, values: data.models.map((m) => m.ribAuroc) },
      { name: 'rib FROC', color: CLASS_COLORS.rib!, dash: '6 4', values: data.models.map((m) => m.ribFroc) },
      {
        name: 'clavicle AUROC',
        color: CLASS_COLORS.clavicle!,
        values: data.models.map((m) => m.clavicleAuroc),
      },
      {
        name: 'clavicle FROC',
        color: CLASS_COLORS.clavicle!,
        dash: '6 4',
        values: data.models.map((m) => m.clavicleFroc),
      },
    ],
    yDomain: [0, 1],
    format: (v) => v.toFixed(3),
    labelPoints: versions.length <= 6,
  });
  const rows = [...data.models]
    .reverse()
    .map((m) => [
      `<span class="version">${e(m.version)}</span>`,
      `<span class="badge ${e(m.status)}">${e(m.status)}</span>`,
      e(m.created),
      metric(m.ribAuroc),
      metric(m.ribFroc),
      metric(m.clavicleAuroc),
      metric(m.clavicleFroc),
      count(m.pseudoLabels),
    ]);
  return (
    `<section class="card" id="models"><h2>Teacher metrics across versions</h2>` +
    `<p class="sub">Held-out region-labelled set; FROC dashed. Newest version first in the table.</p>${chart}` +
    `${table(['version', 'status', 'registered', 'rib AUROC', 'rib FROC', 'clav. AUROC', 'clav. FROC', 'pseudo-labels'], rows, 3)}` +
    `</section>`
  );
}

function teacherSection(data: DashboardData): string {
  const threshold = data.recordVsTeacher[0]?.teacherThreshold;
  const rows = data.recordVsTeacher.map((r) => [
    `<span class="version">${e(r.modelVersion)}</span>`,
    e(r.class),
    count(r.images),
    percent(r.recordPositiveRate),
    percent(r.teacherPositiveRate),
    count(r.recordNegativeTeacherPositive),
    count(r.recordPositiveTeacherNegative),
  ]);
  const bins = Array.from({ length: 10 }, (_, i) => `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`);
  const classes = [...new Set(data.histogram.map((h) => h.class))].sort(classOrder);
  const histograms = classes
    .map((cls) => {
      const values = (status: string) =>
        bins.map(
          (_, i) =>
            data.histogram.find((h) => h.class === cls && h.recordStatus === status && h.bin === i + 1)
              ?.labels ?? 0,
        );
      return (
        `<h3>${e(cls)}</h3>` +
        groupedBars({
          title: `Teacher scores of ${cls} pseudo-labels, ${data.histogramVersion}`,
          categories: bins,
          series: [
            { name: 'record positive', color: CLASS_COLORS[cls] ?? '#0f766e', values: values('positive') },
            { name: 'record negative', color: '#cbd5e1', values: values('negative') },
          ],
          height: 200,
        })
      );
    })
    .join('');
  return (
    `<section class="card" id="teacher"><h2>Record against teacher</h2>` +
    `<p class="sub">Pseudo-labelled images. Teacher positive: score above ${threshold === undefined ? 'the discordance threshold' : threshold.toFixed(2)}; ` +
    `discordant: record negative, teacher positive; missed: record positive, teacher negative.</p>` +
    (rows.length > 0
      ? table(
          [
            'version',
            'class',
            'images',
            'record positive',
            'teacher positive',
            'discordant',
            'teacher missed',
          ],
          rows,
          2,
        )
      : '<p class="empty">No pseudo-labels yet.</p>') +
    (data.histogramVersion
      ? `<h3 class="sub-head">Teacher score distribution, ${e(data.histogramVersion)}</h3>${histograms}`
      : '') +
    `</section>`
  );
}

function discordanceSection(data: DashboardData): string {
  const { total, images } = data.discordant;
  const rows = images.map((d) => [
    `<code>${e(d.reviewRef)}</code>`,
    e(d.facility ?? '–'),
    e(d.class),
    `<span class="version">${e(d.modelVersion)}</span>`,
    `<span class="score" style="--w:${Math.round(d.teacherScore * 100)}%">${d.teacherScore.toFixed(3)}</span>`,
    e(d.reportStatus),
    e(d.viewPosition ?? '–'),
    e(d.arrivedMonth),
  ]);
  const shown = images.length < total ? `the ${images.length} highest of ${count(total)}` : `${count(total)}`;
  return (
    `<section class="card wide" id="discordance"><h2>Discordance list</h2>` +
    `<p class="sub">Record-negative images the teacher finds confident (${shown}), for radiology review. ` +
    `A reviewer resolves a reference in <code>discordant_images_review</code>.</p>` +
    (rows.length > 0
      ? table(
          ['review ref', 'facility', 'class', 'model', 'teacher score', 'report', 'view', 'arrived'],
          [...rows],
          99,
          'discordance',
        )
      : '<p class="empty">No discordant images.</p>') +
    `</section>`
  );
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#f1f5f9;color:#0f172a;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:#0f172a;color:#e2e8f0;padding:20px 32px}
header h1{margin:0;font-size:22px;font-weight:650;letter-spacing:.2px}
header h1 span{color:#94a3b8;font-weight:400}
header .meta{margin:4px 0 0;color:#94a3b8;font-size:13px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:14px;padding:20px 32px 0}
.tile{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px rgba(15,23,42,.08)}
.tile-label{font-size:12px;color:#64748b;text-transform:uppercase;letter-spacing:.5px}
.tile-value{font-size:26px;font-weight:650;margin-top:2px}
.tile-note{font-size:12px;color:#64748b}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(600px,1fr));gap:20px;padding:20px 32px 32px}
.card{background:#fff;border-radius:12px;padding:18px 20px;box-shadow:0 1px 3px rgba(15,23,42,.1)}
.card.wide{grid-column:1/-1}
.card h2{margin:0;font-size:17px}
.card h3{margin:12px 0 0;font-size:13px;color:#334155}
.sub{margin:2px 0 10px;color:#64748b;font-size:13px}
svg.chart{width:100%;height:auto;display:block}
table{border-collapse:collapse;width:100%;margin-top:10px;font-size:13px}
th{text-align:left;color:#475569;font-weight:600;border-bottom:1px solid #cbd5e1;padding:6px 8px}
td{border-bottom:1px solid #e2e8f0;padding:5px 8px}
.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:hover{background:#f8fafc}
details summary{cursor:pointer;color:#2563eb;margin-top:8px}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;background:#e2e8f0;color:#334155}
.badge.active{background:#dcfce7;color:#166534}
.badge.candidate{background:#fef9c3;color:#854d0e}
.badge.retired{background:#f1f5f9;color:#64748b}
.version{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;background:#f1f5f9;padding:1px 5px;border-radius:4px}
.score{display:inline-block;min-width:110px;padding:1px 6px;border-radius:4px;font-variant-numeric:tabular-nums;
  background:linear-gradient(90deg,#fecaca var(--w),transparent var(--w))}
.empty{color:#64748b;font-style:italic}
footer{padding:0 32px 24px;color:#94a3b8;font-size:12px}
`;

/** The whole page for the given data. */
export function renderDashboard(data: DashboardData): string {
  const generated = data.generatedAt.toISOString().replace('T', ' ').slice(0, 16);
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>fracture-harvester · label analytics</title><style>${STYLE}</style></head><body>` +
    `<header><h1>fracture-harvester <span>· label analytics</span></h1>` +
    `<p class="meta">Generated ${e(generated)} UTC · read-only as <b>${e(data.role)}</b> · ` +
    `de-identified views, no patient identifiers or report text</p></header>` +
    `<section class="tiles">${tiles(data)}</section>` +
    `<main>${prevalenceSection(data)}${volumeSection(data)}${modelsSection(data)}${teacherSection(data)}` +
    `${discordanceSection(data)}</main>` +
    `<footer>Views: analytics_* (migrations). Reload the page to refresh. docs/analytics.md has the SQL.</footer>` +
    `</body></html>`
  );
}
