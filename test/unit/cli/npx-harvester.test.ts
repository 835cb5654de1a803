import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('the harvester command as the README writes it', () => {
  it("`npx harvester` runs the checkout's own CLI (package.json bin), e.g. the streaming commands' help", async () => {
    const { stdout } = await execFileAsync('npx', ['--no-install', 'harvester', '--help'], { cwd: repoRoot });
    for (const command of ['up', 'topics', 'migrate', 'schemas', 'run', 'annotations', 'feed', 'synth'])
      assert.match(stdout, new RegExp(`^  ${command} `, 'm'), `harvester ${command}`);
    const up = await execFileAsync('npx', ['--no-install', 'harvester', 'up', '--help'], { cwd: repoRoot });
    assert.match(up.stdout, /--feed <source>/);
  });
});
