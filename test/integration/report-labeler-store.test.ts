import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migrateDatabase } from '../../services/shared/db/migrate.ts';
import type { ReportVersion } from '../../services/report-labeler/extract.ts';
import { storeBatch, type LedgerEntry } from '../../services/report-labeler/store.ts';
import { statusRank, type ReportStatus } from '../../services/report-labeler/status-precedence.ts';
import { createTestSchema, getTestStack, type TestSchema } from '../support/index.ts';

const negative = { status: 'negative', acuity: null, side: null, ribs: [], evidence: [] };

function version(
  offset: string,
  id: string,
  accession: string,
  status: ReportStatus,
  observed: string,
): ReportVersion {
  return {
    sourceOffset: offset,
    sendingFacility: 'GENHOSP',
    messageControlId: id,
    obrIndex: 0,
    accession,
    status,
    statusRank: statusRank(status),
    provisional: status === 'P',
    observedAt: new Date(observed),
    reportedAt: new Date(observed),
    patientPseudonym: 'f'.repeat(64),
    procedureCode: '71046',
    procedureText: 'XR CHEST 2 VIEWS',
    hl7Version: '2.5.1',
    text: `report ${id}`,
    labels: {
      rib: {
        status: 'positive',
        acuity: 'acute',
        side: 'left',
        ribs: [4, 5],
        evidence: [{ start: 0, end: 3, text: 'rib' }],
      },
      clavicle: negative,
      other: negative,
      ruleVersion: 'test',
    },
  };
}

const ledgerFor = (vs: ReportVersion[]): LedgerEntry[] =>
  vs.map((v) => ({
    topic: 'hl7.oru.raw',
    partition: 0,
    offset: v.sourceOffset,
    sendingFacility: v.sendingFacility,
    messageControlId: v.messageControlId,
    outcome: 'stored',
    reason: null,
    reportCount: 1,
    messageBytes: 100,
  }));

describe('storeBatch on Postgres', () => {
  let db: TestSchema;
  before(async () => {
    const stack = await getTestStack();
    db = await createTestSchema(stack, 'labeler_store');
    await migrateDatabase({ database: stack.databaseUrl, schema: db.schema });
  });
  after(() => db.drop());

  it('returns what to publish: new current versions; again on redelivery; never for a duplicate at a new offset', async () => {
    const f = version('10', 'S-F', 'S-ACC-1', 'F', '2024-01-05T10:00:00Z');
    assert.deepEqual(
      (await storeBatch(db.pool, [f], ledgerFor([f]))).map((p) => p.version.messageControlId),
      ['S-F'],
    );
    // the same record redelivered (crash after commit, maybe before publishing): publish again
    assert.deepEqual(
      (await storeBatch(db.pool, [f], ledgerFor([f]))).map((p) => p.version.messageControlId),
      ['S-F'],
    );
    // the same message sent again, at a new offset: nothing changed, nothing to publish
    const again = { ...f, sourceOffset: '11' };
    assert.deepEqual(await storeBatch(db.pool, [again], ledgerFor([again])), []);
  });

  it('keeps the highest-precedence version within one batch and across batches', async () => {
    const p = version('20', 'S2-P', 'S-ACC-2', 'P', '2024-01-05T09:00:00Z');
    const c = version('21', 'S2-C', 'S-ACC-2', 'C', '2024-01-06T09:00:00Z');
    const f = version('22', 'S2-F', 'S-ACC-2', 'F', '2024-01-05T10:00:00Z');
    const published = await storeBatch(db.pool, [p, c, f], ledgerFor([p, c, f]));
    assert.deepEqual(
      published.map((x) => x.version.messageControlId),
      ['S2-C'],
    );
    const stale = version('23', 'S2-F2', 'S-ACC-2', 'F', '2024-01-07T10:00:00Z');
    assert.deepEqual(await storeBatch(db.pool, [stale], ledgerFor([stale])), []);
    const { rows } = await db.pool.query(
      `SELECT r.message_control_id, l.ribs, l.evidence FROM reports r JOIN report_labels l ON l.report_id = r.id AND l.class = 'rib'
       WHERE r.accession = 'S-ACC-2'`,
    );
    assert.deepEqual(rows, [
      { message_control_id: 'S2-C', ribs: [4, 5], evidence: [{ start: 0, end: 3, text: 'rib' }] },
    ]);
    const history = await db.pool.query(
      `SELECT count(*)::int AS n FROM report_versions WHERE accession = 'S-ACC-2'`,
    );
    assert.equal(history.rows[0].n, 4);
  });

  it('lets the service role write and the analytics role read only the de-identified views', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL ROLE harvester_analytics');
      const { rows } = await client.query('SELECT * FROM report_labels_deid LIMIT 1');
      assert.ok(rows.length === 1);
      assert.ok(
        !('patient_pseudonym' in rows[0]) && !('report_text' in rows[0]) && !('accession' in rows[0]),
      );
      await assert.rejects(client.query('SELECT report_text FROM reports'), /permission denied/);
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      await client.query('SET LOCAL ROLE harvester_service');
      await client.query(`UPDATE reports SET updated_at = now() WHERE accession = 'S-ACC-1'`);
      await assert.rejects(client.query('DELETE FROM reports'), /permission denied/);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });
});
