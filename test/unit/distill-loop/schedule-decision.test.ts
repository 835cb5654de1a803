import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkSchedulePolicy,
  decideDistillRequest,
  type DistillSchedulePolicy,
} from '../../../services/shared/distill/index.ts';

const H = 3_600_000;
const now = new Date('2025-06-01T12:00:00Z');
const ago = (hours: number) => new Date(now.getTime() - hours * H);
const policy: DistillSchedulePolicy = {
  minNewLabelsPerClass: 100,
  minIntervalHours: 6,
  maxIntervalHours: 48,
};

describe('decideDistillRequest', () => {
  it('requests when one class reaches the threshold, naming the classes that did', () => {
    const d = decideDistillRequest(
      { newLabels: { rib: 100, clavicle: 3 }, lastRequestedAt: ago(10) },
      now,
      policy,
    );
    assert.deepEqual(d, { request: true, reason: 'label-volume', classes: ['rib'] });
  });

  it('requests the first job by volume alone', () => {
    const d = decideDistillRequest(
      { newLabels: { rib: 5, clavicle: 250 }, lastRequestedAt: null },
      now,
      policy,
    );
    assert.deepEqual(d, { request: true, reason: 'label-volume', classes: ['clavicle'] });
  });

  it('waits below the threshold', () => {
    const d = decideDistillRequest(
      { newLabels: { rib: 99, clavicle: 99 }, lastRequestedAt: ago(10) },
      now,
      policy,
    );
    assert.deepEqual(d, { request: false, why: 'below-threshold' });
  });

  it('never requests sooner than the minimum interval, and says how long to wait', () => {
    const d = decideDistillRequest(
      { newLabels: { rib: 5000, clavicle: 0 }, lastRequestedAt: ago(2) },
      now,
      policy,
    );
    assert.equal(d.request, false);
    assert.equal(d.request === false && d.why, 'min-interval');
    assert.equal(d.request === false && d.waitMs, 4 * H);
  });

  it('requests after the maximum interval when anything is new', () => {
    const d = decideDistillRequest(
      { newLabels: { rib: 1, clavicle: 0 }, lastRequestedAt: ago(49) },
      now,
      policy,
    );
    assert.deepEqual(d, { request: true, reason: 'max-interval', classes: ['rib'] });
  });

  it('does nothing when nothing is new, however long ago the last job was', () => {
    const d = decideDistillRequest(
      { newLabels: { rib: 0, clavicle: 0 }, lastRequestedAt: ago(1000) },
      now,
      policy,
    );
    assert.deepEqual(d, { request: false, why: 'nothing-new' });
  });

  it('without a maximum interval, only volume triggers', () => {
    const p = { ...policy, maxIntervalHours: null };
    const d = decideDistillRequest(
      { newLabels: { rib: 1, clavicle: 0 }, lastRequestedAt: ago(1000) },
      now,
      p,
    );
    assert.deepEqual(d, { request: false, why: 'below-threshold' });
  });

  it('rejects inconsistent policies with a clear message', () => {
    assert.throws(() => checkSchedulePolicy({ ...policy, minNewLabelsPerClass: 0 }), /minNewLabelsPerClass/);
    assert.throws(
      () => checkSchedulePolicy({ ...policy, maxIntervalHours: 2 }),
      /maxIntervalHours must not be below/,
    );
    assert.doesNotThrow(() => checkSchedulePolicy(policy));
  });
});
