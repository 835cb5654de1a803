import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `harvester distill` hands its arguments to `python -m distiller` and explains what is missing. */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function harvester(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(root, 'bin/harvester.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

function fakePython(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-python-'));
  const file = join(dir, 'python3');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

test('passes every argument, options included, to python -m distiller with PYTHONPATH set', () => {
  const python = fakePython('echo "ARGS $*"; echo "PYTHONPATH $PYTHONPATH"');
  const r = harvester(['distill', 'supervised', '--prepared', 'p', '--epochs', '3', '--help'], {
    DISTILLER_PYTHON: python,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ARGS -m distiller supervised --prepared p --epochs 3 --help$/m);
  assert.match(r.stdout, new RegExp(`^PYTHONPATH ${join(root, 'services/distiller')}`, 'm'));
});

test('a missing PyTorch gets the install command', () => {
  const r = harvester(['distill', 'evaluate'], { DISTILLER_PYTHON: fakePython('exit 3') });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /apt-get install python3-torch/);
});

test('a missing interpreter is one clear line', () => {
  const r = harvester(['distill', 'evaluate'], { DISTILLER_PYTHON: '/nonexistent/python3' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\/nonexistent\/python3 not found/);
});

test("the distiller's own failure status comes back", () => {
  const r = harvester(['distill', 'evaluate'], {
    DISTILLER_PYTHON: fakePython('echo "distiller: bad path" >&2; exit 2'),
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /distiller: bad path/);
});
