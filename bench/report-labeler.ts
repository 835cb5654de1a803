/**
 * report-labeler end to end: N HL7 ORU messages are put on a fresh topic (1 partition), then ONE
 * labeler process (`harvester run report-labeler`, as deployed) consumes them into Postgres and
 * publishes ReportLabel events. Reports/s = messages committed (ledger rows, written in the same
 * transaction as the reports) per second, from the first committed batch to the last one; the
 * consumer's resident memory is sampled from its /metrics endpoint while it works.
 *   npm run bench:report-labeler [-- --messages 50000 --batch 2000]
 * Needs the stack (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL, or deploy/local/stack).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { createServer } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCsvRecords, reportTextFromColumns } from '../services/shared/report-rules/report-csv.ts';
import { migrateDatabase } from '../services/shared/db/migrate.ts';
import { createSchemaRegistry, registerEventSchemas } from '../services/shared/events/registry.ts';
import { buildOruMessage, FINDINGS, NON_CHEST_PROCEDURE } from '../test/support/hl7-builder.ts';
import {
  Cleanup,
  createTestKafka,
  createTestProducer,
  createTestSchema,
  createTopics,
  getTestStack,
  uniqueTopicName,
} from '../test/support/index.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '2000' },
  },
});
const total = Number(values.messages);
const batch = values.batch!;

/**
 * Report texts: the real chest radiograph reports of the Open-i development set when present
 * (/work/shared/data/openi-dev, the mix a hospital feed has: mostly normal, some fractures), else a
 * small built-in set.
 */
function reportTexts(): string[] {
  const csv = join(import.meta.dirname, '../../shared/data/openi-dev/reports.csv');
  if (!existsSync(csv)) return Object.values(FINDINGS);
  let header: string[] = [];
  const texts: string[] = [];
  for (const rec of readCsvRecords(readFileSync(csv, 'utf8'))) {
    if ('error' in rec) continue;
    if (rec.row === 0) header = rec.fields.map((h) => h.toLowerCase());
    else texts.push(reportTextFromColumns((c) => rec.fields[header.indexOf(c)]));
  }
  return texts.filter((t) => t.trim().length > 0);
}
const TEXTS = reportTexts();

/** 90% final chest reports, 5% preliminaries (followed later by their final), 5% other studies. */
function message(i: number): { key: string; value: string } {
  const id = `B${i}`;
  const kind = i % 20;
  const spec =
    kind === 0
      ? { status: 'F', procedureCode: NON_CHEST_PROCEDURE.code, procedureText: NON_CHEST_PROCEDURE.text }
      : kind === 1
        ? { status: 'P' }
        : { status: 'F' };
  // a preliminary's final arrives 1 message later with the same accession
  const accession = kind === 2 ? `BACC${i - 1}` : `BACC${i}`;
  return {
    key: `GENHOSP|${id}`,
    value: buildOruMessage({
      messageControlId: id,
      accession,
      patientId: `MRN${i % 9973}`,
      text: TEXTS[i % TEXTS.length]!,
      ...spec,
    }),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return NaN;
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

const cleanup = new Cleanup();
try {
  const stack = await getTestStack();
  const kafka = createTestKafka(stack, 'bench-report-labeler');
  const input = uniqueTopicName('bench.hl7.oru.raw');
  const output = uniqueTopicName('bench.labels.report');
  cleanup.add(
    await createTopics(kafka, [
      { topic: input, numPartitions: 1 },
      { topic: output, numPartitions: 1 },
      { topic: `${input}.dlq`, numPartitions: 1 },
    ]),
  );
  const db = await createTestSchema(stack, 'bench_labeler');
  cleanup.add(() => db.drop());
  await migrateDatabase({ database: stack.databaseUrl, schema: db.schema });
  await registerEventSchemas(createSchemaRegistry({ url: stack.schemaRegistryUrl }), { ReportLabel: output });

  const producer = createTestProducer(kafka);
  await producer.connect();
  const produceStart = process.hrtime.bigint();
  let bytes = 0;
  for (let i = 0; i < total; i += 1000) {
    const messages = Array.from({ length: Math.min(1000, total - i) }, (_, j) => message(i + j));
    for (const m of messages) bytes += Buffer.byteLength(m.value);
    await producer.send({ topic: input, acks: -1, messages });
  }
  const produceSeconds = Number(process.hrtime.bigint() - produceStart) / 1e9;
  await producer.disconnect();

  const port = await freePort();
  const url = new URL(stack.databaseUrl);
  url.searchParams.set('options', `-c search_path=${db.schema},public`);
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      'bin/harvester.js',
      'run',
      'report-labeler',
    ],
    {
      env: {
        ...process.env,
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
        DATABASE_URL: url.toString(),
        PATIENT_ID_HMAC_KEY: 'bench-hmac-key-0123456789abcdef0123456789',
        REPORT_LABELER_GROUP_ID: uniqueTopicName('bench-labeler'),
        REPORT_LABELER_INPUT_TOPIC: input,
        REPORT_LABELER_OUTPUT_TOPIC: output,
        REPORT_LABELER_MAX_BATCH_MESSAGES: batch,
        REPORT_LABELER_HTTP_PORT: String(port),
        REPORT_LABELER_HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  cleanup.add(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  const started = process.hrtime.bigint();

  let peakRss = 0;
  const rssSamples: number[] = [];
  const sampleRss = async () => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const m = /harvester_report_labeler_process_resident_memory_bytes (\d+)/.exec(text);
      if (m) {
        rssSamples.push(Number(m[1]));
        peakRss = Math.max(peakRss, Number(m[1]));
      }
    } catch {
      // not listening yet
    }
  };
  let cpuAtFirst: number | undefined;
  let countAtFirst = 0;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`labeler exited with ${child.exitCode}`);
    await sampleRss();
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM hl7_message_ledger');
    if (cpuAtFirst === undefined && rows[0]!.n > 0) {
      cpuAtFirst = cpuSeconds(child.pid!);
      countAtFirst = rows[0]!.n;
    }
    if (rows[0]!.n >= total) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // CPU of the consumer while it worked, and of its Postgres backends (their whole life)
  const consumerCpu = cpuSeconds(child.pid!) - cpuAtFirst!;
  const backends = await db.pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE application_name = 'report-labeler'`,
  );
  const postgresCpu = backends.rows.reduce((sum, b) => sum + cpuSeconds(b.pid), 0);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { rows } = await db.pool.query<{
    first: Date;
    last: Date;
    first_batch: number;
    reports: number;
    outcomes: string;
  }>(
    `SELECT min(processed_at) AS first, max(processed_at) AS last,
       (SELECT count(*)::int FROM hl7_message_ledger WHERE processed_at = (SELECT min(processed_at) FROM hl7_message_ledger)) AS first_batch,
       (SELECT count(*)::int FROM reports) AS reports,
       (SELECT string_agg(outcome || '=' || n, ' ') FROM (SELECT outcome, count(*) AS n FROM hl7_message_ledger GROUP BY outcome ORDER BY outcome) o) AS outcomes
     FROM hl7_message_ledger`,
  );
  const r = rows[0]!;
  // processed_at is each batch transaction's start: rows after the first batch over the time between
  const steadySeconds = (r.last.getTime() - r.first.getTime()) / 1000;
  const steadyRate = (total - r.first_batch) / steadySeconds;
  child.kill('SIGTERM');
  await once(child, 'exit');

  const mib = (b: number) => (b / 1048576).toFixed(0);
  rssSamples.sort((a, b) => a - b);
  console.log(
    `report-labeler: ${total} HL7 messages (${(bytes / total).toFixed(0)} bytes each), 1 partition, 1 consumer, ` +
      `batch ${batch}; ${TEXTS.length} distinct report texts; ledger ${r.outcomes}; ${r.reports} reports`,
  );
  console.log(
    `  produce to topic:           ${Math.round(total / produceSeconds).toLocaleString('en-US')} msg/s`,
  );
  console.log(
    `  topic -> committed rows:    ${Math.round(steadyRate).toLocaleString('en-US')} report messages/s (first to last batch commit)`,
  );
  console.log(
    `  including start-up:         ${Math.round(total / wallSeconds).toLocaleString('en-US')} report messages/s ` +
      `(${wallSeconds.toFixed(1)} s from process start, group join included)`,
  );
  const perReport = (sec: number, n: number) => ((sec / n) * 1e6).toFixed(0);
  console.log(
    `  CPU per report:             consumer ${perReport(consumerCpu, total - countAtFirst)} µs, ` +
      `its Postgres backends ${perReport(postgresCpu, total)} µs ` +
      `(CPU-bound capacity of one consumer: ${Math.round((total - countAtFirst) / consumerCpu).toLocaleString('en-US')} reports/s)`,
  );
  console.log(`  machine load average:       ${load} (${os.cpus().length} cores; other work shares them)`);
  console.log(
    `  consumer RSS under load:    peak ${mib(peakRss)} MiB, median ${mib(rssSamples[Math.floor(rssSamples.length / 2)] ?? 0)} MiB ` +
      `(${rssSamples.length} samples)`,
  );
} finally {
  await cleanup.run();
}
