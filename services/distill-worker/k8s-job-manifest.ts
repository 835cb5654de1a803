import { parse } from 'yaml';
import { ExpectedError } from '../shared/errors.ts';

/**
 * The Kubernetes batch/v1 Job of one distillation attempt, rendered from the template in
 * deploy/k8s/distill-job.yaml (pure: template text in, manifest object out). The template holds
 * what operators tune (node selector, tolerations, volumes, the Secret with DATABASE_URL); the
 * renderer sets the per-job fields: name, labels, image, GPU count and the distiller arguments.
 */

export interface JobManifestOptions {
  jobId: string;
  attempt: number;
  version: string;
  /** Distiller arguments after `python -m distiller`. */
  args: string[];
  namespace: string;
  image?: string;
  /** nvidia.com/gpu limit (0: CPU-only job). */
  gpus: number;
}

export class ManifestError extends ExpectedError {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Kubernetes object names: DNS-1123 labels, at most 63 characters. */
export function jobName(jobId: string, attempt: number): string {
  return `distill-job-${jobId}-a${attempt}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63);
}

export function renderDistillJob(template: string, options: JobManifestOptions): Obj {
  const job: unknown = parse(template);
  checkJobManifest(job, 'the template');
  const m = job as Obj;
  const metadata = m.metadata as Obj;
  const name = jobName(options.jobId, options.attempt);
  metadata.name = name;
  metadata.namespace = options.namespace;
  const labels = {
    ...(isObj(metadata.labels) ? metadata.labels : {}),
    'fracture-harvester/job-id': options.jobId,
    'fracture-harvester/attempt': String(options.attempt),
  };
  metadata.labels = labels;
  const spec = m.spec as Obj;
  const podTemplate = spec.template as Obj;
  podTemplate.metadata = {
    ...(isObj(podTemplate.metadata) ? podTemplate.metadata : {}),
    labels: { ...labels, ...((podTemplate.metadata as Obj | undefined)?.labels as Obj | undefined) },
  };
  const container = ((podTemplate.spec as Obj).containers as Obj[])[0]!;
  if (options.image) container.image = options.image;
  container.args = ['-m', 'distiller', ...options.args];
  container.env = [
    ...((container.env as Obj[] | undefined) ?? []).filter((e) => e.name !== 'MODEL_VERSION'),
    { name: 'MODEL_VERSION', value: options.version },
  ];
  const resources = isObj(container.resources) ? container.resources : {};
  const limits = isObj(resources.limits) ? { ...resources.limits } : {};
  if (options.gpus > 0) limits['nvidia.com/gpu'] = options.gpus;
  else delete limits['nvidia.com/gpu'];
  container.resources = { ...resources, limits };
  checkJobManifest(m, 'the rendered Job');
  return m;
}

/** Schema-level checks of a batch/v1 Job as our runner needs it; throws ManifestError saying what. */
export function checkJobManifest(value: unknown, what = 'the Job'): void {
  const fail = (msg: string): never => {
    throw new ManifestError(`${what}: ${msg}`);
  };
  if (!isObj(value)) fail('is not a YAML mapping');
  const m = value as Obj;
  if (m.apiVersion !== 'batch/v1') fail(`apiVersion must be batch/v1, not ${String(m.apiVersion)}`);
  if (m.kind !== 'Job') fail(`kind must be Job, not ${String(m.kind)}`);
  if (!isObj(m.metadata)) fail('has no metadata');
  const name = (m.metadata as Obj).name;
  if (
    name !== undefined &&
    (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name))
  ) {
    fail(`metadata.name ${String(name)} is not a DNS-1123 label`);
  }
  if (!isObj(m.spec)) fail('has no spec');
  const spec = m.spec as Obj;
  // retries are the scheduler's (attempts in distill_jobs), so Kubernetes must not retry on its own
  if (spec.backoffLimit !== 0) fail('spec.backoffLimit must be 0 (the scheduler retries jobs)');
  if (!isObj(spec.template) || !isObj((spec.template as Obj).spec)) fail('has no spec.template.spec');
  const pod = (spec.template as Obj).spec as Obj;
  if (pod.restartPolicy !== 'Never') fail('spec.template.spec.restartPolicy must be Never');
  if (!Array.isArray(pod.containers) || pod.containers.length === 0) fail('has no containers');
  const c = (pod.containers as unknown[])[0];
  if (!isObj(c)) fail('containers[0] is not a mapping');
  const container = c as Obj;
  if (typeof container.name !== 'string' || container.name === '') fail('containers[0].name is missing');
  if (typeof container.image !== 'string' || container.image === '') fail('containers[0].image is missing');
  if (
    container.args !== undefined &&
    !(Array.isArray(container.args) && container.args.every((a) => typeof a === 'string'))
  ) {
    fail('containers[0].args must be a list of strings');
  }
  const limits =
    isObj(container.resources) && isObj(container.resources.limits) ? container.resources.limits : {};
  const gpu = limits['nvidia.com/gpu'];
  if (gpu !== undefined && !(Number.isInteger(gpu) && (gpu as number) > 0))
    fail('nvidia.com/gpu must be a positive integer');
}
