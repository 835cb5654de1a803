// The package's public entry: the pure domain functions other programs may use.
export { ConfigError, loadConfig } from './config/env.ts';
