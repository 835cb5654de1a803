import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DashboardData } from '../../../services/app/analytics/dashboard/dashboard-data.ts';
import { renderDashboard } from '../../../services/app/analytics/dashboard/render-dashboard.ts';
import { isLoopbackHost } from '../../../services/app/analytics/dashboard/server.ts';
import {
  groupedBars,
  lineChart,
  thresholdBars,
} from '../../../services/app/analytics/dashboard/svg-charts.ts';

const attr = (svg: string, name: string) =>
  [...svg.matchAll(new RegExp(`${name}="([^"]*)"`, 'g'))].map((m) => m[1]);

describe('svg charts', () => {
  it('lineChart: one point per value with its exact value, gaps for null', () => {
    const svg = lineChart({
      title: 't',
      categories: ['2024-01', '2024-02', '2024-03'],
      series: [{ name: 'rib', color: '#00f', values: [0.25, null, 0.5] }],
      format: (v) => `${v * 100}%`,
      labelPoints: true,
    });
    assert.deepEqual(attr(svg, 'data-x'), ['2024-01', '2024-03']);
    assert.deepEqual(attr(svg, 'data-value'), ['0.25', '0.5']);
    assert.match(svg, />25%<\/text>/);
    assert.match(svg, /role="img" aria-label="t"/);
  });

  it('lineChart: higher values are drawn higher', () => {
    const svg = lineChart({
      title: 't',
      categories: ['a', 'b'],
      series: [{ name: 's', color: '#000', values: [0.1, 0.9] }],
      format: String,
    });
    const cy = attr(svg, 'cy').map(Number);
    assert.ok(cy[1]! < cy[0]!, `${cy}`);
  });

  it('says "No data yet" instead of drawing an empty axis', () => {
    assert.match(lineChart({ title: 't', categories: [], series: [], format: String }), /No data yet/);
    assert.match(
      groupedBars({ title: 't', categories: ['x'], series: [{ name: 's', color: '#000', values: [0] }] }),
      /No pseudo-labels yet/,
    );
  });

  it('thresholdBars: bar lengths proportional to the value, the threshold line where it belongs', () => {
    const svg = thresholdBars({
      title: 't',
      bars: [
        { name: 'rib', color: '#00f', value: 500 },
        { name: 'clavicle', color: '#f80', value: 1000 },
      ],
      threshold: 1000,
      thresholdLabel: 'retrain at 1,000',
    });
    const widths = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    );
    assert.ok(Math.abs(widths[1]! / widths[0]! - 2) < 0.02, `${widths}`);
    assert.match(svg, /500 \/ 1,000 \(50%\)/);
    assert.match(svg, /1,000 \/ 1,000 \(100%\)/);
    const line = /<g class="threshold" data-value="1000"><line x1="([\d.]+)"/.exec(svg)!;
    const barEnd = 90 + widths[1]!;
    assert.ok(Math.abs(Number(line[1]) - barEnd) < 0.5, 'the 1000 bar ends on the threshold line');
  });

  it('escapes names that are not trusted', () => {
    const svg = lineChart({
      title: '<t>',
      categories: ['<script>alert(1)</script>'],
      series: [{ name: '"><img src=x>', color: '#000', values: [1] }],
      format: String,
    });
    assert.ok(!svg.includes('<script>'));
    assert.ok(!svg.includes('<img'));
    assert.match(svg, /&lt;script&gt;/);
  });
});

function data(overrides: Partial<DashboardData> = {}): DashboardData {
  return {
    prevalence: [],
    volume: [],
    retrainThreshold: 1000,
    models: [],
    recordVsTeacher: [],
    histogramVersion: null,
    histogram: [],
    discordant: { total: 0, images: [] },
    role: 'harvester_analytics',
    generatedAt: new Date('2024-04-01T12:00:00Z'),
    ...overrides,
  };
}

describe('renderDashboard', () => {
  it('renders an empty database without failing', () => {
    const html = renderDashboard(data());
    assert.match(html, /No discordant images/);
    assert.match(html, /No pseudo-labels yet/);
    assert.match(html, /Generated 2024-04-01 12:00 UTC/);
  });

  it('loads nothing from elsewhere and runs no script', () => {
    const html = renderDashboard(data());
    assert.ok(!/<script|<link|src=|url\(/i.test(html));
  });

  it('escapes values from the database', () => {
    const html = renderDashboard(
      data({
        discordant: {
          total: 1,
          images: [
            {
              reviewRef: '<b>x</b>',
              facility: '<i>',
              class: 'rib',
              modelVersion: 'v<1>',
              teacherScore: 0.9,
              reportStatus: 'F',
              viewPosition: 'PA',
              arrivedMonth: '2024-01',
            },
          ],
        },
      }),
    );
    assert.ok(!html.includes('<b>x</b>') && !html.includes('<i>') && !html.includes('v<1>'));
    assert.match(html, /&lt;b&gt;x&lt;\/b&gt;/);
  });

  it('shows how many discordant images there are when only some are listed', () => {
    const image = {
      reviewRef: 'ab',
      facility: null,
      class: 'rib',
      modelVersion: 'v1',
      teacherScore: 0.7,
      reportStatus: 'F',
      viewPosition: null,
      arrivedMonth: '2024-01',
    };
    assert.match(
      renderDashboard(data({ discordant: { total: 120, images: [image] } })),
      /the 1 highest of 120/,
    );
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback from other addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', 'example.org']) assert.equal(isLoopbackHost(h), false, h);
  });
});
