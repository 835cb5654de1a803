import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOruMessage } from '../../../services/shared/hl7/index.ts';
import { pseudonymisePatientId } from '../../../services/shared/privacy/pseudonymise.ts';
import {
  extractRecord,
  type ExtractionDeps,
  type RawRecord,
  type ReportLabelsLike,
} from '../../../services/report-labeler/extract.ts';
import { buildOruMessage, NON_CHEST_PROCEDURE } from '../../support/hl7-builder.ts';

const KEY = 'test-key-'.padEnd(40, 'x');
const negative = { status: 'negative', acuity: null, side: null, ribs: [], evidence: [] };
const labels: ReportLabelsLike = {
  rib: { status: 'positive', acuity: 'acute', side: 'left', ribs: [6], evidence: ['left 6th rib'] },
  clavicle: negative,
  other: negative,
  ruleVersion: 'test-rules',
};
const deps: ExtractionDeps = {
  parseOruMessage,
  isChestRadiograph: (code) => code === '71046',
  labelReport: () => labels,
  hmacKey: KEY,
  maxMessageBytes: 4096,
};
const record = (value: string | Buffer | null, offset = '7'): RawRecord => ({
  topic: 'hl7.oru.raw',
  partition: 0,
  offset,
  key: null,
  value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
  timestamp: Date.UTC(2024, 0, 9),
});
const oru = (over: Partial<Parameters<typeof buildOruMessage>[0]> = {}) =>
  buildOruMessage({
    messageControlId: 'M1',
    accession: 'ACC1',
    status: 'F',
    text: 'Acute left 6th rib fracture.',
    ...over,
  });

describe('extractRecord', () => {
  it('turns a chest radiograph report into a pseudonymised, labelled version', () => {
    const result = extractRecord(record(oru({ patientId: 'MRN77' })), deps);
    assert.equal(result.outcome, 'stored');
    if (result.outcome !== 'stored') return;
    const [v] = result.versions;
    assert.equal(v!.accession, 'ACC1');
    assert.equal(v!.status, 'F');
    assert.equal(v!.provisional, false);
    assert.equal(v!.patientPseudonym, pseudonymisePatientId('MRN77', KEY));
    assert.equal(v!.observedAt.toISOString(), '2024-01-05T10:30:00.000Z');
    assert.equal(v!.labels.rib.status, 'positive');
    assert.ok(!JSON.stringify(result).includes('MRN77'), 'the raw patient id must not leave extraction');
  });

  it('orders versions by when they were sent (MSH-7), keeping OBR-7 as the observation time', () => {
    const result = extractRecord(record(oru({ status: 'C', messageTime: '20240107120000+0000' })), deps);
    assert.ok(result.outcome === 'stored');
    assert.equal(result.versions[0]!.reportedAt.toISOString(), '2024-01-07T12:00:00.000Z');
    assert.equal(result.versions[0]!.observedAt.toISOString(), '2024-01-05T10:30:00.000Z');
  });

  it('marks preliminary reports provisional', () => {
    const result = extractRecord(record(oru({ status: 'P' })), deps);
    assert.ok(result.outcome === 'stored' && result.versions[0]!.provisional);
  });

  it('skips reports that are not chest radiographs (not a DLQ case)', () => {
    const result = extractRecord(record(oru({ procedureCode: NON_CHEST_PROCEDURE.code })), deps);
    assert.deepEqual(result.outcome === 'skipped' && result.reason, 'not-chest-radiograph');
  });

  it('skips result statuses other than P, F, C', () => {
    const result = extractRecord(record(oru({ status: 'X' })), deps);
    assert.deepEqual(result.outcome === 'skipped' && result.reason, 'result-status-X');
  });

  it('falls back to the record timestamp when OBR-7 is empty', () => {
    const msg = oru().replace(/\|20240105103000\+0000\|\|\|/, '||||');
    const result = extractRecord(record(msg), deps);
    assert.ok(result.outcome === 'stored');
    assert.equal(result.versions[0]!.observedAt.getTime(), Date.UTC(2024, 0, 9));
  });

  const dlqCases: Array<[string, RawRecord, string]> = [
    ['an empty record', record(null), 'empty'],
    ['a record over the size limit', record(oru({ text: 'x'.repeat(5000) })), 'oversize'],
    ['bytes that are not HL7', record('{"hello": "json"}'), 'not-hl7'],
    ['an unknown MSH-18 character set', record(oru({ characterSet: 'ISO IR87' })), 'unknown-encoding'],
    [
      'bytes invalid for the declared charset',
      record(Buffer.from(oru({ text: 'Schlüsselbein' }), 'latin1')),
      'unknown-encoding',
    ],
    ['a message without an accession', record(oru({ accession: '' })), 'no-accession'],
    ['a message without a patient id', record(oru({ patientId: '' })), 'no-patient-id'],
    ['a non-ORU message', record(oru().replace('ORU^R01^ORU_R01', 'ADT^A01^ADT_A01')), 'parse-error'],
  ];
  for (const [what, input, reason] of dlqCases) {
    it(`dead-letters ${what} as ${reason}`, () => {
      const result = extractRecord(input, deps);
      assert.equal(result.outcome, 'dlq');
      assert.equal(result.outcome === 'dlq' && result.reason, reason);
    });
  }

  it('dead-letters a report the rule engine cannot label, without throwing', () => {
    const failing = {
      ...deps,
      labelReport: () => {
        throw new Error('rule engine bug');
      },
    };
    const result = extractRecord(record(oru()), failing);
    assert.deepEqual(result.outcome === 'dlq' && result.reason, 'label-error');
  });
});

describe('extractRecord and prepareRecords: a record with lines that are not HL7 segments', () => {
  it('labels the message without its garbage tail and reports the lines on a dead letter of their own', async () => {
    const { prepareRecords } = await import('../../../services/report-labeler/batch-processor.ts');
    const { buildDlqHeaders, DLQ_HEADERS } = await import('../../../services/shared/kafka/dlq.ts');
    const message = oru();
    const value = `${message}\rthis is not a segment\r\n--- end of export ---\r\n`;
    const result = extractRecord(record(value), deps);
    assert.equal(result.outcome, 'stored');
    const lineAt = (offset: number): number => value.slice(0, offset).split(/\r\n|\r|\n/).length;
    const at = [value.indexOf('this is not'), value.indexOf('--- end')];
    assert.deepEqual(
      result.garbage?.lines.map((g) => [g.line, g.offset]),
      at.map((o) => [lineAt(o), o]),
    );
    const batch = prepareRecords([record(value, '42')], deps);
    assert.equal(batch.versions.length, 1);
    assert.deepEqual(
      batch.ledger.map((l) => [l.outcome, l.reason]),
      [['stored', 'garbage-lines']],
    );
    const [letter] = batch.deadLetters;
    assert.equal(letter?.reason, 'garbage-lines');
    assert.equal(letter?.value?.toString('utf8'), value, 'the whole record is kept');
    const headers = buildDlqHeaders(letter!, new Date(0));
    assert.equal(headers[DLQ_HEADERS.garbageLines], result.garbage!.lines.map((g) => g.line).join(','));
    assert.equal(headers[DLQ_HEADERS.garbageOffsets], at.join(','));
    assert.match(String(headers[DLQ_HEADERS.detail]), /not an HL7 segment: starts with "this is not/);
  });

  it('a record holding two messages is dead-lettered (one record is one message)', () => {
    const result = extractRecord(
      record(`${oru()}\r${oru({ messageControlId: 'M2', accession: 'ACC2' })}`),
      deps,
    );
    assert.equal(result.outcome, 'dlq');
    if (result.outcome === 'dlq') assert.equal(result.reason, 'multiple-messages');
  });

  it('a message that fails keeps its own reason; the garbage is named in the same dead letter', async () => {
    const { prepareRecords } = await import('../../../services/report-labeler/batch-processor.ts');
    const bad = oru().replace(/\rPID\|[^\r]*/, '');
    const batch = prepareRecords([record(`${bad}\rgarbage`)], deps);
    assert.equal(batch.deadLetters.length, 1);
    assert.equal(batch.deadLetters[0]!.reason, 'no-patient-id');
    assert.match(batch.deadLetters[0]!.detail ?? '', /and line \d+ \(offset \d+\): not an HL7 segment/);
  });
});
