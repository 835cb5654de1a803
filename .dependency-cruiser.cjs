/**
 * The import graph's rules, checked by `npm run lint` (docs/architecture.md says why).
 * Known violations (at present one: up calls the CLI's topics command, see docs/architecture.md)
 * are listed in .dependency-cruiser-known-violations.json: the list may only shrink;
 * `npm run lint:imports:baseline` rewrites it after one is removed.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import loop: the files cannot be read, tested or moved one at a time.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-imports-no-service',
      comment: 'services/shared/ is what services share: it must not reach into a service.',
      severity: 'error',
      from: { path: '^services/shared/' },
      to: { path: '^services/', pathNot: '^services/shared/' },
    },
    {
      name: 'no-service-imports-another-service',
      comment:
        "A service uses services/shared/, never another service's files; services/app/ (the use cases the entry points run) composes services.",
      severity: 'error',
      from: { path: '^services/([^/]+)/', pathNot: '^services/(shared|app|cli)/' },
      to: { path: '^services/([^/]+)/', pathNot: ['^services/shared/', '^services/$1/', '^services/app/'] },
    },
    {
      name: 'cli-starts-a-program-by-its-entry-point',
      comment:
        "The CLI starts the services (`harvester run <service>`), the demo and up, so it must import something of each: only its index.ts, the deliberate public entry point (load the config, start), never the program's other files; what the CLI needs beyond starting one lives in services/app/ or services/shared/.",
      severity: 'error',
      from: { path: '^services/cli/' },
      to: {
        path: '^services/[^/]+/',
        pathNot: ['^services/(shared|app|cli)/', '^services/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'only-entry-points-run-use-cases',
      comment: 'services/app/ is run by the CLI, the demo and up; a service never calls a use case.',
      severity: 'error',
      from: { path: '^services/', pathNot: '^services/(cli|demo|up|app)/' },
      to: { path: '^services/app/' },
    },
    {
      name: 'production-core-imports-no-tools',
      comment: 'The synthetic hospital (tools/) is for the CLI, the demo and tests, not for services.',
      severity: 'error',
      from: { path: '^services/', pathNot: '^services/(cli|demo|up|app)/' },
      to: { path: '^tools/' },
    },
    {
      name: 'no-production-code-imports-tests',
      severity: 'error',
      from: { path: '^(services|bin|tools)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|^dist/|^var/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
