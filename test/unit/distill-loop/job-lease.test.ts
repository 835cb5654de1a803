import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  afterFailedAttempt,
  classifyUnfinishedJob,
  type UnfinishedJob,
} from '../../../services/shared/distill/index.ts';

const now = new Date('2025-06-01T12:00:00Z');
const sec = (s: number) => new Date(now.getTime() - s * 1000);
const policy = { leaseMs: 60_000, claimTimeoutMs: 300_000 };
const running = (over: Partial<UnfinishedJob> = {}): UnfinishedJob => ({
  status: 'running',
  attempt: 1,
  maxAttempts: 3,
  heartbeatAt: sec(10),
  startedAt: sec(100),
  eventPublishedAt: sec(120),
  ...over,
});

describe('classifyUnfinishedJob', () => {
  it('a running job with a recent heartbeat is alive', () => {
    assert.equal(classifyUnfinishedJob(running(), now, policy), 'alive');
  });

  it('a running job whose heartbeat expired is retried while attempts are left', () => {
    assert.equal(classifyUnfinishedJob(running({ heartbeatAt: sec(61) }), now, policy), 'retry');
    assert.equal(classifyUnfinishedJob(running({ heartbeatAt: sec(61), attempt: 2 }), now, policy), 'retry');
  });

  it('the last attempt expiring fails the job', () => {
    assert.equal(classifyUnfinishedJob(running({ heartbeatAt: sec(61), attempt: 3 }), now, policy), 'fail');
  });

  it('a running job that never heartbeat is judged by its start time', () => {
    assert.equal(
      classifyUnfinishedJob(running({ heartbeatAt: null, startedAt: sec(30) }), now, policy),
      'alive',
    );
    assert.equal(
      classifyUnfinishedJob(running({ heartbeatAt: null, startedAt: sec(90) }), now, policy),
      'retry',
    );
  });

  it('a request not yet on Kafka is published; an unclaimed one is published again after the timeout', () => {
    const requested = running({ status: 'requested', heartbeatAt: null, startedAt: null });
    assert.equal(classifyUnfinishedJob({ ...requested, eventPublishedAt: null }, now, policy), 'publish');
    assert.equal(classifyUnfinishedJob({ ...requested, eventPublishedAt: sec(10) }, now, policy), 'alive');
    assert.equal(
      classifyUnfinishedJob({ ...requested, eventPublishedAt: sec(301) }, now, policy),
      'republish',
    );
  });
});

describe('afterFailedAttempt', () => {
  it('retries below the limit and fails at it', () => {
    assert.equal(afterFailedAttempt(1, 2), 'retry');
    assert.equal(afterFailedAttempt(2, 2), 'fail');
    assert.equal(afterFailedAttempt(1, 1), 'fail');
  });
});
