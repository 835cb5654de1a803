import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  AALS_DEFAULTS,
  adaptiveStrength,
  DEFAULT_FIXED_A,
  isTargetMethod,
  makeTarget,
  TARGET_METHODS,
} from '../../shared/aals/index.ts';
import { ExpectedError } from '../../shared/errors.ts';

export interface AalsCommandOptions {
  input?: string;
  method: string;
  t?: string;
  a0?: string;
  a?: string;
  eps?: string;
  output?: string;
  values?: boolean;
}

function parseNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new ExpectedError(`--${name} must be a number, got "${value}"`);
  return n;
}

/** A map file: raw little-endian float32 (.f32) or JSON (an array of numbers, or {"values": [...]}). */
async function readMap(file: string): Promise<Float32Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new ExpectedError(`cannot read --input ${file}: ${(err as Error).message}`);
  }
  if (extname(file).toLowerCase() === '.f32') {
    if (bytes.length % 4 !== 0)
      throw new ExpectedError(`${file} is not float32: ${bytes.length} bytes is not a multiple of 4`);
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
    return out;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ExpectedError(`${file} is neither .f32 nor valid JSON: ${(err as Error).message}`);
  }
  const values = Array.isArray(parsed) ? parsed : (parsed as { values?: unknown })?.values;
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) {
    throw new ExpectedError(`${file}: expected a JSON array of numbers or {"values": [numbers]}`);
  }
  return Float32Array.from(values as number[]);
}

function summary(map: Float32Array) {
  let max = -Infinity;
  let sum = 0;
  let above = 0;
  for (const v of map) {
    if (v > max) max = v;
    sum += v;
    if (v >= 0.5) above++;
  }
  return { max, mean: sum / map.length, atLeastHalf: above };
}

function aalsParams(map: Float32Array, t: number, a0: number, eps: number) {
  let yMax = -Infinity;
  for (const v of map) if (v > yMax) yMax = v;
  // The strength this map got: a = a0 - (a0 - 1) * y_max, y_max clamped like sharpenAALS does.
  return { t, a0, eps, a: adaptiveStrength(Math.min(Math.max(yMax, eps), 1 - eps), a0) };
}

export async function aalsCommand(opts: AalsCommandOptions): Promise<void> {
  if (!opts.input)
    throw new ExpectedError('--input FILE is required (a .f32 or .json probability map); see --help');
  if (!isTargetMethod(opts.method)) {
    throw new ExpectedError(`--method must be one of ${TARGET_METHODS.join(', ')}, got "${opts.method}"`);
  }
  const options = {
    t: parseNumber('t', opts.t),
    a0: parseNumber('a0', opts.a0),
    a: parseNumber('a', opts.a),
    eps: parseNumber('eps', opts.eps),
  };
  if (options.t !== undefined && opts.method !== 'aals') {
    throw new ExpectedError(`--t applies to --method aals only (symmetric uses 0.5, asymmetric 0.4)`);
  }
  const map = await readMap(opts.input);
  const target = makeTarget(opts.method, map, 'positive', options)!;
  if (opts.output) {
    if (extname(opts.output).toLowerCase() === '.f32') {
      await writeFile(opts.output, Buffer.from(target.buffer, target.byteOffset, target.byteLength));
    } else {
      await writeFile(opts.output, JSON.stringify(Array.from(target)) + '\n');
    }
  }
  const params =
    opts.method === 'aals'
      ? aalsParams(
          map,
          options.t ?? AALS_DEFAULTS.t,
          options.a0 ?? AALS_DEFAULTS.a0,
          options.eps ?? AALS_DEFAULTS.eps,
        )
      : opts.method === 'none'
        ? {}
        : {
            t: opts.method === 'symmetric' ? 0.5 : 0.4,
            a: options.a ?? DEFAULT_FIXED_A,
            eps: options.eps ?? AALS_DEFAULTS.eps,
          };
  const report = {
    method: opts.method,
    params,
    pixels: map.length,
    input: summary(map),
    target: summary(target),
    ...(opts.values ? { values: Array.from(target) } : {}),
    ...(opts.output ? { written: opts.output } : {}),
  };
  console.log(JSON.stringify(report, null, opts.values ? undefined : 2));
}
