import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeHl7, UnknownEncodingError } from '../../../services/shared/hl7-transport/charset.ts';
import {
  hl7MessageKey,
  NotHl7Error,
  readMshHeader,
} from '../../../services/shared/hl7-transport/msh-header.ts';

const msh = (charset = '') =>
  `MSH|^~\\&|RIS|GENHOSP^1.2.3^ISO|HARVESTER|RESEARCH|20240105||ORU^R01|CTRL-42|P|2.5.1||||||${charset}\rPID|1||X\r`;

describe('readMshHeader', () => {
  it('reads MSH-4, MSH-10 and MSH-18 from raw bytes', () => {
    const h = readMshHeader(Buffer.from(msh('8859/1')));
    assert.equal(h.sendingFacility, 'GENHOSP^1.2.3^ISO');
    assert.equal(h.messageControlId, 'CTRL-42');
    assert.equal(h.messageDateTime, '20240105');
    assert.equal(h.characterSet, '8859/1');
  });

  it('tolerates MLLP framing and leading newlines', () => {
    assert.equal(readMshHeader(Buffer.from(`\x0b\n${msh()}\x1c\r`)).messageControlId, 'CTRL-42');
  });

  it('rejects input that is not HL7', () => {
    assert.throws(() => readMshHeader(Buffer.from('{"json": true}')), NotHl7Error);
    assert.throws(() => readMshHeader(Buffer.from('MSH')), NotHl7Error);
    assert.throws(() => readMshHeader(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 0, 0])), NotHl7Error);
  });

  it('keys a message by MSH-4|MSH-10', () => {
    assert.equal(hl7MessageKey(readMshHeader(Buffer.from(msh()))), 'GENHOSP^1.2.3^ISO|CTRL-42');
  });
});

describe('decodeHl7', () => {
  it('reads UTF-8 when MSH-18 is empty or says UTF-8', () => {
    const bytes = Buffer.from('Rippenfraktur 6. Rippe links, Schlüsselbein', 'utf8');
    assert.equal(decodeHl7(bytes, ''), 'Rippenfraktur 6. Rippe links, Schlüsselbein');
    assert.equal(decodeHl7(bytes, 'UNICODE UTF-8'), 'Rippenfraktur 6. Rippe links, Schlüsselbein');
  });

  it('reads Latin-1 when MSH-18 is 8859/1', () => {
    assert.equal(decodeHl7(Buffer.from('Schlüsselbein', 'latin1'), '8859/1'), 'Schlüsselbein');
  });

  it('refuses unknown character sets and bytes invalid for the declared one', () => {
    assert.throws(() => decodeHl7(Buffer.from('x'), 'ISO IR87'), UnknownEncodingError);
    assert.throws(() => decodeHl7(Buffer.from('Schlüsselbein', 'latin1'), ''), UnknownEncodingError);
  });
});
