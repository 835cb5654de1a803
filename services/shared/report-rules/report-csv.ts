/** A CSV record with the line it starts on (1-based, header = line 1). */
export interface CsvRecord {
  line: number;
  /** 1-based data row number (the header is row 0). */
  row: number;
  fields: string[];
}

export class CsvError extends Error {
  readonly expected = true;
}

/**
 * RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks; CRLF or LF.
 * A record with an unterminated quote is reported, not fatal: parsing resumes at the next line.
 */
export function* readCsvRecords(
  text: string,
): Generator<CsvRecord | { line: number; row: number; error: string }, void, undefined> {
  let i = 0;
  let line = 1;
  let row = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let error: string | null = null;
    for (;;) {
      if (i < n && text[i] === '"') {
        // Quoted field.
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (!closed) {
          error = `unterminated quoted field starting on line ${startLine}`;
          break;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          error = `unexpected character after a closing quote on line ${line}`;
          while (i < n && text[i] !== '\n') i++;
          break;
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      }
      fields.push(field);
      field = '';
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      if (i < n && text[i] === '\r') i++;
      if (i < n && text[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    if (error !== null) {
      yield { line: startLine, row: row === 0 && startLine === 1 ? 0 : ++row, error };
      // Resume after the line the bad record started on.
      i = skipToLine(text, startLine + 1);
      line = startLine + 1;
      continue;
    }
    if (fields.length === 1 && fields[0] === '') continue; // blank line
    yield { line: startLine, row: startLine === 1 && row === 0 ? 0 : ++row, fields };
  }
}

function skipToLine(text: string, target: number): number {
  let line = 1;
  let i = 0;
  while (i < text.length && line < target) {
    if (text[i] === '\n') line++;
    i++;
  }
  return i;
}

/** Section order and headers used to turn a CSV report row into one report text. */
const SECTIONS: Array<[column: string, header: string]> = [
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
  const parts: string[] = [];
  for (const [col, header] of SECTIONS) {
    const v = get(col)?.trim();
    if (v) parts.push(`${header}: ${v}`);
  }
  return parts.join('\n');
}
