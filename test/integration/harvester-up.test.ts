import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  Cleanup,
  freshDeployment,
  getTestStack,
  type FreshDeployment,
  type TestStack,
} from '../support/index.ts';
import { waitFor } from '../support/report-labeler.ts';

/**
 * `harvester up --feed synthetic` as a user runs it: one command brings up the whole streaming
 * system on the stack (its own topics and schema here), feeds a small synthetic hospital with its
 * expert annotations, shows the loop reach a gate decision, and stops everything on Ctrl-C.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PYTHON = process.env.DISTILLER_PYTHON ?? '/usr/bin/python3';
const torch = spawnSync(PYTHON, ['-c', 'import torch, numpy, onnx, psycopg2'], { encoding: 'utf8' });
const skip = torch.status === 0 ? false : `the Python distiller is not importable with ${PYTHON}`;

describe('harvester up', { skip }, () => {
  const cleanup = new Cleanup();
  let fresh: FreshDeployment;
  let stack: TestStack;
  let dir: string;

  before(async () => {
    stack = await getTestStack();
    dir = await mkdtemp(path.join(tmpdir(), 'fh-up-'));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));
    fresh = await freshDeployment(stack, 'up', cleanup);
  });
  after(() => cleanup.run());

  it(
    'runs the loop from one command to a gate decision and stops everything on Ctrl-C',
    { timeout: 600_000 },
    async () => {
      const child = spawn(
        process.execPath,
        ['bin/harvester.js', 'up', '--feed', 'synthetic', '--studies', '30', '--dir', dir],
        {
          cwd: repoRoot,
          env: {
            ...process.env,
            KAFKA_BROKERS: stack.kafkaBrokers.join(','),
            SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
            DATABASE_URL: fresh.databaseUrl,
            KAFKA_TOPIC_PREFIX: fresh.prefix,
            KAFKA_TOPIC_PARTITIONS: '2',
            TRAINING_STORE_URL: path.join(dir, 'store'),
            DISTILL_WORK_DIR: path.join(dir, 'distill'),
            MODEL_CACHE_DIR: path.join(dir, 'models'),
            REPORT_LABELER_HTTP_PORT: '0',
            PSEUDO_LABELER_HTTP_PORT: '0',
            HL7_GATEWAY_PORT: '0',
            HL7_GATEWAY_HTTP_PORT: '0',
            DICOM_GATEWAY_PORT: '0',
            DICOM_GATEWAY_HTTP_PORT: '0',
            DICOM_GATEWAY_STORE_URI: path.join(dir, 'dicom-store'),
            TEACHER_EXECUTION_PROVIDERS: 'cpu',
            PROMOTION_EXECUTION_PROVIDERS: 'cpu',
            DISTILL_RECIPE_EPOCHS: '2',
            DISTILL_RECIPE_THREADS: '1',
            DISTILLER_PYTHON: PYTHON,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = once(child, 'exit');
      cleanup.add(() => void child.kill('SIGKILL'));
      await waitFor(
        'a gate decision',
        () => {
          if (child.exitCode !== null) throw new Error(`harvester up exited early:\n${output}`);
          return /\] gate: student-job1-a1 (promoted|rejected) against sha256-/.test(output);
        },
        540_000,
      );
      child.kill('SIGINT');
      const [code] = await exited;
      assert.equal(code, 0, output);
      for (const line of [
        /registered 5 event schemas/,
        /topics: 9 \(9 created, 0 existed\)/,
        /generated the patient-id pseudonymisation key/,
        /expert annotations: \d+ boxes, \d+ fracture-free images, 10 model inputs in the store/,
        /feed done: \d+ HL7 reports, \d+ images/,
        /active teacher: sha256-2cd706cf8dc1/,
        /distill job 1 requested/,
        /distill job 1 succeeded: student-job1-a1/,
        /stopping hl7-gateway, dicom-gateway, report-labeler, pseudo-labeler, distill-scheduler, distill-worker/,
        /harvester up: ran \d+ s; 30 reports, \d+ images, \d+ pseudo-labels, 1 jobs, 1 gate decisions/,
      ])
        assert.match(output, line);
      for (const service of [
        'hl7-gateway',
        'dicom-gateway',
        'report-labeler',
        'pseudo-labeler',
        'distill-scheduler',
        'distill-worker',
      ]) {
        const log = path.join(dir, 'logs', `${service}.log`);
        assert.ok(existsSync(log), `${service} logs to ${log}`);
        assert.match(
          readFileSync(log, 'utf8'),
          new RegExp(`"msg":"${service} stopped"`),
          `${service} stopped cleanly`,
        );
      }
    },
  );
});
