import {
  KAFKA_SERVICES,
  resolveSystemTopics,
  SYSTEM_TOPICS,
  type KafkaService,
  type TopicProvisioningEnv,
} from './system-topics.ts';

/**
 * Least-privilege Kafka (docs/kafka-security.md): one principal per service and gateway plus an
 * operator, and the access each needs, derived from the system topic catalog (system-topics.ts:
 * each topic's writers and readers), so the ACLs follow the same topic names the services resolve.
 * Dead-letter topics hold PHI (the original bytes): the service that dead-letters may write them,
 * only the operator may read them.
 */

export const KAFKA_PRINCIPALS = [...KAFKA_SERVICES, 'operator'] as const;
export type KafkaPrincipal = KafkaService | 'operator';

/**
 * The consumer groups each principal joins: the group variables the services read (with their
 * defaults), and name prefixes for groups made up at run time (the teacher hot-swap's per-process
 * group; the operator's ad-hoc readers, e.g. `operator-dlq-review`).
 */
const GROUPS: Partial<
  Record<KafkaPrincipal, Array<{ variable?: string; name: string; prefixed?: boolean }>>
> = {
  'report-labeler': [{ variable: 'REPORT_LABELER_GROUP_ID', name: 'report-labeler' }],
  'pseudo-labeler': [
    { variable: 'PSEUDO_LABELER_GROUP_ID', name: 'pseudo-labeler' },
    { name: 'pseudo-labeler-releases-', prefixed: true },
  ],
  'distill-worker': [{ variable: 'DISTILL_WORKER_GROUP_ID', name: 'distill-worker' }],
  operator: [{ name: 'operator', prefixed: true }],
};

export type AclOperation = 'read' | 'write' | 'describe';

/** One ACL to write: allow `principal` these operations on a topic or group (literal or by prefix). */
export interface AclGrant {
  principal: KafkaPrincipal;
  resource: 'topic' | 'group';
  name: string;
  prefixed: boolean;
  operations: AclOperation[];
}

/**
 * Every grant of the system as this environment names its topics and groups (apply the topic
 * defaults first: withTopicDefaults). Nothing is granted that is not listed here: with
 * allow.everyone.if.no.acl.found=false, everything else is refused. Producers need no cluster
 * grant: WRITE on a topic implies IDEMPOTENT_WRITE (Kafka 2.8+). Creating topics is the
 * operator's (`harvester topics ensure`); services run with KAFKA_CREATE_TOPICS=false.
 */
export function aclGrants(env: NodeJS.ProcessEnv, settings: TopicProvisioningEnv): AclGrant[] {
  const grants: AclGrant[] = [];
  for (const topic of resolveSystemTopics(env, settings)) {
    const access = SYSTEM_TOPICS.find((t) => t.id === topic.id)!;
    const topicGrant = (principal: KafkaPrincipal, operations: AclOperation[]): AclGrant => ({
      principal,
      resource: 'topic',
      name: topic.name,
      prefixed: false,
      operations,
    });
    for (const p of access.writers) grants.push(topicGrant(p, ['write', 'describe']));
    for (const p of access.readers) grants.push(topicGrant(p, ['read', 'describe']));
    grants.push(topicGrant('operator', ['read', 'describe']));
  }
  for (const [principal, groups] of Object.entries(GROUPS) as Array<
    [KafkaPrincipal, NonNullable<(typeof GROUPS)[KafkaPrincipal]>]
  >) {
    for (const g of groups) {
      const name = (g.variable && env[g.variable]) || g.name;
      grants.push({
        principal,
        resource: 'group',
        name,
        prefixed: g.prefixed ?? false,
        operations: ['read', 'describe'],
      });
    }
  }
  return grants;
}
