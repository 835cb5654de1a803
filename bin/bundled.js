// Fast start for commands whose whole-process speed counts start-up (`harvester label-reports` over
// a large export): their TypeScript entry is bundled once with esbuild (the compiler tsx itself
// uses, already installed) into .cache/cli-bundles/ and reused while no source file changed. Any
// failure (read-only checkout, esbuild missing) returns null and the caller falls back to tsx.
// HARVESTER_NO_BUNDLE=1 always uses tsx.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, '.cache', 'cli-bundles');
/** Bundles older than this that no manifest points to are removed (a concurrent run may still use one). */
const STALE_MS = 60 * 60 * 1000;

/**
 * file URL of an up-to-date bundle of `entries` (paths relative to the repository; the first is
 * the one to run, the others are bundled next to it, e.g. worker threads), or null.
 */
export async function bundleUrl(entries) {
  if (process.env.HARVESTER_NO_BUNDLE === '1') return null;
  const entry = entries[0];
  const name = entry.replace(/[^A-Za-z0-9]+/g, '-');
  const manifestPath = join(cacheDir, `${name}.json`);
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (isFresh(manifest)) return pathToFileURL(join(cacheDir, manifest.main)).href;
  } catch {
    // no manifest yet, or an unreadable one: build
  }
  try {
    return await build(entries, name, manifestPath);
  } catch (err) {
    if (process.env.HARVESTER_DEBUG_BUNDLE) console.error('harvester: bundling failed, using tsx:', err);
    return null;
  }
}

function isFresh(manifest) {
  if (!existsSync(join(cacheDir, manifest.main))) return false;
  for (const [file, mtimeMs, size] of manifest.inputs) {
    const s = statSync(join(root, file), { throwIfNoEntry: false });
    if (!s || s.mtimeMs !== mtimeMs || s.size !== size) return false;
  }
  return true;
}

async function build(entries, name, manifestPath) {
  const entry = entries[0];
  const esbuild = await import('esbuild');
  // A directory of its own per build: concurrent first runs never write into each other's files.
  const dir = `${name}-${process.pid}-${Date.now()}`;
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: entries,
    bundle: true,
    splitting: true, // lazy imports stay lazy (the HL7 parser is only loaded for HL7 input)
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external', // resolved from the repository's node_modules, as under tsx
    outdir: join(cacheDir, dir),
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).map((file) => {
    const s = statSync(join(root, file));
    return [file, s.mtimeMs, s.size];
  });
  const main = join(dir, basename(entry).replace(/\.ts$/, '.js'));
  const tmp = `${manifestPath}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ entry, main, inputs }));
  renameSync(tmp, manifestPath);
  removeStale(name, dir);
  return pathToFileURL(join(cacheDir, main)).href;
}

function removeStale(name, keep) {
  for (const d of readdirSync(cacheDir)) {
    if (d === keep || !d.startsWith(`${name}-`) || d.endsWith('.json')) continue;
    const p = join(cacheDir, d);
    if (Date.now() - statSync(p).mtimeMs > STALE_MS) rmSync(p, { recursive: true, force: true });
  }
}

export function ensureCacheDir() {
  mkdirSync(cacheDir, { recursive: true });
}
