import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOruMessage, splitHl7, splitHl7Messages } from '../../../services/shared/hl7/index.ts';
import { oru } from './fixtures.ts';

const a = oru({ controlId: 'M1', obr: [{ accession: 'A1', obx: ['OBX|1|TX|R||one||||||F'] }] });
const b = oru({ controlId: 'M2', obr: [{ accession: 'A2', obx: ['OBX|1|TX|R||two||||||F'] }] });
const accessions = (input: string | Buffer): string[] =>
  splitHl7Messages(input).flatMap((m) => parseOruMessage(m.message).map((r) => r.accession));

describe('splitHl7Messages', () => {
  it('returns a single message unchanged', () => {
    const [m, more] = splitHl7Messages(a);
    assert.deepEqual([m?.message, m?.offset, m?.line, more], [a, 0, 1, undefined]);
    assert.equal(m?.bytes.toString('utf8'), `${a}\r`);
  });

  it('splits a file with CR segments and LF between messages', () => {
    const input = `${a}\n${b}\n`;
    const parts = splitHl7Messages(input);
    assert.deepEqual(
      parts.map((p) => p.offset),
      [0, a.length + 1],
    );
    assert.deepEqual(accessions(input), ['A1', 'A2']);
  });

  it('splits LF-only and CRLF files', () => {
    assert.deepEqual(accessions(`${a}\n${b}`.replace(/\r/g, '\n')), ['A1', 'A2']);
    assert.deepEqual(accessions(`${a}\r\n${b}\r\n`.replace(/\r(?!\n)/g, '\r\n')), ['A1', 'A2']);
  });

  it('unwraps MLLP frames, with byte offsets for Buffer input', () => {
    const framed = Buffer.concat([
      Buffer.from([0x0b]),
      Buffer.from(a),
      Buffer.from([0x1c, 0x0d, 0x0b]),
      Buffer.from(b),
      Buffer.from([0x1c, 0x0d]),
    ]);
    const parts = splitHl7Messages(framed);
    assert.deepEqual(
      parts.map((p) => p.offset),
      [1, a.length + 4],
    );
    assert.deepEqual(accessions(framed), ['A1', 'A2']);
  });

  it('decodes UTF-8 text in Buffer input', () => {
    const msg = oru({ obr: [{ obx: ['OBX|1|TX|R||Fraktur der Rippe – alt||||||F'] }] });
    const [part] = splitHl7Messages(Buffer.from(msg, 'utf8'));
    assert.equal(parseOruMessage(part!.message)[0]?.text, 'Fraktur der Rippe – alt');
  });

  it('reads FHS/BHS batches and drops the envelope segments', () => {
    const batch = [
      'FHS|^~\\&|RIS|GENHOSP|||20240301',
      'BHS|^~\\&|RIS|GENHOSP|||20240301',
      a,
      b,
      'BTS|2',
      'BHS|^~\\&|RIS|GENHOSP|||20240301',
      a.replace('M1', 'M3').replace('A1', 'A3'),
      'BTS|1',
      'FTS|2',
    ].join('\r');
    const parts = splitHl7Messages(batch);
    assert.equal(parts.length, 3);
    assert.ok(parts.every((p) => p.message.startsWith('MSH|')));
    assert.ok(parts.every((p) => !/^(FHS|BHS|BTS|FTS)/m.test(p.message.replace(/\r/g, '\n'))));
    assert.deepEqual(accessions(batch), ['A1', 'A2', 'A3']);
  });

  it('reports lines before any MSH as garbage, with line and offset, and keeps the message', () => {
    const { messages, garbage } = splitHl7(`garbage line\n${a}`);
    assert.deepEqual(
      garbage.map((g) => [g.line, g.offset, g.length, g.afterMessage]),
      [[1, 0, 12, null]],
    );
    assert.match(garbage[0]!.problem, /not an HL7 segment: starts with "garbage line"/);
    assert.deepEqual(
      messages.map((m) => [m.offset, m.line]),
      [[13, 2]],
    );
    assert.equal(parseOruMessage(messages[0]!.message)[0]?.accession, 'A1');
  });

  it('a line of garbage after a message is its own bad input: neither neighbour is lost', () => {
    // The case of issue 15: one garbage line after a valid ORU took that message with it.
    const input = `${a}\nthis line is not a segment\n${b}\n`.replace(/\r/g, '\n');
    const { messages, garbage } = splitHl7(input);
    assert.deepEqual(accessions(input), ['A1', 'A2']);
    assert.equal(messages.length, 2);
    assert.deepEqual(
      garbage.map((g) => [g.line, g.offset, g.afterMessage]),
      [[a.split('\r').length + 1, a.length + 1, 0]],
    );
    assert.equal(
      input.slice(garbage[0]!.offset, garbage[0]!.offset + garbage[0]!.length),
      'this line is not a segment',
    );
  });

  it('a non-segment line inside a message is cut out; the message keeps its valid segments', () => {
    const lines = a.split('\r');
    const input = [...lines.slice(0, 2), '  free text wrapped by the sender', ...lines.slice(2)].join('\r');
    const { messages, garbage } = splitHl7(input);
    assert.equal(messages.length, 1);
    assert.equal(messages[0]!.message, a);
    assert.deepEqual(
      garbage.map((g) => [g.line, g.afterMessage]),
      [[3, 0]],
    );
  });

  it('a line is a segment only with the field separator of its message; "MSH" + text is not a message', () => {
    const { messages, garbage } = splitHl7(`${a}\rOBX#1#TX\rMSHALLOW text\rZDS|1`);
    assert.equal(messages.length, 1);
    assert.ok(messages[0]!.message.endsWith('\rZDS|1'));
    assert.deepEqual(
      garbage.map((g) => g.problem),
      ['not an HL7 segment: starts with "OBX#1#TX"', 'not an HL7 segment: starts with "MSHALLOW tex"'],
    );
  });

  it('keeps the bytes as sent and ends every segment with CR (MSH-18 may differ per message)', () => {
    const x = 'MSH|^~\\&|A|F1|||||ORU^R01|1|P|2.5.1|||||8859/1\nPID|1||\xfc\n';
    const y = '\x0bMSH|^~\\&|A|F1|||||ORU^R01|2|P|2.5.1\r\nOBX|1|TX|||text\x1c\r\n\n';
    const [m1, m2] = splitHl7Messages(Buffer.concat([Buffer.from(x, 'latin1'), Buffer.from(y, 'latin1')]));
    assert.equal(
      m1!.bytes.toString('latin1'),
      'MSH|^~\\&|A|F1|||||ORU^R01|1|P|2.5.1|||||8859/1\rPID|1||\xfc\r',
    );
    assert.equal(m2!.bytes.toString('latin1'), 'MSH|^~\\&|A|F1|||||ORU^R01|2|P|2.5.1\rOBX|1|TX|||text\r');
    assert.deepEqual([m1!.line, m2!.line], [1, 3]);
  });

  it('returns nothing for empty or blank input', () => {
    assert.deepEqual(splitHl7(''), { messages: [], garbage: [] });
    assert.deepEqual(splitHl7('\n\r\n  \n'), { messages: [], garbage: [] });
  });
});
