/** How `harvester stats` prints rows. */
export type OutputFormat = 'table' | 'csv' | 'json';

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number | null;
  /** Decimal places for numbers in table and CSV output (JSON keeps full precision). */
  decimals?: number;
}

function cell<Row>(column: Column<Row>, row: Row): string {
  const v = column.value(row);
  if (v === null) return '';
  if (typeof v === 'number' && column.decimals !== undefined) return v.toFixed(column.decimals);
  return String(v);
}

/** A plain-text table: a header, a rule, numbers right-aligned, text left-aligned. */
export function formatTable<Row>(columns: Column<Row>[], rows: Row[]): string {
  const cells = rows.map((row) => columns.map((c) => cell(c, row)));
  const numeric = columns.map(
    (c) => rows.length > 0 && rows.every((row) => typeof c.value(row) !== 'string'),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.header)),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map(line),
  ].join('\n');
}

/** RFC 4180 CSV with a header row; fields with commas, quotes or line breaks are quoted. */
export function formatCsv<Row>(columns: Column<Row>[], rows: Row[]): string {
  const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [columns.map((c) => quote(c.header)), ...rows.map((row) => columns.map((c) => quote(cell(c, row))))]
    .map((fields) => fields.join(','))
    .join('\n');
}

/** JSON: an array of objects keyed by the column headers, numbers unrounded. */
export function formatJson<Row>(columns: Column<Row>[], rows: Row[]): string {
  return JSON.stringify(
    rows.map((row) => Object.fromEntries(columns.map((c) => [c.header, c.value(row)]))),
    null,
    2,
  );
}

export function formatRows<Row>(format: OutputFormat, columns: Column<Row>[], rows: Row[]): string {
  if (format === 'csv') return formatCsv(columns, rows);
  if (format === 'json') return formatJson(columns, rows);
  return formatTable(columns, rows);
}
