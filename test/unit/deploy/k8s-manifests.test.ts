import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { distillerArgs } from '../../../services/shared/distill/distiller-args.ts';
import {
  checkJobManifest,
  jobName,
  renderDistillJob,
} from '../../../services/distill-worker/k8s-job-manifest.ts';
import { distillSchedulerEnvSchema } from '../../../services/distill-scheduler/config.ts';
import { distillWorkerEnvSchema } from '../../../services/distill-worker/config.ts';
import { pseudoLabelerEnvSchema } from '../../../services/pseudo-labeler/config.ts';
import { dicomGatewayEnvSchema } from '../../../services/dicom-gateway/config.ts';
import { hl7GatewayEnvSchema } from '../../../services/hl7-gateway/config.ts';

const DIR = path.resolve(import.meta.dirname, '../../../deploy/k8s');
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function load(file: string): Obj[] {
  return parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((d) => {
    assert.equal(d.errors.length, 0, `${file}: ${d.errors[0]?.message}`);
    return d.toJS() as Obj;
  });
}

const all = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) => load(file).map((doc) => ({ file, doc })));

describe('deploy/k8s manifests', () => {
  it('every document parses and has apiVersion, kind and metadata.name', () => {
    assert.ok(all.length >= 8);
    for (const { file, doc } of all) {
      assert.equal(typeof doc.apiVersion, 'string', `${file}: apiVersion`);
      assert.equal(typeof doc.kind, 'string', `${file}: kind`);
      assert.match(doc.metadata?.name ?? '', /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${file}: metadata.name`);
    }
  });

  it('has a Deployment per service, each running `harvester run <service>` with the shared config', () => {
    const deployments = all
      .filter((d) => d.doc.kind === 'Deployment' && d.doc.metadata.name !== 'schema-registry')
      .map((d) => d.doc);
    const names = deployments.map((d) => d.metadata.name).sort();
    assert.deepEqual(names, [
      'dicom-gateway',
      'distill-scheduler',
      'distill-worker',
      'hl7-gateway',
      'pseudo-labeler',
      'report-labeler',
    ]);
    for (const d of deployments) {
      assert.equal(d.apiVersion, 'apps/v1');
      assert.ok(d.spec.replicas >= 1);
      assert.deepEqual(d.spec.selector.matchLabels, { 'app.kubernetes.io/name': d.metadata.name });
      assert.equal(d.spec.template.metadata.labels['app.kubernetes.io/name'], d.metadata.name);
      const c = d.spec.template.spec.containers[0];
      assert.equal(typeof c.image, 'string');
      assert.deepEqual(c.args, ['run', d.metadata.name]);
      const refs = c.envFrom.map((e: Obj) => e.configMapRef?.name ?? e.secretRef?.name);
      assert.deepEqual(refs, ['fracture-harvester-config', 'fracture-harvester-secrets']);
      for (const v of c.volumeMounts ?? []) {
        assert.ok(
          d.spec.template.spec.volumes.some((vol: Obj) => vol.name === v.name),
          `${d.metadata.name}: volume ${v.name}`,
        );
      }
    }
  });

  it("exposes each gateway with a Service whose ports are the Deployment's named ports, and shares the image store", () => {
    for (const name of ['hl7-gateway', 'dicom-gateway']) {
      const deployment = all.find((d) => d.doc.kind === 'Deployment' && d.doc.metadata.name === name)!.doc;
      const service = all.find((d) => d.doc.kind === 'Service' && d.doc.metadata.name === name)!.doc;
      assert.deepEqual(service.spec.selector, { 'app.kubernetes.io/name': name });
      const named = deployment.spec.template.spec.containers[0].ports.map((p: Obj) => p.name);
      for (const p of service.spec.ports) assert.ok(named.includes(p.targetPort), `${name}: ${p.targetPort}`);
    }
    const claim = all.find((d) => d.doc.kind === 'PersistentVolumeClaim')!.doc;
    for (const name of ['dicom-gateway', 'pseudo-labeler']) {
      const deployment = all.find((d) => d.doc.kind === 'Deployment' && d.doc.metadata.name === name)!.doc;
      assert.ok(
        deployment.spec.template.spec.volumes.some(
          (v: Obj) => v.persistentVolumeClaim?.claimName === claim.metadata.name,
        ),
        `${name} mounts ${claim.metadata.name}`,
      );
    }
  });

  it('the schema registry keeps its schemas in PostgreSQL, in a database it waits for, and is what SCHEMA_REGISTRY_URL names', () => {
    const registry = all.find(
      (d) => d.doc.kind === 'Deployment' && d.doc.metadata.name === 'schema-registry',
    )!.doc;
    const pod = registry.spec.template.spec;
    const c = pod.containers[0];
    assert.match(c.image, /^apicurio\/apicurio-registry:3\.0\./);
    const env = Object.fromEntries(c.env.map((e: Obj) => [e.name, e.value]));
    assert.equal(env.APICURIO_STORAGE_KIND, 'sql');
    assert.equal(env.APICURIO_STORAGE_SQL_KIND, 'postgresql', 'not the in-memory H2 default');
    assert.equal(env.APICURIO_DATASOURCE_URL, 'jdbc:postgresql://$(PGHOST):$(PGPORT)/$(REGISTRY_DATABASE)');
    assert.equal(env.APICURIO_RULES_GLOBAL_COMPATIBILITY, 'BACKWARD');
    // every $(VAR) the container expands comes from its datasource Secret, which has them all
    const secret = all.find(
      (d) => d.doc.kind === 'Secret' && d.doc.metadata.name === 'schema-registry-datasource',
    )!.doc;
    assert.deepEqual(c.envFrom, [{ secretRef: { name: secret.metadata.name } }]);
    const refs = JSON.stringify(c.env)
      .match(/\$\(([A-Z_]+)\)/g)!
      .map((r) => r.slice(2, -1));
    for (const name of refs) assert.ok(name in secret.stringData, `the Secret defines ${name}`);
    // Postgres first: the init container waits for it and creates the database
    const init = pod.initContainers[0];
    assert.deepEqual(init.envFrom, c.envFrom);
    assert.match(init.command.join(' '), /pg_isready[\s\S]*create database/);
    const service = all.find(
      (d) => d.doc.kind === 'Service' && d.doc.metadata.name === 'schema-registry',
    )!.doc;
    assert.deepEqual(service.spec.selector, { 'app.kubernetes.io/name': 'schema-registry' });
    const cm = all.find((d) => d.doc.kind === 'ConfigMap')!.doc;
    const url = new URL(cm.data.SCHEMA_REGISTRY_URL);
    assert.equal(url.hostname, service.metadata.name);
    assert.equal(Number(url.port), service.spec.ports[0].port);
    assert.equal(url.pathname, '/apis/ccompat/v7');
  });

  it('the worker runs as the ServiceAccount the Role lets manage Jobs', () => {
    const worker = all.find(
      (d) => d.doc.kind === 'Deployment' && d.doc.metadata.name === 'distill-worker',
    )!.doc;
    const role = all.find((d) => d.doc.kind === 'Role')!.doc;
    const binding = all.find((d) => d.doc.kind === 'RoleBinding')!.doc;
    assert.equal(worker.spec.template.spec.serviceAccountName, 'distill-worker');
    assert.equal(binding.subjects[0].name, 'distill-worker');
    assert.equal(binding.roleRef.name, role.metadata.name);
    assert.ok(role.rules[0].verbs.includes('create') && role.rules[0].resources.includes('jobs'));
  });

  it('the ConfigMap is a valid environment for the scheduler, the worker and the pseudo-labeler', () => {
    const cm = all.find((d) => d.doc.kind === 'ConfigMap')!.doc;
    const secret = all.find((d) => d.doc.kind === 'Secret')!.doc;
    const env = { ...cm.data, ...secret.stringData };
    for (const v of Object.values(cm.data))
      assert.equal(typeof v, 'string', 'ConfigMap values must be strings');
    for (const schema of [
      distillSchedulerEnvSchema,
      distillWorkerEnvSchema,
      pseudoLabelerEnvSchema,
      hl7GatewayEnvSchema,
      dicomGatewayEnvSchema,
    ]) {
      const r = schema.safeParse(env);
      assert.ok(r.success, r.success ? '' : JSON.stringify(r.error.issues));
    }
  });

  it('the training store volume is mounted where TRAINING_STORE_URL points, in every pod that reads or writes it', () => {
    const cm = all.find((d) => d.doc.kind === 'ConfigMap')!.doc;
    const storeDir = new URL(cm.data.TRAINING_STORE_URL).pathname;
    const claims = all.filter((d) => d.doc.kind === 'PersistentVolumeClaim').map((d) => d.doc);
    const claim = claims.find((c) => c.metadata.name === 'training-data');
    assert.ok(claim, 'storage.yaml claims training-data');
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteMany'], 'several nodes mount it at once');
    const pods = [
      ...all
        .filter(
          (d) =>
            ['pseudo-labeler', 'distill-worker'].includes(d.doc.metadata.name) && d.doc.kind === 'Deployment',
        )
        .map((d) => [d.doc.metadata.name, d.doc.spec.template.spec]),
      ['distill-job', load('distill-job.yaml')[0]!.spec.template.spec],
    ] as Array<[string, Obj]>;
    assert.equal(pods.length, 3);
    for (const [name, spec] of pods) {
      const volume = spec.volumes.find((v: Obj) => v.persistentVolumeClaim?.claimName === 'training-data');
      assert.ok(volume, `${name} has the training-data volume`);
      const mount = spec.containers[0].volumeMounts.find((m: Obj) => m.name === volume.name);
      assert.ok(mount && storeDir.startsWith(`${mount.mountPath}/`), `${name} mounts it above ${storeDir}`);
      assert.notEqual(mount.readOnly, true, `${name} may write runs and inputs`);
    }
    assert.equal(cm.data.DISTILLER_TRAINING_STORE_URL, '$(TRAINING_STORE_URL)');
    assert.ok(cm.data.DISTILL_WORK_DIR.startsWith('/data/training/'), 'runs and models on the shared volume');
    assert.equal(cm.data.DISTILL_PREPARED_DIR, undefined, 'the loop trains on what it harvested');
  });

  it('the Job template is a valid batch/v1 Job without Kubernetes retries, on a GPU node', () => {
    const [job] = load('distill-job.yaml');
    checkJobManifest(job);
    assert.equal(job!.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'], 1);
  });
});

describe('renderDistillJob', () => {
  const template = readFileSync(path.join(DIR, 'distill-job.yaml'), 'utf8');
  const { args, version } = distillerArgs({
    jobId: '42',
    attempt: 2,
    teacherVersion: 'teacher-synth-v1',
    watermark: new Date('2026-12-03T10:00:00.000Z'),
    storeUrl: '$(TRAINING_STORE_URL)',
    workDir: '/data/training/distill',
    databaseUrl: '$(DATABASE_URL)',
    recipe: { model: 'gpu', epochs: '20' },
  });

  it('sets name, labels, image, GPU count and the distiller arguments', () => {
    const job = renderDistillJob(template, {
      jobId: '42',
      attempt: 2,
      version,
      args,
      namespace: 'fh',
      image: 'reg/distiller:1',
      gpus: 2,
    }) as Obj;
    assert.equal(job.metadata.name, 'distill-job-42-a2');
    assert.equal(job.metadata.namespace, 'fh');
    assert.equal(job.metadata.labels['fracture-harvester/job-id'], '42');
    assert.equal(job.spec.template.metadata.labels['fracture-harvester/attempt'], '2');
    const c = job.spec.template.spec.containers[0];
    assert.equal(c.image, 'reg/distiller:1');
    assert.deepEqual(c.args.slice(0, 3), ['-m', 'distiller', 'distill']);
    assert.ok(c.args.includes('$(DATABASE_URL)'), 'the database URL stays a reference to the Secret');
    assert.deepEqual(c.args.slice(3, 5), ['--store', '$(TRAINING_STORE_URL)'], 'no prepared folder');
    assert.ok(
      c.env.some(
        (e: Obj) =>
          e.name === 'TRAINING_STORE_URL' && e.valueFrom.configMapKeyRef.key === 'TRAINING_STORE_URL',
      ),
      'the Job defines what its arguments refer to',
    );
    assert.deepEqual(c.args.slice(-4), ['--epochs', '20', '--model', 'gpu']);
    assert.equal(c.resources.limits['nvidia.com/gpu'], 2);
    assert.ok(c.env.some((e: Obj) => e.name === 'MODEL_VERSION' && e.value === version));
    assert.ok(
      c.env.some(
        (e: Obj) =>
          e.name === 'DATABASE_URL' && e.valueFrom.secretKeyRef.name === 'fracture-harvester-secrets',
      ),
    );
  });

  it('a CPU job has no GPU limit; the template is not modified between renders', () => {
    const job = renderDistillJob(template, {
      jobId: '7',
      attempt: 1,
      version,
      args,
      namespace: 'fh',
      gpus: 0,
    }) as Obj;
    assert.equal(job.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'], undefined);
    assert.equal(job.spec.template.spec.containers[0].image, 'fracture-harvester-distiller:0.1.0');
  });

  it('refuses templates that would let Kubernetes retry or restart, naming the field', () => {
    assert.throws(
      () =>
        renderDistillJob(template.replace('backoffLimit: 0', 'backoffLimit: 6'), {
          jobId: '1',
          attempt: 1,
          version,
          args,
          namespace: 'fh',
          gpus: 1,
        }),
      /backoffLimit must be 0/,
    );
    assert.throws(
      () =>
        renderDistillJob(template.replace('restartPolicy: Never', 'restartPolicy: OnFailure'), {
          jobId: '1',
          attempt: 1,
          version,
          args,
          namespace: 'fh',
          gpus: 1,
        }),
      /restartPolicy must be Never/,
    );
    assert.throws(() => checkJobManifest({ apiVersion: 'batch/v1', kind: 'CronJob' }), /kind must be Job/);
  });

  it('job names are DNS-1123 labels', () => {
    assert.equal(jobName('12', 3), 'distill-job-12-a3');
    assert.ok(jobName('9'.repeat(80), 1).length <= 63);
  });
});
