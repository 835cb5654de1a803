import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { distillerProblem, runDemo, type DemoResult } from '../../services/demo/demo.ts';
import { startEmbeddedPostgres } from '../../services/shared/db/embedded-postgres.ts';

// `harvester demo` at a reduced size: the database it leaves behind, the report it writes, and
// the report page in headless Chromium (a screenshot lands in test-results/).

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const torch = distillerProblem(process.env.DISTILLER_PYTHON ?? '/usr/bin/python3') === null;

describe('harvester demo (reduced size)', { timeout: 600_000 }, () => {
  let dir: string;
  let result: DemoResult;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fh-demo-'));
    result = await runDemo({ out: join(dir, 'demo'), studies: 60, epochs: 1, say: () => {} });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves a database with the reports, images and AALS pseudo-labels of the synthetic hospital', async () => {
    const db = await startEmbeddedPostgres({ dataDir: result.databaseDir });
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const one = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);
      assert.deepEqual(db.applied, [], 'the demo applied every migration already');
      assert.equal(await one('SELECT count(*) AS n FROM reports'), result.data.cohort.studies);
      assert.equal(await one('SELECT count(*) AS n FROM images'), result.data.cohort.images);
      const byMethod = await pool.query<{ method: string; n: string }>(
        'SELECT target_method AS method, count(*) AS n FROM pseudo_labels GROUP BY 1 ORDER BY 1',
      );
      const counts = Object.fromEntries(byMethod.rows.map((r) => [r.method, Number(r.n)]));
      assert.ok(counts.aals! > 0, 'record-positive images got AALS targets');
      assert.ok(counts.zero! > counts.aals!, 'record-negative images got zero targets');
      assert.equal(
        await one(
          `SELECT count(*) AS n FROM pseudo_labels p WHERE target_method = 'aals' AND p.target_max < p.teacher_score - 0.01`,
        ),
        0,
        'an AALS target never lowers the teacher',
      );
      const students = await one(
        `SELECT count(*) AS n FROM model_versions WHERE version LIKE 'student-demo-%'`,
      );
      assert.equal(students, torch ? 1 : 0, 'the distilled student is registered when PyTorch is there');
    } finally {
      await pool.end();
      await db.close();
    }
  });

  it('writes a self-contained report: prevalence, label counts, samples, metrics and the SQL', () => {
    const html = readFileSync(result.reportPath, 'utf8');
    for (const id of ['prevalence', 'labels', 'samples', 'metrics', 'sql']) {
      assert.match(html, new RegExp(`<section id="${id}">`), `section ${id}`);
    }
    assert.doesNotMatch(html, /<script|<link|src="http|href="http/, 'nothing fetched, nothing run');
    const images = html.match(/<img src="data:image\/png;base64,/g) ?? [];
    assert.equal(images.length, result.data.samples.length * 3, 'image, teacher map and target per sample');
    assert.ok(result.data.samples.length >= 4);
    assert.match(html, /analytics_prevalence_monthly/);
    assert.match(html, /analytics_pseudo_label_score_histogram/);
    for (const cls of ['rib', 'clavicle'] as const) {
      const auroc = result.data.teacher.metrics[cls].auroc;
      assert.ok(auroc === null || (auroc >= 0 && auroc <= 1));
    }
    if (torch) assert.equal(result.data.student.ran, true);
    else assert.match(html, /apt-get install python3-torch/);
  });

  it('renders in headless Chromium with its charts and images', async (t) => {
    if (!existsSync(CHROMIUM)) {
      t.skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
      return;
    }
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
      await page.goto(pathToFileURL(result.reportPath).href, { waitUntil: 'load' });
      assert.equal(await page.title(), 'fracture-harvester demo report');
      const charts = await page.$$eval('svg.chart', (svgs) =>
        svgs.map((s) => {
          const r = s.getBoundingClientRect();
          return { w: r.width, h: r.height, marks: s.querySelectorAll('rect, path, circle, line').length };
        }),
      );
      assert.ok(charts.length >= 5, `${charts.length} charts`);
      for (const c of charts) assert.ok(c.w > 100 && c.h > 100 && c.marks > 0, JSON.stringify(c));
      const images = await page.$$eval('img', (imgs) =>
        imgs.map((i) => ({ done: i.complete, w: i.naturalWidth, h: i.naturalHeight })),
      );
      assert.equal(images.length, result.data.samples.length * 3);
      for (const i of images) assert.ok(i.done && i.w >= 64 && i.h >= 64, JSON.stringify(i));
      assert.deepEqual(errors, []);
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/demo-report.png', fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
