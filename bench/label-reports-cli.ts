/**
 * `harvester label-reports` as a whole process: start-up, CSV reading, labelling and JSON-lines
 * writing, over a CSV of N reports (default 77,000: the Open-i dev reports repeated with unique
 * uids). Each run is `node bin/harvester.js label-reports --input reports.csv > out.jsonl`, timed
 * from spawn to exit; the first run may build the CLI bundle (bin/bundled.js) and is reported on
 * its own. Prints reports/s (median and best of the timed runs) and the load average, so a figure
 * measured on a busy machine says so. --no-bundle runs the CLI through tsx (HARVESTER_NO_BUNDLE=1);
 * --threads N is passed to the command (default: its own choice from the load average).
 *   npm run bench:label-reports [-- --reports 77000] [-- --runs 5] [-- --data DIR] [-- --no-bundle]
 *     [-- --threads N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCsvRecords } from '../services/shared/report-rules/report-csv.ts';

const { values } = parseArgs({
  options: {
    reports: { type: 'string', default: '77000' },
    runs: { type: 'string', default: '5' },
    data: { type: 'string', default: join(import.meta.dirname, '../../shared/data/openi-dev') },
    'no-bundle': { type: 'boolean', default: false },
    threads: { type: 'string' },
  },
});
const count = Number(values.reports);
const runs = Number(values.runs);
const cli = join(import.meta.dirname, '../bin/harvester.js');
if (values.threads !== undefined && !/^[1-9][0-9]?$/.test(values.threads))
  throw new Error(`--threads must be a whole number from 1 to 99 (got "${values.threads}")`);
const threads = values.threads === undefined ? '' : ` --threads ${values.threads}`;

// The input: dev rows repeated until `count`, uid made unique, as a hospital export would be.
const rows: string[][] = [];
let header: string[] = [];
for (const rec of readCsvRecords(readFileSync(join(values.data!, 'reports.csv'), 'utf8'))) {
  if ('error' in rec) throw new Error(`reports.csv line ${rec.line}: ${rec.error}`);
  if (rec.row === 0) header = rec.fields;
  else rows.push(rec.fields);
}
const uid = header.findIndex((h) => h.trim().toLowerCase() === 'uid');
const quote = (f: string): string => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);
const lines = [header.map(quote).join(',')];
for (let i = 0; i < count; i++) {
  const r = [...rows[i % rows.length]!];
  r[uid] = `${r[uid]}-${Math.floor(i / rows.length)}`;
  lines.push(r.map(quote).join(','));
}
const dir = mkdtempSync(join(tmpdir(), 'bench-label-reports-'));
const input = join(dir, 'reports.csv');
const output = join(dir, 'labels.jsonl');
writeFileSync(input, lines.join('\n') + '\n');

function run(): { seconds: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    'sh',
    ['-c', `exec "${process.execPath}" "${cli}" label-reports --input "${input}"${threads} > "${output}"`],
    {
      env: { ...process.env, ...(values['no-bundle'] ? { HARVESTER_NO_BUNDLE: '1' } : {}) },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`label-reports exited ${r.status}: ${r.stderr.toString()}`);
  return { seconds };
}

const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
try {
  const mb = (statSync(input).size / 2 ** 20).toFixed(1);
  console.log(
    `harvester label-reports${threads}: ${count} reports, CSV ${mb} MiB, ${runs} timed runs (load ${load()})`,
  );
  const first = run();
  console.log(`first run (may build the CLI bundle): ${first.seconds.toFixed(2)} s`);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(run().seconds);
  const outLines = readFileSync(output, 'utf8').split('\n').filter(Boolean).length;
  if (outLines !== count) throw new Error(`${outLines} output lines, expected ${count}`);
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  console.log(`seconds per run: ${times.map((t) => t.toFixed(2)).join(', ')}`);
  console.log(
    `reports/s, whole process: median ${fmt(count / median)}, best ${fmt(count / times[0]!)} (load after ${load()})`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
