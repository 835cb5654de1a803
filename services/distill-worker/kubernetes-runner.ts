import { readFileSync } from 'node:fs';
import https from 'node:https';
import { parse } from 'yaml';
import type { DistillerReport } from '../shared/distill/distiller-args.ts';
import { jobName, renderDistillJob } from './k8s-job-manifest.ts';
import type { DistillRunner, RunRequest, RunResult } from '../shared/distill/runner.ts';
import { ExpectedError } from '../shared/errors.ts';

/** How to reach the cluster API: in-cluster service account, or a kubeconfig's current context. */
export interface ClusterAccess {
  server: string;
  ca?: Buffer;
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** In-cluster when KUBERNETES_SERVICE_HOST is set, else KUBECONFIG (token or client certificate). */
export function clusterAccessFromEnv(env: NodeJS.ProcessEnv = process.env): ClusterAccess {
  if (env.KUBERNETES_SERVICE_HOST) {
    return {
      server: `https://${env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`,
      ca: readFileSync(`${SA_DIR}/ca.crt`),
      token: readFileSync(`${SA_DIR}/token`, 'utf8').trim(),
    };
  }
  if (!env.KUBECONFIG) {
    throw new ExpectedError('DISTILL_RUNNER=kubernetes needs a cluster: run in-cluster or set KUBECONFIG');
  }
  const config = parse(readFileSync(env.KUBECONFIG.split(':')[0]!, 'utf8')) as {
    'current-context'?: string;
    contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
    clusters?: Array<{ name: string; cluster: { server: string; 'certificate-authority-data'?: string } }>;
    users?: Array<{
      name: string;
      user: { token?: string; 'client-certificate-data'?: string; 'client-key-data'?: string };
    }>;
  };
  const ctx = config.contexts?.find((c) => c.name === config['current-context'])?.context;
  const cluster = config.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = config.users?.find((u) => u.name === ctx?.user)?.user ?? {};
  if (!ctx || !cluster) throw new ExpectedError(`KUBECONFIG ${env.KUBECONFIG} has no usable current context`);
  const b64 = (v: string | undefined) => (v ? Buffer.from(v, 'base64') : undefined);
  return {
    server: cluster.server,
    ca: b64(cluster['certificate-authority-data']),
    token: user.token,
    cert: b64(user['client-certificate-data']),
    key: b64(user['client-key-data']),
  };
}

async function api(
  access: ClusterAccess,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const url = new URL(path, access.server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: access.ca,
        cert: access.cert,
        key: access.key,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(access.token ? { authorization: `Bearer ${access.token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON: keep the text */
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export interface KubernetesRunnerOptions {
  template: string;
  namespace: string;
  image?: string;
  gpus: number;
  pollMs: number;
  access: () => ClusterAccess;
  /** The registered model of a version (the distiller in the pod registers it in model_versions). */
  lookupModel: (version: string) => Promise<{ artefactUri: string; checksum: string } | null>;
}

/**
 * Submits the attempt as a Kubernetes Job and waits for it (status polled); an abort deletes it.
 * The pod registers the model itself (--database from the Secret), so the result is read back from
 * model_versions. Not exercised against a cluster here: the manifest is rendered and validated in
 * unit tests.
 */
export class KubernetesRunner implements DistillRunner {
  readonly kind = 'kubernetes' as const;

  constructor(private readonly options: KubernetesRunnerOptions) {}

  async run(request: RunRequest): Promise<RunResult> {
    const started = Date.now();
    const seconds = () => (Date.now() - started) / 1000;
    const o = this.options;
    const manifest = renderDistillJob(o.template, {
      jobId: request.jobId,
      attempt: request.attempt,
      version: request.version,
      args: request.args,
      namespace: o.namespace,
      image: o.image,
      gpus: o.gpus,
    });
    const access = o.access();
    const base = `/apis/batch/v1/namespaces/${encodeURIComponent(o.namespace)}/jobs`;
    const name = jobName(request.jobId, request.attempt);
    const created = await api(access, 'POST', base, manifest);
    if (created.status !== 201 && created.status !== 409) {
      return {
        ok: false,
        seconds: seconds(),
        error: `the cluster refused the Job (${created.status}): ${JSON.stringify(created.json).slice(0, 300)}`,
      };
    }
    request.logger.info(
      { jobId: request.jobId, attempt: request.attempt, k8sJob: name, namespace: o.namespace },
      'Kubernetes Job submitted',
    );
    while (!request.signal.aborted) {
      await new Promise((r) => setTimeout(r, o.pollMs));
      const { status, json } = await api(access, 'GET', `${base}/${name}`);
      if (status !== 200) continue;
      const s = (json as { status?: { succeeded?: number; failed?: number } }).status ?? {};
      if ((s.succeeded ?? 0) > 0) {
        const model = await o.lookupModel(request.version);
        if (!model)
          return {
            ok: false,
            seconds: seconds(),
            error: `the Job succeeded but ${request.version} is not in model_versions`,
          };
        const report: DistillerReport = {
          version: request.version,
          exportedPath: request.onnxPath,
          sha256: model.checksum,
          registered: true,
        };
        return { ok: true, report, seconds: seconds() };
      }
      if ((s.failed ?? 0) > 0)
        return { ok: false, seconds: seconds(), error: `Kubernetes Job ${name} failed` };
    }
    await api(access, 'DELETE', `${base}/${name}?propagationPolicy=Background`).catch(() => {});
    return {
      ok: false,
      seconds: seconds(),
      error: `Kubernetes Job ${name} deleted: the worker stopped or lost the lease`,
    };
  }
}
