#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the repository works without a build step.
// `label-reports` runs from a cached bundle of its own entry (bin/bundled.js): a whole run over a
// large export should not spend most of its time loading the CLI; it falls back to tsx.
// Entry first, then the other entries it starts (helper threads).
const FAST = { 'label-reports': ['services/cli/label-reports-main.ts', 'services/cli/label-worker.ts'] };

const fastEntry = FAST[process.argv[2]];
let url = null;
if (fastEntry) {
  const { bundleUrl, ensureCacheDir } = await import('./bundled.js');
  try {
    ensureCacheDir();
    url = await bundleUrl(fastEntry);
  } catch {
    url = null;
  }
}
if (url) {
  await import(url);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../services/cli/main.ts');
}
