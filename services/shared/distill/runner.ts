import type { Logger } from '../observability/logger.ts';
import type { DistillerReport } from './distiller-args.ts';

/** One attempt of a job as a runner sees it. */
export interface RunRequest {
  jobId: string;
  attempt: number;
  version: string;
  /** Distiller arguments (after `python -m distiller`). */
  args: string[];
  onnxPath: string;
  logger: Logger;
  /** Aborted when the worker loses the job's lease or shuts down: the run must stop. */
  signal: AbortSignal;
}

export type RunResult =
  | { ok: true; report: DistillerReport; seconds: number }
  | { ok: false; error: string; seconds: number; exitCode?: number | null; signal?: string | null };

/** Where a distillation runs: a child process here (`local`) or a Kubernetes Job (`kubernetes`). */
export interface DistillRunner {
  readonly kind: 'local' | 'kubernetes';
  run(request: RunRequest): Promise<RunResult>;
}
