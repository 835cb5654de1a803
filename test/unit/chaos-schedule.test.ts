import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chaosSchedule } from '../../bench/chaos/schedule.ts';

const base = {
  seed: 'chaos-1',
  services: ['report-labeler', 'pseudo-labeler', 'distill-scheduler', 'distill-worker'],
  startSeconds: 60,
  endSeconds: 1140,
  intervalSeconds: 60,
  outageSeconds: 30,
};

describe('the chaos soak schedule', () => {
  it('is the same for the same seed and differs for another', () => {
    assert.deepEqual(chaosSchedule(base), chaosSchedule(base));
    assert.notDeepEqual(chaosSchedule(base), chaosSchedule({ ...base, seed: 'chaos-2' }));
  });

  it('holds one broker restart, one Postgres and one registry outage, and kills for the rest', () => {
    const s = chaosSchedule(base);
    assert.equal(s.length, 18);
    const kinds = s.map((e) => e.fault.kind);
    assert.equal(kinds.filter((k) => k === 'restart-broker').length, 1);
    assert.equal(kinds.filter((k) => k === 'stop-postgres').length, 1);
    assert.equal(kinds.filter((k) => k === 'stop-registry').length, 1);
    assert.equal(kinds.filter((k) => k === 'kill-9').length, 15);
    for (const e of s) {
      if (e.fault.kind === 'kill-9') assert.ok(base.services.includes(e.fault.service));
      if (e.fault.kind === 'stop-postgres' || e.fault.kind === 'stop-registry')
        assert.equal(e.fault.seconds, 30);
    }
  });

  it('keeps faults inside the window, in order, and far enough apart not to overlap', () => {
    for (const seed of ['a', 'b', 'c', 'd', 'e']) {
      const s = chaosSchedule({ ...base, seed });
      for (const e of s) assert.ok(e.at >= base.startSeconds && e.at < base.endSeconds, `${e.at}`);
      for (let i = 1; i < s.length; i++) assert.ok(s[i]!.at - s[i - 1]!.at >= 60 / 3, `${seed} ${i}`);
    }
  });

  it('spaces faults by at least two outages when the interval is shorter', () => {
    const s = chaosSchedule({ ...base, intervalSeconds: 10 });
    assert.equal(s.length, Math.floor(1080 / 60));
  });

  it('still restarts the broker first in a window with room for one fault only', () => {
    const s = chaosSchedule({ ...base, endSeconds: 120 });
    assert.deepEqual(
      s.map((e) => e.fault.kind),
      ['restart-broker'],
    );
  });
});
