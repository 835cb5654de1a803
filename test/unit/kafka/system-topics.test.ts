import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { loadPseudoLabelerConfig, pseudoLabelerTopics } from '../../../services/pseudo-labeler/config.ts';
import { loadReportLabelerConfig, reportLabelerTopics } from '../../../services/report-labeler/config.ts';
import {
  resolveSystemTopics,
  SYSTEM_TOPICS,
  topicProvisioningEnvShape,
  withTopicDefaults,
} from '../../../services/shared/kafka/system-topics.ts';

const settings = (env: Record<string, string> = {}) => z.object(topicProvisioningEnvShape).parse(env);
const base = {
  KAFKA_BROKERS: 'localhost:9092',
  SCHEMA_REGISTRY_URL: 'http://localhost:8081/apis/ccompat/v7',
  DATABASE_URL: 'postgres://h@localhost/h',
  PATIENT_ID_HMAC_KEY: 'k'.repeat(32),
};

describe('the system topic catalog', () => {
  it('names every topic of DESIGN.md and a dead-letter topic for every consumed input', () => {
    assert.deepEqual(
      SYSTEM_TOPICS.map((t) => t.id),
      [
        'hl7.oru.raw',
        'dicom.arrived',
        'labels.report',
        'labels.pseudo',
        'distill.jobs',
        'models.released',
        'hl7.oru.raw.dlq',
        'dicom.arrived.dlq',
        'labels.report.dlq',
      ],
    );
  });

  it('resolves default names, partitions per KAFKA_TOPIC_PARTITIONS, one partition for jobs and releases', () => {
    const topics = resolveSystemTopics({}, settings({ KAFKA_TOPIC_PARTITIONS: '3' }));
    const byName = Object.fromEntries(topics.map((t) => [t.name, t.numPartitions]));
    assert.deepEqual(byName, {
      'hl7.oru.raw': 3,
      'dicom.arrived': 3,
      'labels.report': 3,
      'labels.pseudo': 3,
      'distill.jobs': 1,
      'models.released': 1,
      'hl7.oru.raw.dlq': 3,
      'dicom.arrived.dlq': 3,
      'labels.report.dlq': 3,
    });
    assert.ok(topics.every((t) => t.replicationFactor === -1 && t.namedBy === null));
  });

  it('KAFKA_TOPIC_PREFIX moves every default name, DLQs included', () => {
    const topics = resolveSystemTopics({}, settings({ KAFKA_TOPIC_PREFIX: 'staging.' }));
    assert.ok(topics.every((t) => t.name.startsWith('staging.')));
    assert.ok(topics.some((t) => t.name === 'staging.dicom.arrived.dlq'));
  });

  it("a service's own variable names the topic; two services naming it differently give both names", () => {
    const env = { REPORT_LABELER_OUTPUT_TOPIC: 'rl.out', PSEUDO_LABELER_LABELS_TOPIC: 'pl.in' };
    const labels = resolveSystemTopics(env, settings()).filter((t) => t.id === 'labels.report');
    assert.deepEqual(
      labels.map((t) => [t.name, t.namedBy]),
      [
        ['rl.out', 'REPORT_LABELER_OUTPUT_TOPIC'],
        ['pl.in', 'PSEUDO_LABELER_LABELS_TOPIC'],
      ],
    );
    const dlqs = resolveSystemTopics(env, settings()).filter((t) => t.id === 'labels.report.dlq');
    assert.deepEqual(
      dlqs.map((t) => t.name),
      ['rl.out.dlq', 'pl.in.dlq'],
    );
  });

  it('rejects a prefix that cannot be part of a topic name, and a zero partition count', () => {
    assert.throws(() => settings({ KAFKA_TOPIC_PREFIX: 'a b' }), /KAFKA_TOPIC_PREFIX/);
    assert.throws(() => settings({ KAFKA_TOPIC_PARTITIONS: '0' }), /KAFKA_TOPIC_PARTITIONS/);
    assert.throws(() => settings({ KAFKA_CREATE_TOPICS: 'yes' }), /KAFKA_CREATE_TOPICS/);
  });

  it('fills unset topic variables with prefixed defaults and keeps set ones', () => {
    const env = withTopicDefaults({ KAFKA_TOPIC_PREFIX: 't1.', DISTILL_JOBS_TOPIC: 'my.jobs' });
    assert.equal(env.REPORT_LABELER_INPUT_TOPIC, 't1.hl7.oru.raw');
    assert.equal(env.TEACHER_RELEASES_TOPIC, 't1.models.released');
    assert.equal(env.DISTILL_JOBS_TOPIC, 'my.jobs');
  });
});

describe('the topics each service ensures at start-up', () => {
  it('report-labeler: its input, the input DLQ and its output, under the prefix', () => {
    const config = loadReportLabelerConfig({ ...base, KAFKA_TOPIC_PREFIX: 'p.' });
    assert.deepEqual(
      reportLabelerTopics(config).map((t) => t.name),
      ['p.hl7.oru.raw', 'p.hl7.oru.raw.dlq', 'p.labels.report'],
    );
  });

  it('pseudo-labeler: both inputs, their DLQs, its output, and models.released only with hot-swap', () => {
    const names = (env: Record<string, string>) =>
      pseudoLabelerTopics(loadPseudoLabelerConfig({ ...base, ...env })).map((t) => t.name);
    assert.deepEqual(names({}), [
      'dicom.arrived',
      'labels.report',
      'dicom.arrived.dlq',
      'labels.report.dlq',
      'labels.pseudo',
    ]);
    assert.ok(names({ TEACHER_HOT_SWAP: 'true' }).includes('models.released'));
  });
});
