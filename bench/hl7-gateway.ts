/**
 * HL7 gateway throughput and ACK latency against its ceiling, in one run: MLLP senders (1, then 8
 * connections, each sending its next message when the previous ACK arrives, as interface engines
 * do) to `harvester run hl7-gateway` (a child process, as deployed), which publishes to a fresh topic
 * with acks=all. The ceiling is kafkajs producing the same messages alone, one at a time per sender
 * (acks=all, idempotent), from this process: what the gateway adds is the difference.
 *   npm run bench:hl7-gateway [-- --messages 4000]
 * Needs Kafka (KAFKA_BROKERS, or deploy/local/stack).
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { CompressionTypes, Partitioners } from 'kafkajs';
import { mllpFrame } from '../services/hl7-gateway/mllp-framer.ts';
import { freePorts, waitForHealthy } from '../test/support/gateways.ts';
import { buildOruMessage, FINDINGS } from '../test/support/hl7-builder.ts';
import { createTestKafka, deleteTopics, getTestStack, uniqueTopicName } from '../test/support/index.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '4000' } } });
const total = Number(values.messages);

const message = (i: number) =>
  buildOruMessage({
    messageControlId: `BENCH-${i}`,
    accession: `ACC-${i >> 1}`,
    status: 'F',
    patientId: `MRN${i}`,
    text: FINDINGS.ribPositive,
  });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Run {
  perSecond: number;
  p50: number;
  p99: number;
}

function summarise(latenciesMs: number[], seconds: number): Run {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    perSecond: latenciesMs.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

/** One MLLP connection sending `count` messages, each after the previous ACK. */
async function mllpSender(port: number, first: number, count: number, latencies: number[]): Promise<void> {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.setNoDelay(true);
  let buffer = '';
  let waiting: (() => void) | undefined;
  socket.on('data', (d) => {
    buffer += d.toString('latin1');
    if (buffer.includes('\x1c\r')) {
      if (!buffer.includes('MSA|AA|')) throw new Error(`not AA: ${buffer}`);
      buffer = '';
      waiting?.();
    }
  });
  for (let i = first; i < first + count; i++) {
    const acked = new Promise<void>((resolve) => (waiting = resolve));
    const t0 = performance.now();
    socket.write(mllpFrame(message(i)));
    await acked;
    latencies.push(performance.now() - t0);
  }
  socket.end();
}

async function main(): Promise<void> {
  const stack = await getTestStack();
  const kafka = createTestKafka(stack);
  const topics: string[] = [];
  const results: Array<[string, number, Run]> = [];
  try {
    // ceiling: kafkajs alone
    const rawTopic = uniqueTopicName('bench.raw');
    topics.push(rawTopic);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: rawTopic, numPartitions: 6 }] });
    await admin.disconnect();
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    for (const connections of [1, 8]) {
      const latencies: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: connections }, async (_, c) => {
          const per = Math.floor(total / connections);
          for (let i = c * per; i < (c + 1) * per; i++) {
            const s = performance.now();
            await producer.send({
              topic: rawTopic,
              acks: -1,
              compression: CompressionTypes.None,
              messages: [{ key: `GENHOSP|BENCH-${i}`, value: message(i) }],
            });
            latencies.push(performance.now() - s);
          }
        }),
      );
      results.push([
        'kafkajs produce alone (ceiling)',
        connections,
        summarise(latencies, (performance.now() - t0) / 1000),
      ]);
    }
    {
      // the broker's own throughput bound: the same messages in requests of 100, no per-message wait
      const t0 = performance.now();
      const latencies: number[] = [];
      for (let i = 0; i < total; i += 100) {
        const s = performance.now();
        const batch = Array.from({ length: Math.min(100, total - i) }, (_, k) => ({
          key: `GENHOSP|BENCH-${i + k}`,
          value: message(i + k),
        }));
        await producer.send({
          topic: rawTopic,
          acks: -1,
          compression: CompressionTypes.None,
          messages: batch,
        });
        const ms = performance.now() - s;
        for (let k = 0; k < batch.length; k++) latencies.push(ms);
      }
      results.push([
        'kafkajs produce alone, 100 per request',
        1,
        summarise(latencies, (performance.now() - t0) / 1000),
      ]);
    }
    await producer.disconnect();

    // the gateway, as deployed
    const topic = uniqueTopicName('bench.hl7.oru.raw');
    topics.push(topic);
    const [mllpPort, httpPort] = (await freePorts(2)) as [number, number];
    const child = spawn(process.execPath, ['bin/harvester.js', 'run', 'hl7-gateway'], {
      env: {
        ...process.env,
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        HL7_GATEWAY_TOPIC: topic,
        HL7_GATEWAY_PORT: String(mllpPort),
        HL7_GATEWAY_HOST: '127.0.0.1',
        HL7_GATEWAY_HTTP_PORT: String(httpPort),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      await waitForHealthy(httpPort, 'hl7-gateway');
      for (const connections of [1, 8]) {
        const latencies: number[] = [];
        const per = Math.floor(total / connections);
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: connections }, (_, c) =>
            mllpSender(mllpPort, connections * 100_000 + c * per, per, latencies),
          ),
        );
        results.push([
          'hl7-gateway (MLLP, AA after Kafka ack)',
          connections,
          summarise(latencies, (performance.now() - t0) / 1000),
        ]);
      }
    } finally {
      child.kill('SIGTERM');
    }
  } finally {
    await deleteTopics(kafka, topics).catch(() => {});
  }
  console.log(
    `HL7 gateway vs kafkajs alone: ${total} ORU^R01 messages (${message(0).length} bytes) per run, ${os.cpus().length} CPUs`,
  );
  console.log('| path | connections | messages/s | ACK latency p50 (ms) | p99 (ms) |');
  console.log('|---|---|---|---|---|');
  for (const [name, connections, r] of results) {
    console.log(
      `| ${name} | ${connections} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
    );
  }
}

await main();
