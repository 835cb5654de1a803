import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  compareReportVersions,
  isReportStatus,
  latestReportVersion,
  reportStatusRank,
  type ReportStatus,
  type ReportVersionOrder,
} from '../../../services/shared/events/report-version-order.ts';

const v = (status: ReportStatus, sent: string, id = 'M1', obr = 0): ReportVersionOrder => ({
  status,
  reportedAt: new Date(sent),
  messageControlId: id,
  obrIndex: obr,
});

describe('report version order (system-wide)', () => {
  it('ranks P below F below C whenever they were sent', () => {
    assert.deepEqual(
      ['P', 'F', 'C'].map((s) => reportStatusRank(s as ReportStatus)),
      [1, 2, 3],
    );
    assert.ok(compareReportVersions(v('F', '2024-01-01T00:00:00Z'), v('P', '2024-02-01T00:00:00Z')) > 0);
    assert.ok(compareReportVersions(v('C', '2024-01-01T00:00:00Z'), v('F', '2024-02-01T00:00:00Z')) > 0);
  });

  it('orders versions of the same status by when they were sent (MSH-7), before MSH-10', () => {
    const first = v('C', '2024-01-05T09:00:00Z', 'M-Z');
    const second = v('C', '2024-01-05T10:00:00Z', 'M-A');
    assert.ok(compareReportVersions(second, first) > 0);
    assert.ok(compareReportVersions(first, second) < 0);
  });

  it('breaks remaining ties by MSH-10 in code-point order, then OBR index', () => {
    const at = '2024-01-05T10:00:00Z';
    assert.ok(compareReportVersions(v('F', at, 'a'), v('F', at, 'B')) > 0);
    assert.ok(compareReportVersions(v('F', at, 'M1', 1), v('F', at, 'M1', 0)) > 0);
    assert.equal(compareReportVersions(v('F', at), v('F', at)), 0);
  });

  it('accepts only P, F and C as statuses', () => {
    assert.deepEqual(['P', 'F', 'C', 'X', 'p', '', 'toString'].map(isReportStatus), [
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  it('picks the same latest version in any order', () => {
    const arb = fc.record({
      status: fc.constantFrom<ReportStatus>('P', 'F', 'C'),
      reportedAt: fc.date({
        min: new Date('2024-01-01T00:00:00Z'),
        max: new Date('2024-01-03T00:00:00Z'),
        noInvalidDate: true,
      }),
      messageControlId: fc.constantFrom('M1', 'M2', 'm1'),
      obrIndex: fc.constantFrom(0, 1),
    });
    const orders = fc
      .array(arb, { minLength: 1, maxLength: 8 })
      .chain((a) =>
        fc.tuple(fc.constant(a), fc.shuffledSubarray(a, { minLength: a.length, maxLength: a.length })),
      );
    fc.assert(
      fc.property(orders, ([one, other]) => {
        assert.equal(compareReportVersions(latestReportVersion(one)!, latestReportVersion(other)!), 0);
      }),
    );
  });

  it('has no latest version of none', () => {
    assert.equal(latestReportVersion([]), undefined);
  });
});
