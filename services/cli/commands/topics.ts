import { ensureSystemTopics, type TopicState, type TopicsEnsureOptions } from '../../app/ensure-topics.ts';

/** The table `harvester topics ensure` prints. */
export function formatTopicStates(states: TopicState[]): string {
  const rows = [
    ['topic', 'state', 'partitions', 'replication', 'named by', 'purpose'],
    ...states.map((s) => [
      s.name,
      s.state,
      s.actualPartitions === null ? `(${s.numPartitions})` : String(s.actualPartitions),
      s.replicationFactor === -1 ? 'broker default' : String(s.replicationFactor),
      s.namedBy ?? 'default',
      s.purpose,
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join('  '))
    .join('\n');
}

/** `harvester topics ensure [--check]`. */
export async function topicsEnsureCommand(opts: TopicsEnsureOptions): Promise<void> {
  const states = await ensureSystemTopics(opts);
  console.log(formatTopicStates(states));
  const missing = states.filter((s) => s.state === 'missing');
  if (missing.length > 0) {
    console.error(
      `harvester topics: ${missing.length} topic(s) missing: ${missing.map((s) => s.name).join(', ')}`,
    );
    process.exitCode = 1;
  }
}
