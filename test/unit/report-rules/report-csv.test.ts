import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCsvRecords, reportTextFromColumns } from '../../../services/shared/report-rules/report-csv.ts';

const records = (text: string) => [...readCsvRecords(text)];

describe('readCsvRecords', () => {
  it('reads header and rows with their line and row numbers, LF or CRLF, BOM skipped', () => {
    for (const nl of ['\n', '\r\n']) {
      assert.deepEqual(records(`\ufeffuid,findings${nl}1,a b${nl}2,c${nl}`), [
        { line: 1, row: 0, fields: ['uid', 'findings'] },
        { line: 2, row: 1, fields: ['1', 'a b'] },
        { line: 3, row: 2, fields: ['2', 'c'] },
      ]);
    }
  });
  it('quoted fields hold commas, doubled quotes and line breaks; lines count across them', () => {
    assert.deepEqual(records('uid,f\n1,"a, ""b""\nc"\n2,d'), [
      { line: 1, row: 0, fields: ['uid', 'f'] },
      { line: 2, row: 1, fields: ['1', 'a, "b"\nc'] },
      { line: 4, row: 2, fields: ['2', 'd'] },
    ]);
  });
  it('empty fields, blank lines and a last line without a break', () => {
    assert.deepEqual(records('a,,c\n\n,\nx'), [
      { line: 1, row: 0, fields: ['a', '', 'c'] },
      { line: 3, row: 1, fields: ['', ''] },
      { line: 4, row: 2, fields: ['x'] },
    ]);
  });
  it('an unterminated quote or a character after a closing quote is reported and parsing goes on', () => {
    assert.deepEqual(records('h\n"a"b,c\nok\n"never closed\nlater'), [
      { line: 1, row: 0, fields: ['h'] },
      { line: 2, row: 1, error: 'unexpected character after a closing quote on line 2' },
      { line: 3, row: 2, fields: ['ok'] },
      { line: 4, row: 3, error: 'unterminated quoted field starting on line 4' },
      { line: 5, row: 4, fields: ['later'] },
    ]);
  });
  it('a file without commas (one column) reads every row', () => {
    assert.equal(records('x\n'.repeat(200_000)).length, 200_000);
  });
});

describe('reportTextFromColumns', () => {
  it('joins the non-empty columns as sections, in report order', () => {
    const row: Record<string, string> = {
      impression: ' Old rib fracture. ',
      findings: 'Lungs clear.',
      indication: '',
    };
    assert.equal(
      reportTextFromColumns((c) => row[c]),
      'FINDINGS: Lungs clear.\nIMPRESSION: Old rib fracture.',
    );
  });
});
