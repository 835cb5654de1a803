import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { feedCohort, type FeedCliOptions } from '../../services/app/feed-cohort.ts';
import { writeCohort } from '../../tools/synth/write-cohort.ts';
import { DEFAULT_COHORT_OPTIONS } from '../../tools/synth/cohort.ts';
import type { ManifestLine, ReportLine } from '../../tools/synth/study-output.ts';
import { splitHl7Messages } from '../../services/shared/hl7/split.ts';
import type { DicomArrivedEvent } from '../../services/shared/events/dicom-arrived.ts';
import {
  Cleanup,
  createTestKafka,
  deleteTopics,
  getTestStack,
  releaseTestStack,
  uniqueTopicName,
  type TestStack,
} from '../support/index.ts';

interface Consumed {
  topic: string;
  key: string;
  value: Buffer;
}

/** Reads both topics from the beginning until `expected` messages have come (or fails after a minute). */
async function consumeAll(
  kafka: Kafka,
  topics: string[],
  expected: number,
  cleanup: Cleanup,
): Promise<Consumed[]> {
  const consumer = kafka.consumer({ groupId: uniqueTopicName('feed-test-group') });
  await consumer.connect();
  cleanup.add(() => consumer.disconnect());
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
  const got: Consumed[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${got.length} of ${expected} messages arrived within 60 s`)),
      60_000,
    );
    consumer
      .run({
        eachMessage: async ({ topic, message }) => {
          got.push({ topic, key: message.key?.toString() ?? '', value: message.value! });
          if (got.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.stop();
  return got;
}

describe('harvester feed on the real stack', () => {
  let stack: TestStack;
  let root: string;
  let dir: string;
  let manifest: ManifestLine[];
  let reportLines: ReportLine[];
  let hl7: Buffer[];
  const cleanup = new Cleanup();

  before(async () => {
    stack = await getTestStack();
    root = mkdtempSync(join(tmpdir(), 'fh-feed-it-'));
    cleanup.add(() => rmSync(root, { recursive: true, force: true }));
    dir = join(root, 'cohort');
    await writeCohort(dir, {
      ...DEFAULT_COHORT_OPTIONS,
      studies: 16,
      seed: 'feed-it',
      size: 128,
      regionTrain: 1,
      regionTest: 1,
      multiImageRate: 0.4,
      prelimRate: 0.5,
      correctionRate: 0.25,
      compressedFraction: 0.3,
    });
    const jsonl = (f: string) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
    manifest = jsonl('manifest.jsonl').map((l) => JSON.parse(l) as ManifestLine);
    reportLines = jsonl('reports.jsonl').map((l) => JSON.parse(l) as ReportLine);
    hl7 = splitHl7Messages(readFileSync(join(dir, 'reports.hl7'))).map((m) => m.bytes);
  });
  after(async () => {
    await cleanup.run();
    await releaseTestStack();
  });

  function feedOptions(
    hl7Topic: string,
    dicomTopic: string,
    more: Partial<FeedCliOptions> = {},
  ): FeedCliOptions {
    return {
      dir,
      rate: '0',
      seed: '9',
      duplicateRate: '0.2',
      hl7Topic,
      dicomTopic,
      brokers: stack.kafkaBrokers.join(','),
      registry: stack.schemaRegistryUrl,
      partitions: '2',
      batchSize: '7',
      progress: false,
      ...more,
    };
  }

  it('publishes every report and image, keyed, with decodable DicomArrived events pointing at the files', async () => {
    const hl7Topic = uniqueTopicName('feed-hl7');
    const dicomTopic = uniqueTopicName('feed-dicom');
    const kafka = createTestKafka(stack);
    cleanup.add(() => deleteTopics(kafka, [hl7Topic, dicomTopic]));

    const summary = await feedCohort(feedOptions(hl7Topic, dicomTopic));
    assert.equal(summary.interrupted, false);
    assert.equal(summary.sent.hl7, hl7.length + summary.duplicates.hl7);
    assert.equal(summary.sent.dicom, manifest.length + summary.duplicates.dicom);
    assert.ok(summary.duplicates.hl7 + summary.duplicates.dicom > 0, 'a 20% duplicate rate gives duplicates');

    const got = await consumeAll(
      kafka,
      [hl7Topic, dicomTopic],
      summary.sent.hl7 + summary.sent.dicom,
      cleanup,
    );
    const hl7Got = got.filter((m) => m.topic === hl7Topic);
    const dicomGot = got.filter((m) => m.topic === dicomTopic);
    assert.equal(hl7Got.length, summary.sent.hl7);
    assert.equal(dicomGot.length, summary.sent.dicom);

    // HL7: the raw bytes of reports.hl7, key = sending facility | MSH-10, each report at least once
    const byControlId = new Map(reportLines.map((r, i) => [r.messageControlId, hl7[i]!]));
    const seenReports = new Set<string>();
    for (const m of hl7Got) {
      const [facility, controlId] = m.key.split('|');
      assert.equal(facility, 'SYNTH_HOSP');
      assert.ok(byControlId.has(controlId!), `unknown MSH-10 ${controlId}`);
      assert.ok(m.value.equals(byControlId.get(controlId!)!), `bytes of ${controlId} changed`);
      seenReports.add(controlId!);
    }
    assert.equal(seenReports.size, reportLines.length);

    // DicomArrived: key = accession, fields from the manifest and the file, uri = the file in DIR
    const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl });
    const bySop = new Map(manifest.map((m) => [m.sopInstanceUid, m]));
    const seenImages = new Map<string, DicomArrivedEvent>();
    for (const m of dicomGot) {
      const e = (await registry.decode(m.value)) as DicomArrivedEvent;
      const line = bySop.get(e.sopInstanceUid);
      assert.ok(line, `unknown SOP Instance UID ${e.sopInstanceUid}`);
      assert.equal(m.key, line.accession);
      assert.equal(e.accession, line.accession);
      assert.equal(e.studyInstanceUid, line.studyInstanceUid);
      assert.equal(e.seriesInstanceUid, line.seriesInstanceUid);
      assert.equal(e.modality, line.modality);
      assert.equal(e.viewPosition, line.viewPosition);
      assert.equal(e.rows, line.rows);
      assert.equal(e.columns, line.columns);
      assert.equal(e.photometricInterpretation, line.photometricInterpretation);
      assert.equal(e.transferSyntaxUid, line.transferSyntaxUid);
      assert.equal(e.bodyPartExamined, 'CHEST');
      assert.equal(e.bitsAllocated, 16);
      assert.notEqual(e.patientPseudonym, line.patientId, 'never the patient id itself');
      const path = join(dir, line.file);
      assert.equal(e.uri, pathToFileURL(path).href);
      const bytes = readFileSync(path);
      assert.equal(Number(e.sizeBytes), bytes.length);
      assert.equal(e.sha256, createHash('sha256').update(bytes).digest('hex'));
      const earlier = seenImages.get(e.sopInstanceUid);
      if (earlier) assert.deepEqual(e, earlier, 'a duplicate is the same event');
      seenImages.set(e.sopInstanceUid, e);
    }
    assert.equal(seenImages.size, manifest.length);
  });

  it('stops after the batch in flight when interrupted, and --start-at continues where it stopped', async () => {
    const hl7Topic = uniqueTopicName('feed-hl7');
    const dicomTopic = uniqueTopicName('feed-dicom');
    const kafka = createTestKafka(stack);
    cleanup.add(() => deleteTopics(kafka, [hl7Topic, dicomTopic]));

    const stop = new AbortController();
    const first = await feedCohort(feedOptions(hl7Topic, dicomTopic), {
      signal: stop.signal,
      onProgress: () => stop.abort(),
    });
    assert.equal(first.interrupted, true);
    assert.equal(first.position, 7, 'one batch of --batch-size 7 went out');
    assert.equal(first.sent.hl7 + first.sent.dicom, 7);

    const rest = await feedCohort(feedOptions(hl7Topic, dicomTopic, { startAt: String(first.position) }));
    assert.equal(rest.interrupted, false);
    assert.equal(rest.position, rest.total);
    const total = first.sent.hl7 + first.sent.dicom + rest.sent.hl7 + rest.sent.dicom;
    assert.equal(total, first.total);

    const got = await consumeAll(kafka, [hl7Topic, dicomTopic], total, cleanup);
    assert.equal(got.length, total);
    assert.equal(new Set(got.filter((m) => m.topic === hl7Topic).map((m) => m.key)).size, reportLines.length);
  });
});
