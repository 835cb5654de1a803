/**
 * Feed speed: publishes a cohort with `--rate 0` (as fast as possible) to fresh topics on the
 * stack in KAFKA_BROKERS / SCHEMA_REGISTRY_URL, prints msgs/s, and deletes the topics.
 * Without --dir it first writes a cohort of --studies studies (not timed).
 *   node --import tsx bench/feed.ts [--dir DIR | --studies 1000 --size 512] [--batch-size 500]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { feedCohort } from '../services/app/feed-cohort.ts';
import { writeCohort } from '../tools/synth/write-cohort.ts';
import { DEFAULT_COHORT_OPTIONS } from '../tools/synth/cohort.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    studies: { type: 'string', default: '1000' },
    size: { type: 'string', default: '512' },
    'batch-size': { type: 'string', default: '500' },
  },
});
const brokers = process.env.KAFKA_BROKERS;
const registry = process.env.SCHEMA_REGISTRY_URL;
if (!brokers || !registry) {
  console.error('set KAFKA_BROKERS and SCHEMA_REGISTRY_URL (eval "$(deploy/local/stack env)")');
  process.exit(1);
}
const owned = values.dir ? undefined : mkdtempSync(join(tmpdir(), 'bench-feed-'));
const dir = values.dir ?? join(owned!, 'cohort');
const suffix = `${process.pid}-${Date.now()}`;
const topics = { hl7: `bench-feed-hl7-${suffix}`, dicom: `bench-feed-dicom-${suffix}` };
const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING });
try {
  if (!values.dir) {
    const studies = Number(values.studies);
    const region = Math.min(200, Math.floor(studies / 5));
    await writeCohort(dir, {
      ...DEFAULT_COHORT_OPTIONS,
      studies,
      size: Number(values.size),
      seed: 'bench-feed',
      regionTrain: region,
      regionTest: region,
    });
  }
  const t0 = performance.now();
  const s = await feedCohort({
    dir,
    rate: '0',
    hl7Topic: topics.hl7,
    dicomTopic: topics.dicom,
    brokers,
    registry,
    batchSize: values['batch-size'],
    progress: false,
  });
  const wall = (performance.now() - t0) / 1000;
  const total = s.sent.hl7 + s.sent.dicom;
  console.log(
    `feed: ${total} messages (${s.sent.hl7} HL7, ${s.sent.dicom} DicomArrived incl. ${s.duplicates.hl7 + s.duplicates.dicom} duplicates)` +
      ` from ${dir}, batch ${values['batch-size']}`,
  );
  console.log(
    `  ${(total / s.seconds).toFixed(0)} msgs/s with --rate 0 (${s.seconds.toFixed(2)} s; each image read and SHA-256 hashed; acks from all replicas)`,
  );
  console.log(`  ${wall.toFixed(2)} s in all, with reading the cohort's headers, planning and connecting`);
  console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
} finally {
  const admin = kafka.admin();
  await admin.connect();
  const existing = new Set(await admin.listTopics());
  const ours = [topics.hl7, topics.dicom].filter((t) => existing.has(t));
  if (ours.length > 0) await admin.deleteTopics({ topics: ours });
  await admin.disconnect();
  if (owned) rmSync(owned, { recursive: true, force: true });
}
