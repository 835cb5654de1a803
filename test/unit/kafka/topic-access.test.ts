import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { aclGrants, KAFKA_PRINCIPALS, type AclGrant } from '../../../services/shared/kafka/topic-access.ts';
import {
  topicProvisioningEnvShape,
  withTopicDefaults,
} from '../../../services/shared/kafka/system-topics.ts';
import { z } from 'zod';
import {
  distillSchedulerTopics,
  loadDistillSchedulerConfig,
} from '../../../services/distill-scheduler/config.ts';
import { distillWorkerTopics, loadDistillWorkerConfig } from '../../../services/distill-worker/config.ts';
import { loadPseudoLabelerConfig, pseudoLabelerTopics } from '../../../services/pseudo-labeler/config.ts';
import { loadReportLabelerConfig, reportLabelerTopics } from '../../../services/report-labeler/config.ts';
import { SYSTEM_TOPICS, type KafkaService } from '../../../services/shared/kafka/system-topics.ts';

const settings = z.object(topicProvisioningEnvShape).parse({ KAFKA_TOPIC_PREFIX: 'site1.' });
const grants = aclGrants(withTopicDefaults({ KAFKA_TOPIC_PREFIX: 'site1.' }), settings);
const may = (principal: string, op: string, name: string, resource: AclGrant['resource'] = 'topic') =>
  grants.some(
    (g) =>
      g.principal === principal &&
      g.resource === resource &&
      g.operations.includes(op as never) &&
      (g.prefixed ? name.startsWith(g.name) : g.name === name),
  );

describe('Kafka ACLs from the topic catalog', () => {
  it('lets each service read its inputs and write its outputs, under the topic prefix', () => {
    assert.ok(may('hl7-gateway', 'write', 'site1.hl7.oru.raw'));
    assert.ok(may('report-labeler', 'read', 'site1.hl7.oru.raw'));
    assert.ok(may('report-labeler', 'write', 'site1.labels.report'));
    assert.ok(may('report-labeler', 'write', 'site1.hl7.oru.raw.dlq'));
    assert.ok(may('pseudo-labeler', 'read', 'site1.dicom.arrived'));
    assert.ok(may('pseudo-labeler', 'read', 'site1.labels.report'));
    assert.ok(may('pseudo-labeler', 'read', 'site1.models.released'));
    assert.ok(may('distill-scheduler', 'write', 'site1.distill.jobs'));
    assert.ok(may('distill-worker', 'read', 'site1.distill.jobs'));
    assert.ok(may('distill-worker', 'write', 'site1.models.released'));
    assert.ok(may('report-labeler', 'read', 'report-labeler', 'group'));
    assert.ok(may('pseudo-labeler', 'read', 'pseudo-labeler-releases-host-1-abc', 'group'));
  });

  it("refuses another service's input, a topic a service does not own, and every DLQ but to the operator", () => {
    assert.ok(!may('report-labeler', 'read', 'site1.dicom.arrived'));
    assert.ok(!may('pseudo-labeler', 'read', 'site1.hl7.oru.raw'));
    assert.ok(!may('hl7-gateway', 'write', 'site1.dicom.arrived'));
    assert.ok(!may('pseudo-labeler', 'write', 'site1.labels.report'));
    assert.ok(!may('report-labeler', 'read', 'pseudo-labeler', 'group'));
    for (const dlq of ['site1.hl7.oru.raw.dlq', 'site1.dicom.arrived.dlq', 'site1.labels.report.dlq']) {
      const readers = KAFKA_PRINCIPALS.filter((p) => may(p, 'read', dlq));
      assert.deepEqual(readers, ['operator'], `${dlq} is readable by the operator only`);
    }
  });

  it('follows the group variables the services read', () => {
    const named = aclGrants(withTopicDefaults({ REPORT_LABELER_GROUP_ID: 'rl-blue' }), settings);
    assert.ok(
      named.some((g) => g.principal === 'report-labeler' && g.resource === 'group' && g.name === 'rl-blue'),
    );
  });

  it('grants each service exactly the topics it provisions and the group it joins, so the catalog cannot drift from the code', () => {
    // the services' own configuration (defaults) and lists of the topics they read and write
    const base = {
      KAFKA_BROKERS: 'localhost:9092',
      SCHEMA_REGISTRY_URL: 'http://localhost:8081/apis/ccompat/v7',
      DATABASE_URL: 'postgres://h@localhost/h',
      PATIENT_ID_HMAC_KEY: 'k'.repeat(32),
    };
    const reportLabeler = loadReportLabelerConfig(base);
    const pseudoLabeler = loadPseudoLabelerConfig({ ...base, TEACHER_HOT_SWAP: 'true' });
    const distillWorker = loadDistillWorkerConfig(base);
    const used: Array<[KafkaService, string[], string[]]> = [
      [
        'report-labeler',
        reportLabelerTopics(reportLabeler).map((t) => t.id),
        [reportLabeler.REPORT_LABELER_GROUP_ID],
      ],
      [
        'pseudo-labeler',
        pseudoLabelerTopics(pseudoLabeler).map((t) => t.id),
        [pseudoLabeler.PSEUDO_LABELER_GROUP_ID],
      ],
      ['distill-scheduler', distillSchedulerTopics(loadDistillSchedulerConfig(base)).map((t) => t.id), []],
      [
        'distill-worker',
        distillWorkerTopics(distillWorker).map((t) => t.id),
        [distillWorker.DISTILL_WORKER_GROUP_ID],
      ],
    ];
    const defaults = aclGrants(withTopicDefaults({}), z.object(topicProvisioningEnvShape).parse({}));
    for (const [service, ids, groups] of used) {
      const granted = SYSTEM_TOPICS.filter(
        (t) => t.writers.includes(service) || t.readers.includes(service),
      ).map((t) => t.id);
      assert.deepEqual([...granted].sort(), [...ids].sort(), `${service}: catalog access = topics it uses`);
      const literalGroups = defaults
        .filter((g) => g.principal === service && g.resource === 'group' && !g.prefixed)
        .map((g) => g.name);
      assert.deepEqual(literalGroups, groups, `${service}: the group it joins`);
    }
  });

  it('the local stack makes a SCRAM user for every principal (FH_KAFKA_ACL=1)', () => {
    const script = readFileSync(new URL('../../../deploy/local/stack', import.meta.url), 'utf8');
    const users = /^ACL_USERS=\(([^)]*)\)/m.exec(script)?.[1]?.trim().split(/\s+/);
    assert.deepEqual([...(users ?? [])].sort(), [...KAFKA_PRINCIPALS].sort());
  });
});
