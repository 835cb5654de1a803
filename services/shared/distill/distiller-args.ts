import { ExpectedError } from '../errors.ts';
/**
 * The `python -m distiller distill ...` command line of a job (pure). The student is trained on a
 * snapshot read from Postgres and the training store (distiller/snapshot.py): the expert-reviewed
 * images of the region-train split with their boxes, plus the stored pseudo-labels of the job's
 * teacher version created up to the job's watermark; it is exported to ONNX and registered in
 * model_versions (with that snapshot) by the distiller itself. A prepared cohort folder can stand
 * in for the database as the source of images and boxes (offline experiments).
 */

/** Recipe keys a job may set (DistillJobRequested.recipe), each a distiller option of that name. */
export const RECIPE_OPTIONS = [
  'model',
  'epochs',
  'batch-size',
  'lr',
  'seed',
  'device',
  'threads',
  'method',
  'a0',
  'a',
  't',
  'eps',
  'record-limit',
  'pos-weight',
  'shift',
  'log-every',
  // the training recipe (distiller/recipe.py): a job learns from the stored pseudo-labels with a
  // fixed teacher unless its recipe says teacher-mode ema (the EMA teacher recomputes the maps)
  'teacher-mode',
  'ema-momentum',
  'pretrain-epochs',
  'pretrain-steps',
  'steps',
  'sampling',
] as const;

const VALUE = /^[A-Za-z0-9._:+-]{1,64}$/;

export class RecipeError extends ExpectedError {}

export interface DistillCommand {
  jobId: string;
  attempt: number;
  teacherVersion: string;
  /** Pseudo-labels created up to this instant are the job's (distill_jobs.label_watermark). */
  watermark: Date;
  /** The training store the inputs are read from (TRAINING_STORE_URL as the distiller sees it). */
  storeUrl: string;
  /** A prepared cohort folder instead of the database's D_R and the store (offline runs). */
  preparedDir?: string;
  /** Folder for run directories and exported models (local path or a mounted volume). */
  workDir: string;
  databaseUrl: string;
  recipe: Record<string, string>;
}

/** The version a job's model gets: stable per job and attempt, so a retry never collides. */
export function studentVersion(jobId: string, attempt: number): string {
  return `student-job${jobId}-a${attempt}`;
}

export function distillerArgs(cmd: DistillCommand): {
  args: string[];
  version: string;
  onnxPath: string;
  runDir: string;
} {
  if (!cmd.teacherVersion) throw new RecipeError('the job names no teacher version to distil from');
  const version = studentVersion(cmd.jobId, cmd.attempt);
  const runDir = `${cmd.workDir}/runs/${version}`;
  const onnxPath = `${cmd.workDir}/models/${version}.onnx`;
  const source = cmd.preparedDir ? ['--prepared', cmd.preparedDir] : ['--store', cmd.storeUrl];
  const args = [
    'distill',
    ...source,
    '--watermark',
    cmd.watermark.toISOString(),
    '--out',
    runDir,
    '--database',
    cmd.databaseUrl,
    '--teacher-version',
    cmd.teacherVersion,
    '--version',
    version,
    '--export',
    onnxPath,
  ];
  for (const [key, value] of Object.entries(cmd.recipe).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!(RECIPE_OPTIONS as readonly string[]).includes(key)) {
      throw new RecipeError(
        `recipe option ${key} is not one the distiller job accepts (${RECIPE_OPTIONS.join(', ')})`,
      );
    }
    if (!VALUE.test(value)) throw new RecipeError(`recipe option ${key} has an unsafe value`);
    args.push(`--${key}`, value);
  }
  return { args, version, onnxPath, runDir };
}

/** What the distiller reported on stdout (one JSON object per line; see distiller/train.py). */
export interface DistillerReport {
  version?: string;
  exportedPath?: string;
  sha256?: string;
  registered?: boolean;
  notRegisteredReason?: string;
  metrics?: unknown;
}

/** Folds one stdout line into the report; returns the parsed event (null for non-JSON lines). */
export function readDistillerLine(line: string, report: DistillerReport): Record<string, unknown> | null {
  let event: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    event = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  switch (event.event) {
    case 'done':
      if (typeof event.version === 'string') report.version = event.version;
      break;
    case 'exported':
      if (typeof event.path === 'string') report.exportedPath = event.path;
      if (typeof event.sha256 === 'string') report.sha256 = event.sha256;
      break;
    case 'registered':
      report.registered = true;
      break;
    case 'not_registered':
      report.registered = false;
      report.notRegisteredReason = String(event.reason ?? '');
      break;
    case 'evaluated':
      report.metrics = event.metrics;
      break;
  }
  return event;
}
