import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { pseudonymisePatientId } from '../../../services/shared/privacy/pseudonymise.ts';

const KEY = 'k'.repeat(32);

describe('pseudonymisePatientId', () => {
  it('is HMAC-SHA256 of the id under the key, in hex', () => {
    const expected = createHmac('sha256', KEY).update('MRN0001').digest('hex');
    assert.equal(pseudonymisePatientId('MRN0001', KEY), expected);
    assert.match(pseudonymisePatientId('MRN0001', KEY), /^[0-9a-f]{64}$/);
  });

  it('is stable for one key and differs between keys and ids', () => {
    assert.equal(pseudonymisePatientId('MRN0001', KEY), pseudonymisePatientId('MRN0001', KEY));
    assert.notEqual(pseudonymisePatientId('MRN0001', KEY), pseudonymisePatientId('MRN0001', 'j'.repeat(32)));
    assert.notEqual(pseudonymisePatientId('MRN0001', KEY), pseudonymisePatientId('MRN0002', KEY));
  });

  it('ignores whitespace around the id', () => {
    assert.equal(pseudonymisePatientId('  MRN0001 ', KEY), pseudonymisePatientId('MRN0001', KEY));
  });

  it('never returns the id itself', () => {
    assert.ok(!pseudonymisePatientId('MRN0001', KEY).includes('MRN0001'));
  });

  it('refuses keys shorter than 32 bytes', () => {
    assert.throws(() => pseudonymisePatientId('MRN0001', 'short'), /at least 32/);
  });
});
