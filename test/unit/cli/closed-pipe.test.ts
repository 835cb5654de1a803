import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../bin/harvester.js', import.meta.url));

describe('harvester CLI on a closed pipe', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harvester-pipe-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits quietly with status 0 when the reader closes stdout early (| head -1)', async () => {
    // far more output than a pipe buffer holds, so the CLI is still writing when the reader goes away
    const rows = Array.from({ length: 4000 }, (_, i) => `${i},,,No acute fracture. Lungs clear.,Normal.`);
    const input = join(dir, 'reports.csv');
    writeFileSync(input, ['uid,indication,comparison,findings,impression', ...rows].join('\n'));
    const child = spawn(process.execPath, [CLI, 'label-reports', '--input', input], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const first = await new Promise<string>((resolve) =>
      child.stdout.once('data', (d: Buffer) => resolve(d.toString())),
    );
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.match(first, /^\{"id":"0"/);
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Error/);
  });
});
