import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `node bin/harvester.js run <service>` as a child process, the way it runs in production, so a
 * test can kill -9 it. Its stdout and stderr (pino JSON) are appended to `logFile`.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream;
  private exit: Promise<number | null> = Promise.resolve(null);
  /** Every exit code or signal seen, in order (a crash shows up here). */
  readonly exits: Array<number | string> = [];

  constructor(
    private readonly service: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  start(): void {
    if (this.running) throw new Error(`${this.service} already running`);
    // as deployed: no variable that would hide what the service prints at start
    const { KAFKAJS_NO_PARTITIONER_WARNING: _hidden, ...inherited } = process.env;
    const child = spawn(process.execPath, ['bin/harvester.js', 'run', this.service], {
      cwd: repoRoot,
      env: { ...inherited, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    this.exit = once(child, 'exit').then(([code, signal]) => {
      this.exits.push(signal ?? code);
      return code as number | null;
    });
    this.child = child;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resident set size in bytes (from /proc), or null when not running. */
  rss(): number | null {
    if (!this.running || !this.child?.pid) return null;
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status);
      return kb ? Number(kb[1]) * 1024 : null;
    } catch {
      return null;
    }
  }

  /** kill -9: no shutdown hook runs, nothing is flushed or committed. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exit;
  }

  /** SIGTERM (graceful: finish the batch, commit, disconnect); SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
