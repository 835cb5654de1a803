import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HarvesterError } from '../../services/shared/errors.ts';
import { DicomImageError } from '../../services/shared/imaging/errors.ts';
import { StorageError } from '../../services/shared/storage/image-storage.ts';

describe('HarvesterError, the base of the system errors', () => {
  it('is an expected, not retriable error with a code by default, named after its class', () => {
    const err = new DicomImageError('not-dicom', 'no DICM prefix');
    assert.ok(err instanceof HarvesterError && err instanceof Error);
    assert.equal(err.name, 'DicomImageError');
    assert.equal(err.code, 'not-dicom');
    assert.equal(err.message, 'no DICM prefix');
    assert.equal(err.expected, true);
    assert.equal(err.retriable, false);
  });

  it('says when a call may succeed later, and keeps its cause', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new HarvesterError('unreachable', 'the store does not answer', {
      retriable: true,
      expected: false,
      cause,
    });
    assert.equal(err.retriable, true);
    assert.equal(err.expected, false);
    assert.equal(err.cause, cause);
    assert.equal(new StorageError('not-found', 'x').name, 'StorageError');
  });
});
