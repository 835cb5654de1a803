import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  compareVersions,
  isKeptStatus,
  isProvisional,
  supersedes,
  type VersionOrder,
} from '../../../services/report-labeler/status-precedence.ts';

const at = (iso: string) => new Date(iso);
const v = (status: 'P' | 'F' | 'C', iso = '2024-01-05T10:00:00Z', id = 'M1', obr = 0): VersionOrder => ({
  status,
  reportedAt: at(iso),
  messageControlId: id,
  obrIndex: obr,
});

describe('report status precedence', () => {
  it('ranks P below F below C regardless of observation time', () => {
    assert.ok(supersedes(v('F', '2024-01-01T00:00:00Z'), v('P', '2024-02-01T00:00:00Z')));
    assert.ok(supersedes(v('C', '2024-01-01T00:00:00Z'), v('F', '2024-02-01T00:00:00Z')));
    assert.ok(!supersedes(v('P'), v('F')));
    assert.ok(!supersedes(v('F'), v('C')));
  });

  it('lets the version sent later (MSH-7) win between versions of the same status', () => {
    assert.ok(supersedes(v('C', '2024-01-06T00:00:00Z', 'M2'), v('C', '2024-01-05T00:00:00Z', 'M9')));
    assert.ok(!supersedes(v('C', '2024-01-05T00:00:00Z', 'M9'), v('C', '2024-01-06T00:00:00Z', 'M2')));
  });

  it('breaks remaining ties by MSH-10 in code-point order, then OBR index', () => {
    assert.ok(supersedes(v('F', undefined, 'b'), v('F', undefined, 'a')));
    assert.ok(supersedes(v('F', undefined, 'a'), v('F', undefined, 'B'))); // 'a' > 'B' in code points
    assert.ok(supersedes(v('F', undefined, 'M1', 1), v('F', undefined, 'M1', 0)));
  });

  it('treats a version as not superseding itself (a duplicate changes nothing)', () => {
    assert.equal(compareVersions(v('F'), v('F')), 0);
    assert.ok(!supersedes(v('F'), v('F')));
  });

  it('converges on the same winner in any arrival order', () => {
    const arb = fc.record({
      status: fc.constantFrom('P' as const, 'F' as const, 'C' as const),
      reportedAt: fc.date({
        min: at('2024-01-01T00:00:00Z'),
        max: at('2024-01-03T00:00:00Z'),
        noInvalidDate: true,
      }),
      messageControlId: fc.constantFrom('M1', 'M2', 'M3'),
      obrIndex: fc.constantFrom(0, 1),
    });
    const orders = fc
      .array(arb, { minLength: 1, maxLength: 8 })
      .chain((a) =>
        fc.tuple(fc.constant(a), fc.shuffledSubarray(a, { minLength: a.length, maxLength: a.length })),
      );
    fc.assert(
      fc.property(orders, ([arrival1, arrival2]) => {
        const fold = (list: VersionOrder[]) =>
          list.reduce((cur, next) => (supersedes(next, cur) ? next : cur));
        assert.equal(compareVersions(fold(arrival1), fold(arrival2)), 0);
      }),
    );
  });

  it('keeps P, F and C; marks only P provisional', () => {
    assert.deepEqual(['P', 'F', 'C', 'X', 'R', ''].map(isKeptStatus), [
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    assert.equal(isProvisional('P'), true);
    assert.equal(isProvisional('F'), false);
    assert.equal(isProvisional('C'), false);
  });
});
