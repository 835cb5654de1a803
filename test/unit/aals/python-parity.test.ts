import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTarget, TARGET_METHODS } from '../../../services/shared/aals/index.ts';

/**
 * The targets the pseudo-labeler stores (services/shared/aals, TypeScript) and the targets the
 * distiller makes for a fixed teacher or, per batch, for the EMA teacher (distiller/targets.py via
 * recipe.teacher_targets) are the same function: the two training modes learn the same targets
 * from the same teacher maps (issue 19). Compared on maps that cover the whole range, peaks at,
 * below and above t, and the eps clamp.
 */
const PYTHON = process.env.DISTILLER_PYTHON ?? '/usr/bin/python3';
const DISTILLER = join(import.meta.dirname, '../../../services/distiller');

function maps(): Float32Array[] {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out: Float32Array[] = [];
  for (const peak of [0.05, 0.3, 0.4, 0.41, 0.6, 0.9, 0.999, 1]) {
    const m = Float32Array.from({ length: 64 }, () => rand() * peak);
    m[17] = peak;
    m[3] = 0;
    out.push(m);
  }
  return out;
}

const SCRIPT = `
import json, sys
import numpy as np
from distiller.targets import params_for, positive_target
req = json.load(sys.stdin)
out = []
for method, t, a0, m in req:
    y = np.array(m, dtype=np.float32).reshape(8, 8)
    out.append(positive_target(y, params_for(method, a0=a0, t=t)).ravel().tolist())
json.dump(out, sys.stdout)
`;

test('the TypeScript targets the stream stores equal the distiller targets of a fixed or EMA teacher', (t) => {
  const probe = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip(`${PYTHON} with numpy is not available (the distiller's Python)`);
    return;
  }
  const cases: [string, number | null, number, Float32Array][] = [];
  for (const method of TARGET_METHODS)
    for (const a0 of [2, 4, 8])
      for (const m of maps()) cases.push([method, method === 'symmetric' ? null : 0.4, a0, m]);
  const r = spawnSync(PYTHON, ['-c', SCRIPT], {
    input: JSON.stringify(cases.map(([method, tt, a0, m]) => [method, tt, a0, Array.from(m)])),
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: DISTILLER },
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.status, 0, r.stderr);
  const fromPython = JSON.parse(r.stdout) as number[][];
  let worst = 0;
  cases.forEach(([method, tt, a0, m], k) => {
    const ts = makeTarget(method as (typeof TARGET_METHODS)[number], m, 'positive', {
      a0,
      a: a0,
      ...(tt === null ? {} : { t: tt }),
    })!;
    const py = Float32Array.from(fromPython[k]!);
    for (let i = 0; i < ts.length; i++) worst = Math.max(worst, Math.abs(ts[i]! - py[i]!));
  });
  // float32 results of float64 arithmetic in two languages: within a few float32 ulps of 1
  assert.ok(worst <= 2e-7, `largest difference ${worst}`);
});
