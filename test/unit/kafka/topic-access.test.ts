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
  type DistillSchedulerConfig,
} from '../../../services/distill-scheduler/config.ts';
import { distillWorkerTopics, type DistillWorkerConfig } from '../../../services/distill-worker/config.ts';
import { pseudoLabelerTopics, type PseudoLabelerConfig } from '../../../services/pseudo-labeler/config.ts';
import { reportLabelerTopics, type ReportLabelerConfig } from '../../../services/report-labeler/config.ts';
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

  it('grants each service exactly the topics it provisions at start-up, so the catalog cannot drift from the code', () => {
    // the services' own lists of the topics they read and write, under the default names
    const env = withTopicDefaults({});
    const used: Array<[KafkaService, string[]]> = [
      ['report-labeler', reportLabelerTopics(env as unknown as ReportLabelerConfig).map((t) => t.id)],
      [
        'pseudo-labeler',
        pseudoLabelerTopics({ ...env, TEACHER_HOT_SWAP: true } as unknown as PseudoLabelerConfig).map(
          (t) => t.id,
        ),
      ],
      [
        'distill-scheduler',
        distillSchedulerTopics(env as unknown as DistillSchedulerConfig).map((t) => t.id),
      ],
      ['distill-worker', distillWorkerTopics(env as unknown as DistillWorkerConfig).map((t) => t.id)],
    ];
    for (const [service, ids] of used) {
      const granted = SYSTEM_TOPICS.filter(
        (t) => t.writers.includes(service) || t.readers.includes(service),
      ).map((t) => t.id);
      assert.deepEqual([...granted].sort(), [...ids].sort(), `${service}: catalog access = topics it uses`);
    }
  });

  it('the local stack makes a SCRAM user for every principal (FH_KAFKA_ACL=1)', () => {
    const script = readFileSync(new URL('../../../deploy/local/stack', import.meta.url), 'utf8');
    const users = /^ACL_USERS=\(([^)]*)\)/m.exec(script)?.[1]?.trim().split(/\s+/);
    assert.deepEqual([...(users ?? [])].sort(), [...KAFKA_PRINCIPALS].sort());
  });
});
