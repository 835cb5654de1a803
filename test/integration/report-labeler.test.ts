import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { pseudonymisePatientId } from '../../services/shared/privacy/pseudonymise.ts';
import { DLQ_HEADERS } from '../../services/shared/kafka/dlq.ts';
import { buildOruMessage, FINDINGS, NON_CHEST_PROCEDURE } from '../support/hl7-builder.ts';
import { ReportLabelerHarness, TEST_HMAC_KEY, waitFor } from '../support/report-labeler.ts';
import type { RunningReportLabeler } from '../../services/report-labeler/service.ts';

const execFileAsync = promisify(execFile);
const keyOf = (facility: string, id: string) => `${facility}|${id}`;
const msg = (id: string, accession: string, status: string, text: string, extra: object = {}) => ({
  key: keyOf('GENHOSP', id),
  value: buildOruMessage({ messageControlId: id, accession, status, text, ...extra }),
});

describe('report-labeler on the real stack', () => {
  const h = new ReportLabelerHarness();
  let labeler: RunningReportLabeler;

  before(async () => {
    await h.setUp();
    labeler = await h.startLabeler({ REPORT_LABELER_MAX_MESSAGE_BYTES: '65536' });
  });
  after(() => h.tearDown());

  /** `harvester produce hl7` onto the labeler's input topic; its exit code, stdout and stderr. */
  const produceHl7 = (file: string): Promise<{ code: number; stdout: string; stderr: string }> =>
    execFileAsync(process.execPath, [
      'bin/harvester.js',
      'produce',
      'hl7',
      '--input',
      file,
      '--topic',
      h.input,
      '--brokers',
      h.stack.kafkaBrokers.join(','),
    ]).then(
      (r) => ({ code: 0, ...r }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );

  it('turns chest reports into rows and ReportLabel events, skips other studies', async () => {
    await h.produce([
      msg('IN-1', 'ACC-IN-1', 'F', FINDINGS.ribPositive, { patientId: 'MRN-SECRET-1' }),
      msg('IN-2', 'ACC-IN-2', 'F', FINDINGS.normal),
      msg('IN-3', 'ACC-IN-3', 'F', FINDINGS.ribPositive, {
        procedureCode: NON_CHEST_PROCEDURE.code,
        procedureText: NON_CHEST_PROCEDURE.text,
      }),
    ]);
    await waitFor('3 ledger rows', async () => (await h.ledgerCount()) >= 3);
    await waitFor('2 events', () => h.events.filter((e) => e.accession.startsWith('ACC-IN-')).length >= 2);

    const { rows: reports } = await h.pool.query(
      `SELECT accession, result_status, provisional, patient_pseudonym, report_text FROM reports
       WHERE accession LIKE 'ACC-IN-%' ORDER BY accession`,
    );
    assert.deepEqual(
      reports.map((r) => [r.accession, r.result_status, r.provisional]),
      [
        ['ACC-IN-1', 'F', false],
        ['ACC-IN-2', 'F', false],
      ],
    );
    assert.equal(reports[0].patient_pseudonym, pseudonymisePatientId('MRN-SECRET-1', TEST_HMAC_KEY));
    assert.equal(reports[0].report_text, FINDINGS.ribPositive, 'report text is stored verbatim');

    const { rows: labels } = await h.pool.query(
      `SELECT r.accession, l.class, l.status, l.rule_version FROM report_labels l JOIN reports r ON r.id = l.report_id
       WHERE r.accession LIKE 'ACC-IN-%' ORDER BY r.accession, l.class`,
    );
    assert.equal(labels.length, 6, 'three classes per report');
    assert.equal(labels.find((l) => l.accession === 'ACC-IN-1' && l.class === 'rib')!.status, 'positive');
    assert.equal(labels.find((l) => l.accession === 'ACC-IN-2' && l.class === 'rib')!.status, 'negative');

    const { rows: ledger } = await h.pool.query(
      `SELECT message_control_id, outcome, reason FROM hl7_message_ledger WHERE message_control_id LIKE 'IN-%'
       ORDER BY message_control_id`,
    );
    assert.deepEqual(
      ledger.map((l) => [l.message_control_id, l.outcome, l.reason]),
      [
        ['IN-1', 'stored', null],
        ['IN-2', 'stored', null],
        ['IN-3', 'skipped', 'not-chest-radiograph'],
      ],
    );

    const event = h.events.find((e) => e.accession === 'ACC-IN-1')!;
    assert.equal(event.reportStatus, 'F');
    assert.equal(event.provisional, false);
    assert.equal(event.rib.status, 'positive');
    assert.equal(event.patientPseudonym, reports[0].patient_pseudonym);
    assert.ok(!JSON.stringify(h.events).includes('MRN-SECRET-1'), 'no raw patient id in events');
  });

  it('changes nothing for duplicates: one row, one version, one event', async () => {
    const dup = msg('DUP-1', 'ACC-DUP-1', 'F', FINDINGS.clavicleOld);
    await h.produce([dup, dup]);
    await waitFor('both duplicates in the ledger', async () => {
      const { rows } = await h.pool.query(
        `SELECT count(*)::int AS n FROM hl7_message_ledger WHERE message_control_id = 'DUP-1'`,
      );
      return rows[0].n === 2;
    });
    await h.produce([dup]); // and once more after the first ones were committed
    await waitFor('the third copy in the ledger', async () => {
      const { rows } = await h.pool.query(
        `SELECT count(*)::int AS n FROM hl7_message_ledger WHERE message_control_id = 'DUP-1'`,
      );
      return rows[0].n === 3;
    });
    const counts = await h.pool.query(
      `SELECT (SELECT count(*)::int FROM reports WHERE accession = 'ACC-DUP-1') AS reports,
              (SELECT count(*)::int FROM report_versions WHERE accession = 'ACC-DUP-1') AS versions,
              (SELECT count(*)::int FROM report_labels l JOIN reports r ON r.id = l.report_id
                WHERE r.accession = 'ACC-DUP-1') AS labels`,
    );
    assert.deepEqual(counts.rows[0], { reports: 1, versions: 1, labels: 3 });
    await waitFor('an event', () => h.events.some((e) => e.accession === 'ACC-DUP-1'));
    // a later event would follow the third copy's commit; the ledger row above was written first
    await h.produce([msg('DUP-FENCE', 'ACC-DUP-FENCE', 'F', FINDINGS.normal)]);
    await waitFor('the fence event', () => h.events.some((e) => e.accession === 'ACC-DUP-FENCE'));
    assert.equal(h.events.filter((e) => e.accession === 'ACC-DUP-1').length, 1);
  });

  it('applies status precedence in any arrival order: C before F, P after F', async () => {
    await h.produce([
      msg('ORD-C', 'ACC-ORD-1', 'C', FINDINGS.ribPositive, { observedAt: '20240106090000+0000' }),
      msg('ORD-F', 'ACC-ORD-1', 'F', FINDINGS.normal, { observedAt: '20240105090000+0000' }),
    ]);
    await h.produce([msg('ORD2-F', 'ACC-ORD-2', 'F', FINDINGS.uncertain)]);
    await waitFor('ACC-ORD-2 F stored', async () => {
      const { rows } = await h.pool.query(`SELECT 1 FROM reports WHERE accession = 'ACC-ORD-2'`);
      return rows.length === 1;
    });
    await h.produce([
      msg('ORD2-P', 'ACC-ORD-2', 'P', FINDINGS.ribPositive, { observedAt: '20240105080000+0000' }),
    ]);
    await h.produce([msg('ORD3-P', 'ACC-ORD-3', 'P', FINDINGS.ribPositive)]);
    // two corrections of one exam (same OBR-7): the one sent later wins, whatever the MSH-10s say
    await h.produce([
      msg('ORD4-A-SECOND', 'ACC-ORD-4', 'C', FINDINGS.clavicleOld, { messageTime: '20240108090000+0000' }),
      msg('ORD4-Z-FIRST', 'ACC-ORD-4', 'C', FINDINGS.ribPositive, { messageTime: '20240107090000+0000' }),
    ]);
    await waitFor('all seven in the ledger', async () => {
      const { rows } = await h.pool.query(
        `SELECT count(*)::int AS n FROM hl7_message_ledger WHERE message_control_id LIKE 'ORD%'`,
      );
      return rows[0].n === 7;
    });

    const { rows } = await h.pool.query(
      `SELECT r.accession, r.result_status, r.provisional, r.message_control_id, l.status AS rib, l.result_status AS label_status
       FROM reports r JOIN report_labels l ON l.report_id = r.id AND l.class = 'rib'
       WHERE r.accession LIKE 'ACC-ORD-%' ORDER BY r.accession`,
    );
    assert.deepEqual(
      rows.map((r) => [
        r.accession,
        r.result_status,
        r.provisional,
        r.message_control_id,
        r.rib,
        r.label_status,
      ]),
      [
        ['ACC-ORD-1', 'C', false, 'ORD-C', 'positive', 'C'], // the final arriving after the correction does not win
        ['ACC-ORD-2', 'F', false, 'ORD2-F', 'uncertain', 'F'], // the preliminary arriving after the final does not win
        ['ACC-ORD-3', 'P', true, 'ORD3-P', 'positive', 'P'], // a lone preliminary is kept, marked provisional
        ['ACC-ORD-4', 'C', false, 'ORD4-A-SECOND', 'negative', 'C'], // the later correction
      ],
    );
    const { rows: history } = await h.pool.query(
      `SELECT accession, result_status FROM report_versions WHERE accession LIKE 'ACC-ORD-%' ORDER BY accession, result_status`,
    );
    assert.equal(history.length, 7, 'every version is kept in the history');

    await waitFor('events for the winners', () =>
      ['ACC-ORD-1', 'ACC-ORD-2', 'ACC-ORD-3', 'ACC-ORD-4'].every((a) =>
        h.events.some((e) => e.accession === a),
      ),
    );
    const statuses = (a: string) => h.events.filter((e) => e.accession === a).map((e) => e.reportStatus);
    assert.deepEqual(statuses('ACC-ORD-1'), ['C'], 'no event for the stale final');
    assert.deepEqual(statuses('ACC-ORD-2'), ['F'], 'no event for the stale preliminary');
    assert.deepEqual(statuses('ACC-ORD-3'), ['P']);
    assert.equal(h.events.find((e) => e.accession === 'ACC-ORD-3')!.provisional, true);
    const corrections = h.events.filter((e) => e.accession === 'ACC-ORD-4');
    assert.deepEqual(
      corrections.map((e) => e.messageControlId),
      ['ORD4-A-SECOND'],
      'no event for the earlier correction arriving late',
    );
    assert.equal(corrections[0]!.reportedAt, Date.UTC(2024, 0, 8, 9));
  });

  it('takes messages published by `harvester produce hl7` from a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'produce-hl7-'));
    const file = join(dir, 'archive.hl7');
    const a = buildOruMessage({
      messageControlId: 'CLI-1',
      accession: 'ACC-CLI-1',
      status: 'F',
      text: FINDINGS.normal,
    });
    const b = buildOruMessage({
      messageControlId: 'CLI-2',
      accession: 'ACC-CLI-2',
      status: 'P',
      text: FINDINGS.ribPositive,
    });
    // one message per line group (LF between segments, as archives are often saved) and one MLLP-framed
    await writeFile(file, a.replace(/\r/g, '\n') + '\n' + `\x0b${b}\x1c\r`);
    const { stdout } = await produceHl7(file);
    assert.match(stdout, /published 2 message\(s\)/);
    await waitFor('both stored', async () => {
      const { rows } = await h.pool.query(
        `SELECT count(*)::int AS n FROM reports WHERE accession IN ('ACC-CLI-1', 'ACC-CLI-2')`,
      );
      return rows[0].n === 2;
    });
    await rm(dir, { recursive: true });
  });

  it('dead-letters poison messages with reason headers and goes on', async () => {
    const before = h.deadLetters.length;
    await h.produce([
      { key: 'poison-1', value: 'this is not HL7 at all' },
      msg('POI-GOOD-1', 'ACC-POI-1', 'F', FINDINGS.ribPositive),
      msg('POI-NOACC', '', 'F', FINDINGS.normal),
      msg('POI-CHARSET', 'ACC-POI-2', 'F', FINDINGS.normal, { characterSet: 'ISO IR87' }),
      {
        key: 'poison-big',
        value: buildOruMessage({
          messageControlId: 'POI-BIG',
          accession: 'ACC-POI-3',
          status: 'F',
          text: 'x'.repeat(100_000),
        }),
      },
      msg('POI-GOOD-2', 'ACC-POI-4', 'F', FINDINGS.normal),
    ]);
    await waitFor('4 dead letters', () => h.deadLetters.length - before >= 4);
    await waitFor('the good messages stored', async () => {
      const { rows } = await h.pool.query(
        `SELECT count(*)::int AS n FROM reports WHERE accession IN ('ACC-POI-1', 'ACC-POI-4')`,
      );
      return rows[0].n === 2;
    });
    const letters = h.deadLetters.slice(before);
    assert.deepEqual(letters.map((l) => l.headers[DLQ_HEADERS.reason]).sort(), [
      'no-accession',
      'not-hl7',
      'oversize',
      'unknown-encoding',
    ]);
    for (const l of letters) {
      assert.equal(l.headers[DLQ_HEADERS.sourceTopic], h.input);
      assert.equal(l.headers[DLQ_HEADERS.sourcePartition], '0');
      assert.match(l.headers[DLQ_HEADERS.sourceOffset]!, /^\d+$/);
      assert.equal(l.headers[DLQ_HEADERS.stage], 'report-labeler/extract');
      assert.ok(!Number.isNaN(Date.parse(l.headers[DLQ_HEADERS.timestamp]!)));
    }
    const notHl7 = letters.find((l) => l.headers[DLQ_HEADERS.reason] === 'not-hl7')!;
    assert.equal(notHl7.key, 'poison-1');
    assert.equal(notHl7.value!.toString(), 'this is not HL7 at all', 'the original bytes are kept');

    const { rows } = await h.pool.query(
      `SELECT reason FROM hl7_message_ledger WHERE outcome = 'dlq' ORDER BY kafka_offset`,
    );
    assert.deepEqual(rows.map((r) => r.reason).sort(), [
      'no-accession',
      'not-hl7',
      'oversize',
      'unknown-encoding',
    ]);

    const metrics = await (await fetch(`http://127.0.0.1:${labeler.httpPort}/metrics`)).text();
    assert.match(metrics, /harvester_report_labeler_dlq_total\{reason="not-hl7"\} 1/);
    const health = await fetch(`http://127.0.0.1:${labeler.httpPort}/health`);
    assert.equal(health.status, 200);
  });

  it('labels a record whose message ends in garbage lines, and dead-letters the lines with where they are', async () => {
    const before = h.deadLetters.length;
    const good = buildOruMessage({
      messageControlId: 'GRB-1',
      accession: 'ACC-GRB-1',
      status: 'F',
      text: FINDINGS.ribPositive,
    });
    const value = `${good}\r\n*** end of interface batch ***\r\n`;
    await h.produce([{ key: 'garbage-tail', value }]);
    await waitFor('the garbage lines dead-lettered', () => h.deadLetters.length > before);
    const [letter] = h.deadLetters.slice(before);
    assert.equal(letter!.headers[DLQ_HEADERS.reason], 'garbage-lines');
    assert.equal(letter!.headers[DLQ_HEADERS.garbageOffsets], String(value.indexOf('***')));
    assert.match(letter!.headers[DLQ_HEADERS.garbageLines]!, /^\d+$/);
    assert.equal(letter!.value!.toString(), value, 'the whole record is kept');
    await waitFor('the message labelled', async () => {
      const { rows } = await h.pool.query(
        `SELECT l.status FROM report_labels l JOIN reports r ON r.id = l.report_id
         WHERE r.accession = 'ACC-GRB-1' AND l.class = 'rib'`,
      );
      return rows[0]?.status === 'positive';
    });
    const { rows } = await h.pool.query(
      `SELECT outcome, reason FROM hl7_message_ledger WHERE topic = $1 AND reason = 'garbage-lines'`,
      [h.input],
    );
    assert.deepEqual(rows, [{ outcome: 'stored', reason: 'garbage-lines' }]);
  });

  it('`harvester produce hl7` leaves a garbage line between messages out, reports it and sends both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'produce-hl7-'));
    const file = join(dir, 'with-garbage.hl7');
    const a = buildOruMessage({
      messageControlId: 'PG-1',
      accession: 'ACC-PG-1',
      status: 'F',
      text: FINDINGS.normal,
    });
    const b = buildOruMessage({
      messageControlId: 'PG-2',
      accession: 'ACC-PG-2',
      status: 'F',
      text: FINDINGS.normal,
    });
    await writeFile(file, `${a.replace(/\r/g, '\n')}\nnot a segment\n${b.replace(/\r/g, '\n')}\n`);
    const r = await produceHl7(file);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /published 2 message\(s\).*1 line\(s\) that are not HL7 segments left out/);
    assert.match(r.stderr, /with-garbage\.hl7: line \d+ \(offset \d+\): not an HL7 segment/);
    await waitFor('both stored', async () => {
      const { rows } = await h.pool.query(
        `SELECT count(*)::int AS n FROM reports WHERE accession IN ('ACC-PG-1', 'ACC-PG-2')`,
      );
      return rows[0].n === 2;
    });
    await rm(dir, { recursive: true });
  });
});
