import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseStackEnv, stackFromEnvironment, type TestStack } from './stack.ts';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const stackScript = path.join(repoRoot, 'deploy/local/stack');

export type StackService = 'kafka' | 'registry' | 'postgres';

/**
 * A stack of its own for tests that break things (stop Postgres, restart the broker): started by
 * deploy/local/stack in a temporary FH_STACK_DIR on free ports, so the shared stack other tests use
 * is never disturbed. Kafka also has a SCRAM listener and a TLS one (client certificates); the
 * registry keeps its schemas in the stack's PostgreSQL, as by default, so a restart keeps the ids.
 * FH_FAULT_STACK_DIR reuses a stack already started there (and leaves it running), for iterating.
 */
export class FaultStack {
  stack!: TestStack;
  /** host:port of the SASL_PLAINTEXT (SCRAM) listener. */
  scramBrokers!: string[];
  readonly scramUser = 'harvester';
  readonly scramPassword = 'harvester-secret';
  /** host:port of the SSL listener (client certificate required) and the PEM files for it. */
  tlsBrokers!: string[];
  tls!: { caFile: string; certFile: string; keyFile: string };
  private dir = process.env.FH_FAULT_STACK_DIR ?? '';
  private readonly owned = !process.env.FH_FAULT_STACK_DIR;
  private env: NodeJS.ProcessEnv = {};

  async up(): Promise<TestStack> {
    if (this.owned) {
      this.dir = await mkdtemp(path.join(tmpdir(), 'fh-fault-stack-'));
      // a test run stopped from outside (Ctrl-C, a timeout's SIGTERM) skips the after() hooks:
      // without this the stack's Kafka, registry and PostgreSQL outlived it
      process.once('SIGINT', this.onSignal);
      process.once('SIGTERM', this.onSignal);
      const [kafka, controller, registry, postgres, scram, tls] = await freePorts(6);
      this.env = {
        FH_KAFKA_PORT: String(kafka),
        FH_KAFKA_CONTROLLER_PORT: String(controller),
        FH_REGISTRY_PORT: String(registry),
        FH_POSTGRES_PORT: String(postgres),
        FH_KAFKA_SCRAM_PORT: String(scram),
        FH_KAFKA_SCRAM: '1',
        FH_KAFKA_TLS_PORT: String(tls),
        FH_KAFKA_TLS: '1',
        FH_KAFKA_HEAP: '384m',
        FH_REGISTRY_HEAP: '256m',
      };
    }
    await this.run('up');
    const out = parseStackEnv(await this.run('env')) as Record<string, string | undefined>;
    const stack = stackFromEnvironment(out);
    if (!stack || !out.KAFKA_SCRAM_BROKERS || !out.KAFKA_TLS_BROKERS) {
      throw new Error('fault stack printed no endpoints');
    }
    this.tlsBrokers = [out.KAFKA_TLS_BROKERS];
    this.tls = {
      caFile: out.KAFKA_TLS_CA_FILE!,
      certFile: out.KAFKA_TLS_CERT_FILE!,
      keyFile: out.KAFKA_TLS_KEY_FILE!,
    };
    this.stack = { ...stack, source: 'local-stack' };
    this.scramBrokers = [out.KAFKA_SCRAM_BROKERS];
    return this.stack;
  }

  stop(service: StackService): Promise<string> {
    return this.run('down', service);
  }

  start(service: StackService): Promise<string> {
    return this.run('up', service);
  }

  restart(service: StackService): Promise<string> {
    return this.run('restart', service);
  }

  /** Stops every process of this stack and removes its folder (unless reused from FH_FAULT_STACK_DIR). */
  async down(): Promise<void> {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    if (this.owned && this.dir) await this.run('reset');
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    try {
      execFileSync(stackScript, ['reset'], { cwd: repoRoot, env: this.scriptEnv(), stdio: 'ignore' });
    } finally {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
  };

  private scriptEnv(): NodeJS.ProcessEnv {
    // DATABASE_URL must not leak in: the script would use that (shared) server instead of its own
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.env, FH_STACK_DIR: this.dir };
    delete env.DATABASE_URL;
    return env;
  }

  private async run(...args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync(stackScript, args, {
        cwd: repoRoot,
        env: this.scriptEnv(),
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout;
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new Error(`stack ${args.join(' ')} failed:\n${stderr.split('\n').slice(-15).join('\n')}`, {
        cause: err,
      });
    }
  }
}

/** Free TCP ports on loopback (closed again: the caller binds them next). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
