import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { getTestStack } from '../support/stack.ts';
import type { TestSchema } from '../support/postgres.ts';
import { createAnalyticsSchema, insertDistillJobs } from '../support/analytics-data.ts';

// `harvester serve dashboard` on the known data set of test/support/analytics-data.ts, loaded in
// headless Chromium: the charts carry the expected numbers, nothing is fetched from elsewhere,
// and a screenshot is written to test-results/dashboard.png.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts the CLI and resolves with its URL once it prints "dashboard on URL". */
function startDashboardCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['bin/harvester.js', 'serve', 'dashboard', ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /dashboard on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`dashboard exited with ${code}:\n${stderr}`)));
  });
}

describe('harvester serve dashboard', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  let db: TestSchema;
  let child: ChildProcess;
  let url: string;
  let browser: Browser;

  before(async () => {
    const stack = await getTestStack();
    db = await createAnalyticsSchema(stack, 'dashboard');
    await insertDistillJobs(db.pool);
    ({ child, url } = await startDashboardCli(
      ['--port', '0', '--schema', db.schema, '--retrain-threshold', '10'],
      {
        ...process.env,
        DATABASE_URL: stack.databaseUrl,
        LOG_LEVEL: 'warn',
      },
    ));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await db?.drop();
  });

  it('listens on loopback by default', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('is read-only and locked down: GET only, a strict Content-Security-Policy, 404 elsewhere', async () => {
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal((await fetch(url, { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await fetch(new URL('/nope', url))).status, 404);
    assert.equal(await (await fetch(new URL('/healthz', url))).text(), 'ok\n');
  });

  it('shows the expected numbers in headless Chromium, fetches nothing else, and is screenshotted', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const requested: string[] = [];
    page.on('request', (req) => requested.push(req.url()));
    const response = await page.goto(url);
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), 'fracture-harvester · label analytics');
    assert.deepEqual(requested, [url], 'the page loads nothing but itself');

    const text = (selector: string) => page.locator(selector).innerText();
    assert.equal(await text('#tile-reports .tile-value'), '5');
    assert.equal(await text('#tile-rib .tile-value'), '40.0%');
    assert.equal(await text('#tile-clavicle .tile-value'), '20.0%');
    assert.equal(await text('#tile-teacher .tile-value'), 'v2');
    assert.equal(await text('#tile-volume .tile-value'), '6');
    assert.equal(await text('#tile-discordant .tile-value'), '3');
    assert.match(await text('header'), /read-only as harvester_analytics/);

    // prevalence over time: the positive rate of each class per month
    const points = await page
      .locator('#prevalence circle.point')
      .evaluateAll((els) => els.map((el) => [el.dataset.series, el.dataset.x, Number(el.dataset.value)]));
    assert.deepEqual(points, [
      ['rib', '2024-01', 0.5],
      ['rib', '2024-02', 0.5],
      ['rib', '2024-03', 0],
      ['clavicle', '2024-01', 0.5],
      ['clavicle', '2024-02', 0],
      ['clavicle', '2024-03', 0],
      ['other', '2024-01', 0],
      ['other', '2024-02', 0.5],
      ['other', '2024-03', 0],
    ]);

    // label volume since the last distillation against the threshold of 10
    const bars = await page
      .locator('#volume g.bar')
      .evaluateAll((els) =>
        els.map((el) => [
          el.dataset.series,
          Number(el.dataset.value),
          el.querySelector('.bar-label')?.textContent,
        ]),
      );
    assert.deepEqual(bars, [
      ['rib', 4, '4 / 10 (40%)'],
      ['clavicle', 2, '2 / 10 (20%)'],
    ]);
    assert.equal(await page.locator('#volume g.threshold').getAttribute('data-value'), '10');
    assert.match(
      await text('#volume .sub'),
      /since job #1 \(succeeded\), label watermark 2024-02-15T00:00:00Z/,
    );

    // model metrics across versions
    const metrics = await page
      .locator('#models circle.point')
      .evaluateAll((els) => els.map((el) => [el.dataset.series, el.dataset.x, Number(el.dataset.value)]));
    assert.deepEqual(metrics, [
      ['rib AUROC', 'v1', 0.8],
      ['rib AUROC', 'v2', 0.85],
      ['rib FROC', 'v1', 0.5],
      ['rib FROC', 'v2', 0.6],
      ['clavicle AUROC', 'v1', 0.7],
      ['clavicle AUROC', 'v2', 0.75],
      ['clavicle FROC', 'v2', 0.45],
    ]);
    const modelRows = await page.locator('#models tbody tr').allInnerTexts();
    assert.deepEqual(
      modelRows.map((r) => r.split('\t').map((c) => c.trim())),
      [
        ['v3', 'candidate', '2024-03-25', '–', '–', '–', '–', '0'],
        ['v2', 'active', '2024-03-01', '0.850', '0.600', '0.750', '0.450', '6'],
        ['v1', 'retired', '2024-01-01', '0.800', '0.500', '0.700', '–', '5'],
      ],
    );

    // record against teacher, and the active teacher's score histogram
    const teacherRows = await page.locator('#teacher tbody tr').allInnerTexts();
    assert.deepEqual(
      teacherRows.map((r) => r.split('\t').map((c) => c.trim())),
      [
        ['v1', 'clavicle', '1', '0.0%', '0.0%', '0', '0'],
        ['v1', 'rib', '4', '50.0%', '50.0%', '1', '1'],
        ['v2', 'clavicle', '2', '50.0%', '50.0%', '1', '1'],
        ['v2', 'rib', '4', '50.0%', '75.0%', '1', '0'],
      ],
    );
    const histogram = await page
      .locator('#teacher rect.bar')
      .evaluateAll((els) => els.map((el) => [el.dataset.series, el.dataset.x, Number(el.dataset.value)]));
    assert.deepEqual(histogram, [
      ['record positive', '0.5–0.6', 1],
      ['record positive', '0.9–1.0', 1],
      ['record negative', '0.2–0.3', 1],
      ['record negative', '0.7–0.8', 1],
      ['record positive', '0.3–0.4', 1],
      ['record negative', '0.9–1.0', 1],
    ]);

    // the discordance list: highest teacher score first, no UIDs or accessions on the page
    const discordant = await page.locator('#discordance tbody tr').allInnerTexts();
    assert.deepEqual(
      discordant.map((r) =>
        r
          .split('\t')
          .map((c) => c.trim())
          .slice(1),
      ),
      [
        ['NORTH', 'clavicle', 'v2', '0.920', 'C', 'PA', '2024-01'],
        ['GENHOSP', 'rib', 'v2', '0.750', 'F', 'AP', '2024-01'],
        ['GENHOSP', 'rib', 'v1', '0.650', 'F', 'AP', '2024-01'],
      ],
    );
    const html = await page.content();
    for (const secret of ['PSEUDONYM-', 'REPORT TEXT', 'MSG-', 'STUDY-', 'SERIES-', 'file:///']) {
      assert.ok(!html.includes(secret), `the page does not contain ${secret}`);
    }

    mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
    const screenshot = path.join(repoRoot, 'test-results/dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok(existsSync(screenshot));
    await page.close();
  });
});
