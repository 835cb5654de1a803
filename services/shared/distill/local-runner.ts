import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readDistillerLine, type DistillerReport } from './distiller-args.ts';
import type { DistillRunner, RunRequest, RunResult } from './runner.ts';

export const EXIT_NO_TORCH = 3; // distiller/__main__.py: PyTorch (or numpy) missing

export interface LocalRunnerOptions {
  python: string;
  /** services/distiller, put on PYTHONPATH. */
  distillerDir: string;
  env?: NodeJS.ProcessEnv;
  /** Called with the child's pid once it runs (tests kill it to simulate a crash). */
  onSpawn?: (pid: number, jobId: string) => void;
}

/**
 * Runs the Python distiller as a child process of the worker, streaming its stdout JSON events and
 * stderr lines into the worker's log with the job id. An abort kills the child (SIGTERM, then
 * SIGKILL after 10 s).
 */
export class LocalRunner implements DistillRunner {
  readonly kind = 'local' as const;

  constructor(private readonly options: LocalRunnerOptions) {}

  run(request: RunRequest): Promise<RunResult> {
    const { logger, jobId, attempt } = request;
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const report: DistillerReport = {};
    const pythonPath = [this.options.distillerDir, process.env.PYTHONPATH].filter(Boolean).join(':');
    return new Promise<RunResult>((resolve) => {
      const child = spawn(this.options.python, ['-m', 'distiller', ...request.args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        // DISTILLER_EXIT_WITH_PARENT: the distiller ends when this worker dies (kill -9, OOM) rather
        // than training on as an orphan next to the retry (seen in the chaos soak)
        env: {
          ...process.env,
          ...this.options.env,
          PYTHONPATH: pythonPath,
          PYTHONUNBUFFERED: '1',
          DISTILLER_EXIT_WITH_PARENT: String(process.pid),
        },
      });
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        logger.warn({ jobId, attempt, pid: child.pid }, 'stopping the distiller');
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      };
      if (request.signal.aborted) onAbort();
      else request.signal.addEventListener('abort', onAbort, { once: true });
      if (child.pid !== undefined) this.options.onSpawn?.(child.pid, jobId);
      const stderrTail: string[] = [];
      createInterface({ input: child.stdout }).on('line', (line) => {
        const event = readDistillerLine(line, report);
        if (event)
          logger.info({ jobId, attempt, distiller: event }, `distiller: ${String(event.event ?? 'output')}`);
        else if (line.trim()) logger.info({ jobId, attempt }, `distiller: ${line.slice(0, 500)}`);
      });
      createInterface({ input: child.stderr }).on('line', (line) => {
        if (!line.trim()) return;
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
        logger.info({ jobId, attempt, stream: 'stderr' }, `distiller: ${line.slice(0, 500)}`);
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        request.signal.removeEventListener('abort', onAbort);
        resolve({
          ok: false,
          seconds: seconds(),
          error:
            err.code === 'ENOENT'
              ? `${this.options.python} not found: install Python 3 or set DISTILLER_PYTHON`
              : `cannot start the distiller: ${err.message}`,
        });
      });
      child.on('close', (code, signal) => {
        request.signal.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        if (code === 0 && report.exportedPath && report.sha256) {
          resolve({ ok: true, report, seconds: seconds() });
          return;
        }
        const why =
          code === EXIT_NO_TORCH
            ? 'PyTorch is not installed for the distiller (apt-get install python3-torch, or set DISTILLER_PYTHON)'
            : signal
              ? `the distiller was killed by ${signal}`
              : code === 0
                ? 'the distiller exited without exporting a model'
                : `the distiller exited with status ${code}: ${stderrTail.slice(-3).join(' | ').slice(0, 400)}`;
        resolve({ ok: false, error: why, seconds: seconds(), exitCode: code, signal });
      });
    });
  }
}
