import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Hl7ParseError,
  decodeHl7Escapes,
  hl7TimestampToIso,
  parseOruMessage,
} from '../../../services/shared/hl7/index.ts';
import { oru } from './fixtures.ts';

describe('parseOruMessage: fields', () => {
  it('extracts control id, facility, patient id, accession, procedure, time, status, version', () => {
    const [r] = parseOruMessage(oru());
    assert.ok(r);
    assert.equal(r.messageControlId, 'CTRL0001');
    assert.equal(r.sendingFacility, 'GENHOSP');
    assert.equal(r.patientId, 'MRN777');
    assert.equal(r.accession, 'ACC1');
    assert.equal(r.procedureCode, '71046');
    assert.equal(r.procedureText, 'XR CHEST 2 VIEWS');
    assert.equal(r.observedAt, '2024-03-01T09:30:00');
    assert.equal(r.resultStatus, 'F');
    assert.equal(r.hl7Version, '2.5.1');
    assert.equal(r.obrIndex, 0);
    assert.equal(r.text, 'FINDINGS: No fracture.');
  });

  it('falls back to the placer number (OBR-2) when OBR-3 is empty', () => {
    const [r] = parseOruMessage(oru({ obr: [{ accession: '', placer: 'PLACER9', obx: [] }] }));
    assert.equal(r?.accession, 'PLACER9');
  });

  for (const status of ['P', 'F', 'C', 'X']) {
    it(`keeps result status ${status} from OBR-25`, () => {
      assert.equal(parseOruMessage(oru({ status }))[0]?.resultStatus, status);
    });
  }

  for (const version of ['2.3', '2.3.1', '2.4', '2.5', '2.5.1']) {
    it(`reads HL7 v${version}`, () => {
      const [r] = parseOruMessage(oru({ version }));
      assert.equal(r?.hl7Version, version);
      assert.equal(r?.accession, 'ACC1');
    });
  }

  it('converts observation times with offset and date-only precision', () => {
    assert.equal(hl7TimestampToIso('202403010930+0100'), '2024-03-01T09:30:00+01:00');
    assert.equal(hl7TimestampToIso('20240301'), '2024-03-01');
    assert.equal(hl7TimestampToIso('20240301093015.25'), '2024-03-01T09:30:15.25');
    assert.equal(hl7TimestampToIso('2024-03-01'), undefined);
    assert.equal(parseOruMessage(oru({ obr: [{ time: '', obx: [] }] }))[0]?.observedAt, null);
  });

  it('gives null procedure fields when OBR-4 is empty', () => {
    const [r] = parseOruMessage(oru({ obr: [{ code: '', obx: [] }] }));
    assert.equal(r?.procedureCode, null);
    assert.equal(r?.procedureText, null);
  });
});

describe('parseOruMessage: report text', () => {
  it('decodes \\.br\\ \\X0D\\ \\F\\ \\S\\ \\T\\ \\R\\ \\E\\', () => {
    const obx = 'OBX|1|FT|RPT||a\\.br\\b\\X0D\\c \\F\\ \\S\\ \\T\\ \\R\\ \\E\\||||||F';
    const [r] = parseOruMessage(oru({ obr: [{ obx: [obx] }] }));
    assert.equal(r?.text, 'a\nb\rc | ^ & ~ \\');
  });

  it('decodes in one pass: an escaped escape character does not start a sequence', () => {
    assert.equal(decodeHl7Escapes('\\E\\F\\E\\'), '\\F\\');
    assert.equal(decodeHl7Escapes('\\X4C65667420\\rib'), 'Left rib');
    assert.equal(decodeHl7Escapes('\\H\\bold\\N\\ \\.sp2\\x'), 'bold \n\nx');
    assert.equal(decodeHl7Escapes('keep \\Q\\ unknown'), 'keep \\Q\\ unknown');
  });

  it('uses the delimiters the message declares in MSH-2', () => {
    const msg = oru({ obr: [{ obx: ['OBX|1|TX|RPT||x #F# y||||||F'] }] }).replace('MSH|^~\\&', 'MSH|^~#&');
    assert.equal(parseOruMessage(msg)[0]?.text, 'x | y');
  });

  it('joins repetitions and several OBX segments in order; skips non-text and withdrawn OBX', () => {
    const obx = [
      'OBX|1|TX|RPT||FINDINGS: Old left rib fracture.~Second line.||||||F',
      'OBX|2|NM|SIZE||12|mm|||||F',
      'OBX|3|ST|RPT||IMPRESSION: Healed.||||||F',
      'OBX|4|TX|RPT||Wrong text.||||||W',
      'OBX|5|FT|RPT||End.||||||F',
    ];
    const [r] = parseOruMessage(oru({ obr: [{ obx }] }));
    assert.equal(r?.text, 'FINDINGS: Old left rib fracture.\nSecond line.\nIMPRESSION: Healed.\nEnd.');
  });

  it('gives one report per OBR group, each with its own OBX text', () => {
    const reports = parseOruMessage(
      oru({
        obr: [
          { accession: 'A1', status: 'P', obx: ['OBX|1|TX|RPT||first||||||P'] },
          { accession: 'A2', code: '71045^XR CHEST 1 VIEW', obx: ['OBX|1|TX|RPT||second||||||F'] },
        ],
      }),
    );
    assert.deepEqual(
      reports.map((r) => [r.accession, r.obrIndex, r.resultStatus, r.text, r.procedureText]),
      [
        ['A1', 0, 'P', 'first', 'XR CHEST 2 VIEWS'],
        ['A2', 1, 'F', 'second', 'XR CHEST 1 VIEW'],
      ],
    );
  });

  it('accepts LF or CRLF segment separators inside one message', () => {
    const [r] = parseOruMessage(oru().replace(/\r/g, '\r\n'));
    assert.equal(r?.text, 'FINDINGS: No fracture.');
  });
});

describe('parseOruMessage: bad input says what and where', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /empty message/],
    ['no MSH', 'PID|1||X', /segment 1: message must begin with an MSH segment/],
    ['not ORU', oru().replace('ORU^R01', 'ADT^A08'), /MSH-9.*not an ORU\^R01.*ADT\^A08/],
    ['no control id', oru({ controlId: '' }), /MSH-10: message control id is empty/],
    ['bad version', oru({ version: 'X9' }), /MSH-12: unsupported HL7 version/],
    ['no OBR', oru().split('\r').slice(0, 2).join('\r'), /no OBR segment/],
    [
      'no accession',
      oru({ obr: [{ accession: '', placer: '', obx: [] }] }),
      /segment 3 \(OBR\), field OBR-3/,
    ],
    ['bad time', oru({ obr: [{ time: '2024-13-45', obx: [] }] }), /field OBR-7: observation time/],
    ['no status', oru({ obr: [{ status: '', obx: ['OBX|1|NM|X||1'] }] }), /field OBR-25/],
    ['garbage line', `${oru()}\rthis is not a segment`, /segment 5: not an HL7 segment/],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      assert.throws(
        () => parseOruMessage(input),
        (err: unknown) => err instanceof Hl7ParseError && expected.test(err.message),
      );
    });
  }

  it('never puts the patient id in an error message', () => {
    for (const [, input] of cases) {
      try {
        parseOruMessage(input);
      } catch (err) {
        assert.ok(!(err as Error).message.includes('MRN777'), (err as Error).message);
      }
    }
  });
});
