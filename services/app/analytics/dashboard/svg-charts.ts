import { scaleBand, scaleLinear, scalePoint } from 'd3-scale';
import { line } from 'd3-shape';
import { escapeHtml } from './escape-html.ts';

// Charts as inline SVG strings, rendered on the server (no script, nothing fetched by the page).
// d3-scale places things and picks round ticks; d3-shape draws the lines. Every mark carries
// data-* attributes with its exact value, and a <title> for the browser's tooltip.

export interface LineSeries {
  name: string;
  color: string;
  /** stroke-dasharray, e.g. '6 4' */
  dash?: string;
  /** One value per category; null leaves a gap. */
  values: Array<number | null>;
}

export interface LineChartOptions {
  /** Accessible name of the chart. */
  title: string;
  categories: string[];
  series: LineSeries[];
  /** y range; the default spans 0 to the largest value, rounded up. */
  yDomain?: [number, number];
  format: (value: number) => string;
  /** Print each point's value next to it (for a few points). */
  labelPoints?: boolean;
  width?: number;
  height?: number;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"';
const BASE_MARGIN = { top: 24, bottom: 44, left: 52 };

/** Margins with room on the right for the legend (about 7 px per character at 12 px). */
function marginsFor(names: string[]) {
  const longest = Math.max(0, ...names.map((n) => n.length));
  return { ...BASE_MARGIN, right: Math.max(90, 52 + longest * 7) };
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}="${escapeHtml(String(v))}"`)
    .join(' ');
}

const round = (v: number) => Math.round(v * 100) / 100;

function legend(series: Array<{ name: string; color: string; dash?: string }>, x: number, y: number): string {
  return series
    .map((s, i) => {
      const top = y + i * 20;
      return (
        `<g class="legend-item">` +
        `<line x1="${x}" y1="${top}" x2="${x + 22}" y2="${top}" stroke="${s.color}" stroke-width="3"` +
        `${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>` +
        `<text x="${x + 28}" y="${top + 4}" font-size="12" fill="#334155">${escapeHtml(s.name)}</text></g>`
      );
    })
    .join('');
}

function emptyChart(title: string, width: number, height: number, message: string): string {
  return (
    `<svg class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" ` +
    `width="${width}" height="${height}" ${FONT}>` +
    `<rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" rx="8" fill="#f8fafc" stroke="#e2e8f0"/>` +
    `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="14" fill="#64748b">` +
    `${escapeHtml(message)}</text></svg>`
  );
}

/** A line chart over categories (months, model versions), one line per series. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 280;
  const all = options.series.flatMap((s) => s.values).filter((v): v is number => v !== null);
  if (options.categories.length === 0 || all.length === 0) {
    return emptyChart(options.title, width, height, 'No data yet');
  }
  const MARGIN = marginsFor(options.series.map((s) => s.name));
  const x = scalePoint<string>()
    .domain(options.categories)
    .range([MARGIN.left, width - MARGIN.right])
    .padding(0.5);
  const y = scaleLinear()
    .domain(options.yDomain ?? [0, Math.max(...all) || 1])
    .nice()
    .range([height - MARGIN.bottom, MARGIN.top]);
  const ticks = y.ticks(5);
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${round(y(t))}" y2="${round(y(t))}" ` +
        `stroke="#e2e8f0"/>` +
        `<text x="${MARGIN.left - 8}" y="${round(y(t)) + 4}" text-anchor="end" font-size="11" fill="#64748b">` +
        `${escapeHtml(options.format(t))}</text>`,
    )
    .join('');
  // Thin out x labels when there are many categories (one label per ~60 px).
  const every = Math.max(
    1,
    Math.ceil((options.categories.length * 60) / (width - MARGIN.left - MARGIN.right)),
  );
  const xLabels = options.categories
    .map((c, i) =>
      i % every === 0
        ? `<text x="${round(x(c)!)}" y="${height - MARGIN.bottom + 18}" text-anchor="middle" font-size="11" ` +
          `fill="#475569">${escapeHtml(c)}</text>`
        : '',
    )
    .join('');
  const path = line<[string, number | null]>()
    .defined(([, v]) => v !== null)
    .x(([c]) => x(c)!)
    .y(([, v]) => y(v!));
  // a value label is skipped where another series already printed one at nearly the same place
  const labelled = new Map<string, number[]>();
  const labelFree = (c: string, py: number) => {
    const taken = labelled.get(c) ?? [];
    if (taken.some((t) => Math.abs(t - py) < 13)) return false;
    labelled.set(c, [...taken, py]);
    return true;
  };
  const marks = options.series
    .map((s) => {
      const pairs = options.categories.map((c, i): [string, number | null] => [c, s.values[i] ?? null]);
      const d = path(pairs) ?? '';
      const points = pairs
        .filter(([, v]) => v !== null)
        .map(([c, v]) => {
          const px = round(x(c)!);
          const py = round(y(v!));
          const label = options.format(v!);
          return (
            `<circle class="point" ${attrs({ 'data-series': s.name, 'data-x': c, 'data-value': v! })} ` +
            `cx="${px}" cy="${py}" r="4" fill="#fff" stroke="${s.color}" stroke-width="2">` +
            `<title>${escapeHtml(`${s.name}, ${c}: ${label}`)}</title></circle>` +
            (options.labelPoints && labelFree(c, py)
              ? `<text class="point-label" x="${px}" y="${py - 9}" text-anchor="middle" font-size="11" ` +
                `fill="${s.color}" font-weight="600">${escapeHtml(label)}</text>`
              : '')
          );
        })
        .join('');
      return (
        `<g class="series" ${attrs({ 'data-series': s.name })}>` +
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.5" stroke-linejoin="round"` +
        `${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>${points}</g>`
      );
    })
    .join('');
  return (
    `<svg class="chart" role="img" aria-label="${escapeHtml(options.title)}" viewBox="0 0 ${width} ${height}" ` +
    `width="${width}" height="${height}" ${FONT}>${grid}` +
    `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${height - MARGIN.bottom}" ` +
    `y2="${height - MARGIN.bottom}" stroke="#94a3b8"/>${xLabels}${marks}` +
    `${legend(options.series, width - MARGIN.right + 18, MARGIN.top + 4)}</svg>`
  );
}

export interface ThresholdBar {
  name: string;
  color: string;
  value: number;
}

export interface ThresholdBarsOptions {
  title: string;
  bars: ThresholdBar[];
  threshold: number;
  thresholdLabel: string;
  width?: number;
}

/** Horizontal bars against a vertical threshold line (label volume against the retraining trigger). */
export function thresholdBars(options: ThresholdBarsOptions): string {
  const width = options.width ?? 640;
  const rowHeight = 44;
  const top = 30;
  const height = top + options.bars.length * rowHeight + 30;
  const left = 90;
  const right = 150;
  const max = Math.max(options.threshold * 1.1, ...options.bars.map((b) => b.value), 1);
  const x = scaleLinear()
    .domain([0, max])
    .nice()
    .range([left, width - right]);
  const y = scaleBand<string>()
    .domain(options.bars.map((b) => b.name))
    .range([top, top + options.bars.length * rowHeight])
    .padding(0.3);
  const ticks = x
    .ticks(5)
    .map(
      (t) =>
        `<line x1="${round(x(t))}" x2="${round(x(t))}" y1="${top}" y2="${height - 30}" stroke="#e2e8f0"/>` +
        `<text x="${round(x(t))}" y="${height - 12}" text-anchor="middle" font-size="11" fill="#64748b">` +
        `${t.toLocaleString('en-US')}</text>`,
    )
    .join('');
  const bars = options.bars
    .map((b) => {
      const by = round(y(b.name)!);
      const bh = round(y.bandwidth());
      const bw = Math.max(0, round(x(b.value) - left));
      const share = options.threshold > 0 ? Math.round((b.value / options.threshold) * 100) : 0;
      const text = `${b.value.toLocaleString('en-US')} / ${options.threshold.toLocaleString('en-US')} (${share}%)`;
      return (
        `<g class="bar" ${attrs({ 'data-series': b.name, 'data-value': b.value })}>` +
        `<text x="${left - 10}" y="${by + bh / 2 + 4}" text-anchor="end" font-size="13" fill="#334155">` +
        `${escapeHtml(b.name)}</text>` +
        `<rect x="${left}" y="${by}" width="${bw}" height="${bh}" rx="3" fill="${b.color}">` +
        `<title>${escapeHtml(`${b.name}: ${text}`)}</title></rect>` +
        `<text class="bar-label" x="${round(x(b.value)) + 8}" y="${by + bh / 2 + 4}" font-size="12" ` +
        `fill="#0f172a">${escapeHtml(text)}</text></g>`
      );
    })
    .join('');
  const tx = round(x(options.threshold));
  return (
    `<svg class="chart" role="img" aria-label="${escapeHtml(options.title)}" viewBox="0 0 ${width} ${height}" ` +
    `width="${width}" height="${height}" ${FONT}>${ticks}${bars}` +
    `<g class="threshold" ${attrs({ 'data-value': options.threshold })}>` +
    `<line x1="${tx}" x2="${tx}" y1="${top - 10}" y2="${height - 30}" stroke="#dc2626" stroke-width="2" ` +
    `stroke-dasharray="5 4"/>` +
    `<text x="${tx}" y="${top - 14}" text-anchor="middle" font-size="12" fill="#dc2626" font-weight="600">` +
    `${escapeHtml(options.thresholdLabel)}</text></g></svg>`
  );
}

export interface GroupedBarsOptions {
  title: string;
  categories: string[];
  series: Array<{ name: string; color: string; values: number[] }>;
  width?: number;
  height?: number;
}

/** Vertical bars, one group per category (e.g. score bins), one bar per series. */
export function groupedBars(options: GroupedBarsOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 240;
  const all = options.series.flatMap((s) => s.values);
  if (options.categories.length === 0 || all.every((v) => v === 0)) {
    return emptyChart(options.title, width, height, 'No pseudo-labels yet');
  }
  const MARGIN = marginsFor(options.series.map((s) => s.name));
  const x = scaleBand<string>()
    .domain(options.categories)
    .range([MARGIN.left, width - MARGIN.right])
    .padding(0.2);
  const inner = scaleBand<string>()
    .domain(options.series.map((s) => s.name))
    .range([0, x.bandwidth()])
    .padding(0.08);
  const y = scaleLinear()
    .domain([0, Math.max(...all)])
    .nice()
    .range([height - MARGIN.bottom, MARGIN.top]);
  const grid = y
    .ticks(4)
    .filter((t) => Number.isInteger(t))
    .map(
      (t) =>
        `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${round(y(t))}" y2="${round(y(t))}" ` +
        `stroke="#e2e8f0"/>` +
        `<text x="${MARGIN.left - 8}" y="${round(y(t)) + 4}" text-anchor="end" font-size="11" fill="#64748b">` +
        `${t.toLocaleString('en-US')}</text>`,
    )
    .join('');
  const xLabels = options.categories
    .map(
      (c) =>
        `<text x="${round(x(c)! + x.bandwidth() / 2)}" y="${height - MARGIN.bottom + 16}" text-anchor="middle" ` +
        `font-size="10" fill="#475569">${escapeHtml(c)}</text>`,
    )
    .join('');
  const bars = options.series
    .map(
      (s) =>
        `<g class="series" ${attrs({ 'data-series': s.name })}>` +
        options.categories
          .map((c, i) => {
            const v = s.values[i] ?? 0;
            if (v === 0) return '';
            const bx = round(x(c)! + inner(s.name)!);
            const by = round(y(v));
            return (
              `<rect class="bar" ${attrs({ 'data-series': s.name, 'data-x': c, 'data-value': v })} x="${bx}" ` +
              `y="${by}" width="${round(inner.bandwidth())}" height="${round(height - MARGIN.bottom - by)}" ` +
              `rx="2" fill="${s.color}"><title>${escapeHtml(`${s.name}, ${c}: ${v.toLocaleString('en-US')}`)}` +
              `</title></rect>`
            );
          })
          .join('') +
        `</g>`,
    )
    .join('');
  return (
    `<svg class="chart" role="img" aria-label="${escapeHtml(options.title)}" viewBox="0 0 ${width} ${height}" ` +
    `width="${width}" height="${height}" ${FONT}>${grid}` +
    `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${height - MARGIN.bottom}" ` +
    `y2="${height - MARGIN.bottom}" stroke="#94a3b8"/>${xLabels}${bars}` +
    `${legend(options.series, width - MARGIN.right + 18, MARGIN.top + 4)}</svg>`
  );
}
