import { ExpectedError } from '../errors.ts';
/** A CSV record with the line it starts on (1-based, header = line 1). */
export interface CsvRecord {
  line: number;
  /** 1-based data row number (the header is row 0). */
  row: number;
  fields: string[];
}

export class CsvError extends ExpectedError {}

/**
 * RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks; CRLF or LF.
 * A record with an unterminated quote is reported, not fatal: parsing resumes at the next line.
 * Fields are cut with slices and indexOf, not character by character: a 77,000-row export parses
 * in tens of milliseconds.
 */
export function* readCsvRecords(text: string): Generator<CsvRecord | CsvBadRecord, void, undefined> {
  const reader = new CsvReader(text);
  for (let rec = reader.next(); rec !== null; rec = reader.next()) yield rec;
}

export interface CsvBadRecord {
  line: number;
  row: number;
  error: string;
}

/**
 * The records of readCsvRecords one `next()` at a time, with the offsets of the record just read
 * (`start`, `end`: its text, line break included), so a caller can look at the raw text of a row
 * without a generator in its hot loop (harvester label-reports).
 */
export class CsvReader {
  /** Offsets in the text of the record last returned. */
  start = 0;
  end = 0;
  private i = 0;
  private line = 1;
  private row = 0;
  private nextComma = -1;
  private nextLf = -1;

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.i = 1;
  }

  next(): CsvRecord | CsvBadRecord | null {
    const text = this.text;
    const n = text.length;
    let i = this.i;
    let line = this.line;
    while (i < n) {
      const startLine = line;
      const recordStart = i;
      const fields: string[] = [];
      let error: string | null = null;
      for (;;) {
        if (i < n && text.charCodeAt(i) === QUOTE) {
          // Quoted field: up to the next quote that is not doubled.
          let from = i + 1;
          let value = '';
          let closed = false;
          for (;;) {
            const q = text.indexOf('"', from);
            if (q < 0) break;
            if (text.charCodeAt(q + 1) === QUOTE) {
              value += text.slice(from, q + 1);
              from = q + 2;
              continue;
            }
            value += text.slice(from, q);
            line += countNewlines(text, i, q);
            i = q + 1;
            closed = true;
            break;
          }
          if (!closed) {
            error = `unterminated quoted field starting on line ${startLine}`;
            break;
          }
          const c = i < n ? text.charCodeAt(i) : COMMA;
          if (c !== COMMA && c !== LF && c !== CR) {
            error = `unexpected character after a closing quote on line ${line}`;
            break;
          }
          fields.push(value);
        } else {
          // Unquoted: up to the next comma or line break. The next comma and LF are found natively
          // and remembered while ahead (so each is searched once per file, not once per field).
          if (this.nextComma < i) this.nextComma = indexOrEnd(text, ',', i);
          if (this.nextLf < i) this.nextLf = indexOrEnd(text, '\n', i);
          let field = text.slice(i, Math.min(this.nextComma, this.nextLf));
          const cr = field.indexOf('\r');
          if (cr >= 0) field = field.slice(0, cr);
          fields.push(field);
          i += field.length;
        }
        if (i < n && text.charCodeAt(i) === COMMA) {
          i++;
          continue;
        }
        if (i < n && text.charCodeAt(i) === CR) i++;
        if (i < n && text.charCodeAt(i) === LF) {
          i++;
          line++;
        }
        break;
      }
      if (error !== null) {
        const row = this.row === 0 && startLine === 1 ? 0 : ++this.row;
        // Resume at the line after the one the bad record started on.
        const nl = text.indexOf('\n', recordStart);
        this.start = recordStart;
        this.i = this.end = nl < 0 ? n : nl + 1;
        this.line = startLine + 1;
        return { line: startLine, row, error };
      }
      if (fields.length === 1 && fields[0] === '') continue; // blank line
      this.start = recordStart;
      this.i = this.end = i;
      this.line = line;
      return { line: startLine, row: startLine === 1 && this.row === 0 ? 0 : ++this.row, fields };
    }
    this.i = i;
    this.line = line;
    return null;
  }
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

function indexOrEnd(text: string, c: string, from: number): number {
  const k = text.indexOf(c, from);
  return k < 0 ? text.length : k;
}

function countNewlines(text: string, from: number, to: number): number {
  let k = 0;
  for (let p = text.indexOf('\n', from); p >= 0 && p < to; p = text.indexOf('\n', p + 1)) k++;
  return k;
}

/** Section order and headers used to turn a CSV report row into one report text. */
export const REPORT_SECTIONS: ReadonlyArray<readonly [column: string, header: string]> = [
  ['indication', 'INDICATION'],
  ['comparison', 'COMPARISON'],
  ['findings', 'FINDINGS'],
  ['impression', 'IMPRESSION'],
];

/**
 * The report text for a CSV row (columns as in the Open-i set: uid, indication, comparison,
 * findings, impression; only findings and impression are required): "HEADER: text" blocks,
 * one per non-empty column, so the rule engine's sections decide what is asserted.
 */
export function reportTextFromColumns(get: (column: string) => string | undefined): string {
  let text = '';
  for (const [col, header] of REPORT_SECTIONS) {
    const v = get(col)?.trim();
    if (v) text += text ? `\n${header}: ${v}` : `${header}: ${v}`;
  }
  return text;
}
