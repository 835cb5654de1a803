import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOruMessage, splitHl7Messages } from '../../../services/shared/hl7/index.ts';
import { oru } from './fixtures.ts';

const a = oru({ controlId: 'M1', obr: [{ accession: 'A1', obx: ['OBX|1|TX|R||one||||||F'] }] });
const b = oru({ controlId: 'M2', obr: [{ accession: 'A2', obx: ['OBX|1|TX|R||two||||||F'] }] });
const accessions = (input: string | Buffer): string[] =>
  splitHl7Messages(input).flatMap((m) => parseOruMessage(m.message).map((r) => r.accession));

describe('splitHl7Messages', () => {
  it('returns a single message unchanged', () => {
    assert.deepEqual(splitHl7Messages(a), [{ message: a, offset: 0 }]);
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

  it('keeps stray lines before any MSH as their own message so parsing reports them', () => {
    const parts = splitHl7Messages(`garbage line\n${a}`);
    assert.equal(parts.length, 2);
    assert.equal(parts[0]?.offset, 0);
    assert.throws(() => parseOruMessage(parts[0]!.message), /must begin with an MSH/);
    assert.equal(parseOruMessage(parts[1]!.message)[0]?.accession, 'A1');
  });

  it('returns nothing for empty or blank input', () => {
    assert.deepEqual(splitHl7Messages(''), []);
    assert.deepEqual(splitHl7Messages('\n\r\n  \n'), []);
  });
});
