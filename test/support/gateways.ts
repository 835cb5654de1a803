import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { waitFor } from './report-labeler.ts';

const execFileAsync = promisify(execFile);

import { freePorts } from './fault-stack.ts';

export { freePorts };

/** Waits until GET /health answers 200 (the service finished starting). */
export async function waitForHealthy(httpPort: number, what: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${what} /health`,
    async () => {
      try {
        return (await fetch(`http://127.0.0.1:${httpPort}/health`)).status === 200;
      } catch {
        return false;
      }
    },
    timeoutMs,
  );
}

/** The value of one Prometheus counter sample (0 when absent). */
export async function metricValue(httpPort: number, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

/** Every record of a topic so far (reads from the beginning with a throw-away group). */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  atLeast: number,
  timeoutMs = 60_000,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  });
  const seen: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message);
      },
    });
    await waitFor(`${atLeast} record(s) on ${topic}`, () => seen.length >= atLeast, timeoutMs);
    // records still in flight right behind the last one expected
    await new Promise((r) => setTimeout(r, 1500));
    return [...seen];
  } finally {
    await consumer.disconnect();
  }
}

/** Decodes Confluent-framed Avro records. */
export async function decodeAll<T>(registry: SchemaRegistry, records: KafkaMessage[]): Promise<T[]> {
  return Promise.all(records.map(async (r) => (await registry.decode(r.value!)) as T));
}

/** Runs a DCMTK tool; resolves with its exit code and output (never rejects on a non-zero exit). */
export async function dcmtk(tool: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(tool, args, { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The storescu option that proposes a file's transfer syntax (storescu proposes uncompressed ones otherwise). */
export const STORESCU_PROPOSE: Record<string, string[]> = {
  '1.2.840.10008.1.2': ['-xi'],
  '1.2.840.10008.1.2.1': [],
  '1.2.840.10008.1.2.2': ['-xb'],
  '1.2.840.10008.1.2.1.99': ['-xd'],
  '1.2.840.10008.1.2.5': ['-xr'],
  '1.2.840.10008.1.2.4.50': ['-xy'],
  '1.2.840.10008.1.2.4.51': ['-xx'],
  '1.2.840.10008.1.2.4.70': ['-xs'],
  '1.2.840.10008.1.2.4.80': ['-xt'],
  '1.2.840.10008.1.2.4.81': ['-xu'],
};

/** Orthanc (Debian's package) as a test PACS: a generated configuration, its own folder and ports. */
export class TestOrthanc {
  private child: ChildProcess | undefined;
  httpPort = 0;
  dicomPort = 0;
  private output = '';

  async start(modalities: Record<string, [string, string, number]>): Promise<void> {
    const dir = await mkdtemp(path.join(tmpdir(), 'fh-orthanc-'));
    [this.httpPort, this.dicomPort] = (await freePorts(2)) as [number, number];
    const config = {
      Name: 'fracture-harvester-test',
      StorageDirectory: path.join(dir, 'db'),
      IndexDirectory: path.join(dir, 'db'),
      HttpPort: this.httpPort,
      DicomPort: this.dicomPort,
      DicomAet: 'ORTHANC',
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      HttpServerEnabled: true,
      DicomServerEnabled: true,
      Plugins: [],
      DicomModalities: modalities,
      // forward in the stored syntax, as a PACS router does (no transcoding)
      DicomScuTimeout: 30,
      StableAge: 1,
    };
    const file = path.join(dir, 'orthanc.json');
    await writeFile(file, JSON.stringify(config, null, 2));
    // Debian installs it in /usr/sbin, which is not on every user's PATH
    const binary = existsSync('/usr/sbin/Orthanc') ? '/usr/sbin/Orthanc' : 'Orthanc';
    this.child = spawn(binary, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000)));
    this.child.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000)));
    await waitFor(
      'Orthanc to answer',
      async () => {
        if (this.child?.exitCode !== null) throw new Error(`Orthanc exited: ${this.output}`);
        try {
          return (await fetch(`http://127.0.0.1:${this.httpPort}/system`)).ok;
        } catch {
          return false;
        }
      },
      60_000,
    );
  }

  async rest(method: string, route: string, body?: Uint8Array | string | object): Promise<unknown> {
    const payload =
      body instanceof Uint8Array || typeof body === 'string' ? body : body ? JSON.stringify(body) : undefined;
    const response = await fetch(`http://127.0.0.1:${this.httpPort}${route}`, { method, body: payload });
    const text = await response.text();
    if (!response.ok) throw new Error(`Orthanc ${method} ${route}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await new Promise((resolve) => this.child!.once('exit', resolve));
  }
}

/** What a sender did to deliver one item: how many attempts, and whether any went unacknowledged or refused. */
export interface Delivery {
  attempts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An interface engine's HL7 sender, with node-hl7-client: one connection per attempt, wait for the
 * ACK; no ACK in time (the gateway closes the connection when Kafka did not acknowledge) means send
 * it again, after a pause. AA ends; AR/AE fail the test (nothing here should be refused).
 */
export async function deliverHl7(
  port: number,
  text: string,
  ackTimeoutMs = 12_000,
  maxAttempts = 30,
): Promise<Delivery> {
  const { Client, Message } = await import('node-hl7-client');
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const client = new Client({ host: '127.0.0.1' });
    let ack: string | undefined;
    const connection = client.createConnection(
      { port, waitAck: true, maxConnectionAttempts: 1 },
      async (res) => {
        ack = res.getMessage().toString();
      },
    );
    connection.on('client.error', () => {});
    try {
      await connection.sendMessage(new Message({ text }));
      const deadline = Date.now() + ackTimeoutMs;
      while (ack === undefined && Date.now() < deadline) await sleep(50);
    } catch {
      // not connected: try again
    } finally {
      await connection.close().catch(() => {});
      client.closeAll();
    }
    const code = ack
      ?.split('\r')
      .find((s) => s.startsWith('MSA'))
      ?.split('|')[1];
    if (code === 'AA') return { attempts: attempt };
    if (code) throw new Error(`message refused with ${code}: ${ack}`);
    await sleep(1000);
  }
  throw new Error(`no AA after ${maxAttempts} attempts`);
}

/** A modality's store with DCMTK's storescu: a failed store (failure status, no association) is sent again. */
export async function deliverDicom(
  port: number,
  file: string,
  proposeFlags: string[] = [],
  maxAttempts = 30,
): Promise<Delivery> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const result = await dcmtk('storescu', [
      '-aet',
      'MODALITY',
      '-aec',
      'HARVESTER',
      ...proposeFlags,
      '127.0.0.1',
      String(port),
      file,
    ]);
    if (result.code === 0 && !/Store Failed|Failed|Error/i.test(result.output)) return { attempts: attempt };
    await sleep(1000);
  }
  throw new Error(`storescu did not succeed after ${maxAttempts} attempts: ${file}`);
}
