import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isChestRadiograph } from '../../../services/shared/report-rules/index.ts';

describe('isChestRadiograph', () => {
  it('accepts chest radiograph procedure codes', () => {
    assert.equal(isChestRadiograph('71046', null), true);
    assert.equal(isChestRadiograph('36554-4', 'whatever'), true);
  });
  it('accepts chest radiograph procedure texts', () => {
    for (const t of ['XR CHEST 2 VIEWS', 'Chest PA and lateral', 'CXR portable', 'X-ray ribs left']) {
      assert.equal(isChestRadiograph(null, t), true, t);
    }
  });
  it('rejects other modalities and body parts', () => {
    for (const t of [
      'CT CHEST WITH CONTRAST',
      'MRI BRAIN',
      'XR KNEE 3 VIEWS',
      'US ABDOMEN',
      'XR THORACIC SPINE',
    ]) {
      assert.equal(isChestRadiograph('99999', t), false, t);
    }
    assert.equal(isChestRadiograph(null, null), false);
  });
  it('takes a hospital configuration', () => {
    const cfg = { codes: ['RAD123'], textIncludes: ['\\bthorax\\b'], textExcludes: [] };
    assert.equal(isChestRadiograph('rad123', null, cfg), true);
    assert.equal(isChestRadiograph('71046', null, cfg), false);
    assert.equal(isChestRadiograph(null, 'Thorax ap', cfg), true);
  });
});
