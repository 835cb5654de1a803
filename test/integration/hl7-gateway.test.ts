import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { Batch, Client, Message, type InboundResponse } from 'node-hl7-client';
import { mllpFrame } from '../../services/hl7-gateway/mllp-framer.ts';
import { Cleanup } from '../support/cleanup.ts';
import { freePorts, metricValue, readTopic, waitForHealthy } from '../support/gateways.ts';
import { buildOruMessage, FINDINGS } from '../support/hl7-builder.ts';
import { createTestKafka, deleteTopics } from '../support/kafka.ts';
import { uniqueTopicName } from '../support/names.ts';
import { waitFor } from '../support/report-labeler.ts';
import { ServiceProcess } from '../support/service-process.ts';
import { getTestStack } from '../support/stack.ts';

// The HL7 gateway as `harvester run hl7-gateway`, with node-hl7-client as the RIS: single messages,
// a batch, refusals, and a sender that disconnects in the middle of a message.

const cleanup = new Cleanup();
const topic = uniqueTopicName('hl7.oru.raw');
let kafka: Kafka;
let mllpPort: number;
let httpPort: number;
let logFile: string;

const oru = (id: string, accession = `ACC-${id}`) =>
  buildOruMessage({
    messageControlId: id,
    accession,
    status: 'F',
    patientId: 'MRN42',
    text: FINDINGS.ribPositive,
  });

/** Sends messages one at a time over one node-hl7-client connection, each after the previous ACK. */
async function sendWithClient(messages: Array<Message | Batch>, expectAcks: number): Promise<string[]> {
  const acks: string[] = [];
  const client = new Client({ host: '127.0.0.1' });
  let wake: (() => void) | undefined;
  const connection = client.createConnection(
    { port: mllpPort, waitAck: true },
    async (res: InboundResponse) => {
      acks.push(res.getMessage().toString());
      wake?.();
    },
  );
  try {
    for (const m of messages) {
      const before = acks.length;
      const got = new Promise<void>((resolve) => (wake = resolve));
      await connection.sendMessage(m);
      await Promise.race([
        got,
        new Promise((_, reject) => setTimeout(() => reject(new Error('no ACK in 15 s')), 15_000)),
      ]);
      await waitFor('all ACKs of this send', () => acks.length > before, 15_000);
    }
    await waitFor(`${expectAcks} ACK(s)`, () => acks.length >= expectAcks, 15_000);
    return acks;
  } finally {
    await connection.close();
    client.closeAll();
  }
}

/** Sends raw bytes on a plain socket and returns the framed reply (or '' when the gateway closes). */
function sendRaw(bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(mllpPort, '127.0.0.1', () => socket.write(bytes));
    let reply = '';
    socket.on('data', (d) => {
      reply += d.toString('latin1');
      if (reply.includes('\x1c\r')) {
        socket.end();
        resolve(reply);
      }
    });
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
  });
}

const msa = (ack: string) =>
  ack
    .split(/\r|\n/)
    .find((s) => s.startsWith('MSA'))!
    .split('|');

before(async () => {
  const stack = await getTestStack();
  kafka = createTestKafka(stack);
  const work = await mkdtemp(path.join(tmpdir(), 'fh-hl7-gw-'));
  cleanup.add(() => rm(work, { recursive: true, force: true }));
  cleanup.add(() => deleteTopics(kafka, [topic]));
  [mllpPort, httpPort] = (await freePorts(2)) as [number, number];
  const gateway = new ServiceProcess(
    'hl7-gateway',
    {
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      HL7_GATEWAY_TOPIC: topic,
      HL7_GATEWAY_PORT: String(mllpPort),
      HL7_GATEWAY_HOST: '127.0.0.1',
      HL7_GATEWAY_HTTP_PORT: String(httpPort),
      HL7_GATEWAY_ALLOWED_PEERS: '127.0.0.1',
      HL7_GATEWAY_MAX_MESSAGE_BYTES: '65536',
      KAFKA_TOPIC_PARTITIONS: '2',
    },
    (logFile = path.join(work, 'hl7-gateway.log')),
  );
  cleanup.add(() => gateway.close());
  gateway.start();
  await waitForHealthy(httpPort, 'hl7-gateway');
});

after(() => cleanup.run());

describe('hl7-gateway with node-hl7-client as the sender', () => {
  it('publishes a report byte-exact with the key MSH-4|MSH-10 and answers AA', async () => {
    const text = oru('GW-1');
    const acks = await sendWithClient([new Message({ text })], 1);
    assert.deepEqual(msa(acks[0]!).slice(0, 3), ['MSA', 'AA', 'GW-1']);
    const records = await readTopic(kafka, topic, 1);
    const record = records.find((r) => r.key?.toString() === 'GENHOSP|GW-1');
    assert.ok(record, 'published under GENHOSP|GW-1');
    assert.equal(
      record.value!.toString('latin1').replace(/\r$/, ''),
      new Message({ text }).toString().replace(/\r$/, ''),
    );
  });

  it('acknowledges a batch message by message and publishes each accepted message', async () => {
    const batch = new Batch();
    batch.start();
    for (const id of ['GW-B1', 'GW-B2', 'GW-B3']) batch.add(new Message({ text: oru(id) }));
    batch.end();
    const acks = await sendWithClient([batch], 3);
    assert.deepEqual(
      acks.map((a) => msa(a).slice(0, 3).join('|')),
      ['MSA|AA|GW-B1', 'MSA|AA|GW-B2', 'MSA|AA|GW-B3'],
    );
    const keys = (await readTopic(kafka, topic, 4)).map((r) => r.key?.toString());
    for (const id of ['GW-B1', 'GW-B2', 'GW-B3']) assert.ok(keys.includes(`GENHOSP|${id}`), id);
  });

  it('refuses what it cannot accept with AR and an ERR segment, and publishes none of it', async () => {
    const adt = oru('GW-ADT').replace('ORU^R01', 'ADT^A08');
    const [wrongType] = await sendWithClient([new Message({ text: adt })], 1);
    assert.deepEqual(msa(wrongType!).slice(0, 3), ['MSA', 'AR', 'GW-ADT']);
    assert.match(wrongType!, /ERR\|\|\|200\^Unsupported message type\^HL70357\|E/);

    const notHl7 = await sendRaw(mllpFrame('{"json": "not hl7"}'));
    assert.equal(msa(notHl7)[1], 'AR');
    const big = buildOruMessage({
      messageControlId: 'GW-BIG',
      accession: 'ACC-BIG',
      status: 'F',
      text: 'x'.repeat(70_000),
    });
    const tooLarge = await sendRaw(mllpFrame(big));
    assert.deepEqual(msa(tooLarge).slice(0, 3), ['MSA', 'AR', 'GW-BIG']);
    assert.match(tooLarge, /over the gateway's limit of 65536 bytes/);

    const keys = (await readTopic(kafka, topic, 4)).map((r) => r.key?.toString());
    assert.ok(!keys.some((k) => k === 'GENHOSP|GW-ADT' || k === 'GENHOSP|GW-BIG'));
    assert.equal(
      await metricValue(
        httpPort,
        'harvester_hl7_gateway_messages_total{outcome="refused",reason="too-large"}',
      ),
      1,
    );
  });

  it('publishes nothing of a message whose sender disconnected mid-message, and takes the resend', async () => {
    const whole = mllpFrame(oru('GW-CUT'));
    await new Promise<void>((resolve, reject) => {
      const socket = connect(mllpPort, '127.0.0.1', () => {
        socket.write(whole.subarray(0, Math.floor(whole.length / 2)), () => socket.destroy());
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await waitFor(
      'the abandoned frame counted',
      async () => (await metricValue(httpPort, 'harvester_hl7_gateway_abandoned_frames_total')) === 1,
    );
    const [ack] = await sendWithClient([new Message({ text: oru('GW-CUT') })], 1);
    assert.deepEqual(msa(ack!).slice(0, 3), ['MSA', 'AA', 'GW-CUT']);
    const copies = (await readTopic(kafka, topic, 5)).filter((r) => r.key?.toString() === 'GENHOSP|GW-CUT');
    assert.equal(copies.length, 1, 'exactly one copy: the half message was never published');
  });

  it('logs no patient data: no patient id, no report text', async () => {
    const log = await readFile(logFile, 'utf8');
    assert.ok(log.includes('message refused'), 'the log was written');
    assert.ok(!log.includes('MRN42'), 'no patient id');
    assert.ok(!log.includes('fracture'), 'no report text');
  });
});
