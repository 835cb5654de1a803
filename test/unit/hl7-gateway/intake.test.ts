import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildAck, buildBatchAck, HL7_ERRORS } from '../../../services/hl7-gateway/ack.ts';
import { checkMessage, parseAcceptedTypes, splitPayload } from '../../../services/hl7-gateway/intake.ts';
import { readMshHeader } from '../../../services/shared/hl7-transport/msh-header.ts';

const rules = { acceptedTypes: parseAcceptedTypes('ORU^R01'), maxMessageBytes: 2000 };
const oru = (id: string, type = 'ORU^R01', charset = '') =>
  Buffer.from(
    `MSH|^~\\&|RIS|GENHOSP|FH|RESEARCH|20240105||${type}|${id}|P|2.5.1||||||${charset}\rPID|1||MRN1\rOBX|1|TX|||No fracture.\r`,
  );

describe('checkMessage', () => {
  it('accepts an ORU^R01 and keys it MSH-4|MSH-10', () => {
    const d = checkMessage(oru('C1'), rules);
    assert.ok(d.accept);
    if (d.accept) assert.equal(d.key, 'GENHOSP|C1');
  });

  it('refuses what cannot be accepted, with a reason and the HL7 table 0357 condition', () => {
    const cases: Array<[Buffer, string, string]> = [
      [Buffer.from('{"not": "hl7"}'), 'not-hl7', HL7_ERRORS.segmentSequence.code],
      [oru('C2', 'ADT^A01'), 'wrong-message-type', HL7_ERRORS.unsupportedMessageType.code],
      [oru('C3', 'ORU^R30'), 'wrong-message-type', HL7_ERRORS.unsupportedEventCode.code],
      [oru(''), 'no-control-id', HL7_ERRORS.requiredFieldMissing.code],
      [oru('C4', 'ORU^R01', 'ISO IR87'), 'unsupported-charset', HL7_ERRORS.tableValueNotFound.code],
      [Buffer.concat([oru('C5'), Buffer.alloc(3000, 0x41)]), 'too-large', HL7_ERRORS.applicationError.code],
    ];
    for (const [raw, reason, code] of cases) {
      const d = checkMessage(raw, rules);
      assert.equal(d.accept, false, reason);
      if (!d.accept) {
        assert.equal(d.reason, reason);
        assert.equal(d.code, 'AR');
        assert.equal(d.error.condition.code, code);
      }
    }
  });

  it('accepts every event of a type listed without one', () => {
    assert.ok(
      checkMessage(oru('C6', 'ORU^R30'), { ...rules, acceptedTypes: parseAcceptedTypes('ORU') }).accept,
    );
  });
});

describe('splitPayload', () => {
  it('splits a batch into its messages, bytes unchanged, and reads the batch header', () => {
    const a = oru('A');
    const b = oru('B');
    const batch = Buffer.concat([
      Buffer.from('BHS|^~\\&|RIS|GENHOSP|FH|RESEARCH|20240105||||B-1\r'),
      a,
      b,
      Buffer.from('BTS|2\r'),
    ]);
    const p = splitPayload(batch);
    assert.equal(p.kind, 'batch');
    if (p.kind === 'batch') {
      assert.deepEqual(p.messages, [a, b]);
      assert.equal(p.header.messageControlId, 'B-1');
      assert.equal(p.header.sendingFacility, 'GENHOSP');
    }
    assert.equal(splitPayload(a).kind, 'message');
  });
});

describe('buildAck', () => {
  const header = readMshHeader(oru('CTRL-9'));
  const now = new Date(Date.UTC(2024, 0, 5, 10, 0, 0));

  it('answers AA with sender and receiver swapped and MSA-2 = the message control id', () => {
    const segments = buildAck(header, 'AA', 'ACK1', now).split('\r');
    assert.equal(
      segments[0],
      'MSH|^~\\&|FH|RESEARCH|RIS|GENHOSP|20240105100000+0000||ACK^R01^ACK|ACK1|P|2.5.1',
    );
    assert.equal(segments[1], 'MSA|AA|CTRL-9');
    assert.equal(segments[2], '');
  });

  it('answers AR with an ERR segment and escapes separators in the detail', () => {
    const ack = buildAck(header, 'AR', 'ACK2', now, {
      condition: HL7_ERRORS.unsupportedMessageType,
      detail: 'type A|B^C',
    });
    const segments = ack.split('\r');
    assert.equal(segments[1], 'MSA|AR|CTRL-9|type A\\F\\B\\S\\C');
    assert.equal(segments[2], 'ERR|||200^Unsupported message type^HL70357|E||||type A\\F\\B\\S\\C');
  });

  it('wraps the ACKs of a batch in BHS/BTS', () => {
    const batch = buildBatchAck(header, ['MSH|a\rMSA|AA|1\r', 'MSH|b\rMSA|AR|2\r'], 'BA1', now);
    assert.match(
      batch,
      /^BHS\|\^~\\&\|FH\|RESEARCH\|RIS\|GENHOSP\|20240105100000\+0000\|\|\|\|BA1\|CTRL-9\r/,
    );
    assert.match(batch, /BTS\|2\r$/);
  });
});
