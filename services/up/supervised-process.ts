import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { DEFAULT_RESTART_POLICY, nextRestart, type RestartPolicy } from './restart-policy.ts';

/** What the supervisor tells its caller about a service. */
export type SupervisorEvent =
  | { kind: 'started'; name: string; pid: number; run: number }
  | { kind: 'exited'; name: string; code: number | null; signal: string | null; ranMs: number }
  | { kind: 'restarting'; name: string; inMs: number; crashes: number }
  | { kind: 'stopped'; name: string };

export interface SupervisedOptions {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
  policy?: RestartPolicy;
  onEvent?: (event: SupervisorEvent) => void;
  /** For tests: how a process is started (default child_process.spawn). */
  spawnProcess?: typeof spawn;
}

/**
 * One service kept running: started as a child process with its output in a log file, started
 * again with back-off whenever it exits on its own, and stopped gracefully (SIGTERM, then SIGKILL
 * after the grace period) by stop().
 */
export class SupervisedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private crashes = 0;
  private runs = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: WriteStream;
  readonly name: string;
  /** 'running', 'restarting' (waiting out the back-off) or 'stopped'. */
  state: 'running' | 'restarting' | 'stopped' = 'stopped';

  constructor(private readonly options: SupervisedOptions) {
    this.name = options.name;
    this.log = createWriteStream(options.logFile, { flags: 'a' });
  }

  get restarts(): number {
    return Math.max(0, this.runs - 1);
  }

  start(): void {
    if (this.stopping || this.child) return;
    const o = this.options;
    const started = Date.now();
    const child = (o.spawnProcess ?? spawn)(o.command, o.args, {
      cwd: o.cwd,
      env: o.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.runs++;
    this.state = 'running';
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    o.onEvent?.({ kind: 'started', name: this.name, pid: child.pid ?? 0, run: this.runs });
    this.exited = once(child, 'exit').then(([code, signal]) => {
      this.child = undefined;
      const ranMs = Date.now() - started;
      o.onEvent?.({
        kind: 'exited',
        name: this.name,
        code: code as number | null,
        signal: signal as string | null,
        ranMs,
      });
      if (this.stopping) return;
      const next = nextRestart(this.crashes, ranMs, o.policy ?? DEFAULT_RESTART_POLICY);
      this.crashes = next.crashes;
      this.state = 'restarting';
      o.onEvent?.({ kind: 'restarting', name: this.name, inMs: next.delayMs, crashes: next.crashes });
      this.timer = setTimeout(() => this.start(), next.delayMs);
    });
  }

  /**
   * No more restarts from now on, without signalling the service. Ctrl-C in a terminal reaches the
   * whole process group, so the services exit by themselves while the supervisor is still on its
   * way to stop(); without this, each would be counted as a crash and started again.
   */
  retire(): void {
    this.stopping = true;
    clearTimeout(this.timer);
  }

  /** SIGTERM (the service finishes its batch and commits), SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    this.retire();
    const child = this.child;
    if (child) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(kill);
    }
    this.state = 'stopped';
    this.options.onEvent?.({ kind: 'stopped', name: this.name });
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
