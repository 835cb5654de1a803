import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Hl7ParseError, parseOruMessage, splitHl7Messages } from '../../shared/hl7/index.ts';
import {
  isChestRadiograph,
  labelReport,
  loadRules,
  type ReportLabels,
} from '../../shared/report-rules/index.ts';
import { readCsvRecords, reportTextFromColumns } from '../../shared/report-rules/report-csv.ts';

export interface LabelReportsOptions {
  input: string;
  format?: string;
  rules?: string;
  chestOnly?: boolean;
}

type Format = 'csv' | 'jsonl' | 'hl7';

function userError(message: string): Error {
  return Object.assign(new Error(message), { expected: true });
}

function formatOf(opts: LabelReportsOptions): Format {
  const f = (opts.format ?? extname(opts.input).slice(1)).toLowerCase();
  if (f === 'csv') return 'csv';
  if (f === 'jsonl' || f === 'ndjson') return 'jsonl';
  if (f === 'hl7' || f === 'txt' || f === 'mllp') return 'hl7';
  throw userError(
    opts.format
      ? `--format must be csv, jsonl or hl7 (got "${opts.format}")`
      : `cannot tell the format of ${opts.input} from its extension; pass --format csv|jsonl|hl7`,
  );
}

/** One input report, or a problem with one input row that is reported and skipped. */
type Item = { id: string; text: string } | { problem: string };

function* csvItems(text: string): Generator<Item> {
  let header: string[] | null = null;
  for (const rec of readCsvRecords(text)) {
    if ('error' in rec) {
      yield { problem: `row ${rec.row} (line ${rec.line}): ${rec.error}` };
      continue;
    }
    if (header === null) {
      header = rec.fields.map((h) => h.trim().toLowerCase());
      const missing = ['uid', 'findings', 'impression'].filter((c) => !header!.includes(c));
      if (missing.length > 0)
        throw userError(`CSV header lacks column(s) ${missing.join(', ')} (need uid, findings, impression)`);
      continue;
    }
    const h = header;
    if (rec.fields.length !== h.length) {
      yield {
        problem: `row ${rec.row} (line ${rec.line}): ${rec.fields.length} fields, header has ${h.length}`,
      };
      continue;
    }
    const get = (c: string): string | undefined => rec.fields[h.indexOf(c)];
    const id = get('uid')?.trim();
    if (!id) {
      yield { problem: `row ${rec.row} (line ${rec.line}): empty uid` };
      continue;
    }
    yield { id, text: reportTextFromColumns(get) };
  }
}

function* jsonlItems(text: string): Generator<Item> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const where = `row ${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      yield { problem: `${where}: not JSON (${(err as Error).message})` };
      continue;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      yield { problem: `${where}: not a JSON object` };
      continue;
    }
    const o = obj as Record<string, unknown>;
    const rawId = o.id ?? o.uid ?? o.accession;
    if (typeof rawId !== 'string' && typeof rawId !== 'number') {
      yield { problem: `${where}: needs "id" (or "uid", "accession") as a string or number` };
      continue;
    }
    if (typeof o.text === 'string') {
      yield { id: String(rawId), text: o.text };
    } else if (typeof o.findings === 'string' || typeof o.impression === 'string') {
      yield {
        id: String(rawId),
        text: reportTextFromColumns((c) => (typeof o[c] === 'string' ? (o[c] as string) : undefined)),
      };
    } else {
      yield { problem: `${where}: needs "text" (or "findings"/"impression") as a string` };
    }
  }
}

function* hl7Items(input: Buffer, chestOnly: boolean): Generator<Item> {
  const messages = splitHl7Messages(input);
  for (let i = 0; i < messages.length; i++) {
    const { message, offset } = messages[i]!;
    try {
      for (const r of parseOruMessage(message)) {
        if (chestOnly && !isChestRadiograph(r.procedureCode, r.procedureText)) continue;
        yield { id: r.accession, text: r.text };
      }
    } catch (err) {
      const e = err instanceof Hl7ParseError ? err.withLocation({ messageIndex: i, offset }) : err;
      yield { problem: (e as Error).message };
    }
  }
}

function outputLine(id: string, l: ReportLabels): string {
  const cls = (c: ReportLabels['rib']): object => ({
    status: c.status,
    acuity: c.acuity,
    side: c.side,
    ribs: c.ribs,
    evidence: c.evidence.map((e) => ({ start: e.start, end: e.end, text: e.text })),
  });
  return JSON.stringify({
    id,
    rib: cls(l.rib),
    clavicle: cls(l.clavicle),
    other: cls(l.other),
    ruleVersion: l.ruleVersion,
  });
}

async function write(chunk: string): Promise<void> {
  if (!process.stdout.write(chunk))
    await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

/**
 * harvester label-reports: one JSON line per report on stdout; problems with single rows or
 * messages go to stderr with their row number (or message number and offset) and the rest is
 * still labelled. Exit status 2 when some rows were skipped.
 */
export async function labelReportsCommand(opts: LabelReportsOptions): Promise<void> {
  const format = formatOf(opts);
  const rules = loadRules(opts.rules);
  let bytes: Buffer;
  try {
    bytes = readFileSync(opts.input);
  } catch (err) {
    throw userError(
      `cannot read ${opts.input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const items =
    format === 'hl7'
      ? hl7Items(bytes, opts.chestOnly ?? false)
      : format === 'csv'
        ? csvItems(bytes.toString('utf8'))
        : jsonlItems(bytes.toString('utf8'));
  let buffer = '';
  let labelled = 0;
  let skipped = 0;
  for (const item of items) {
    if ('problem' in item) {
      skipped++;
      process.stderr.write(`harvester label-reports: ${opts.input}: ${item.problem}\n`);
      continue;
    }
    buffer += outputLine(item.id, labelReport(item.text, rules)) + '\n';
    labelled++;
    if (buffer.length > 1 << 16) {
      await write(buffer);
      buffer = '';
    }
  }
  if (buffer) await write(buffer);
  process.stderr.write(
    `harvester label-reports: ${labelled} reports labelled, ${skipped} skipped (rules ${rules.version})\n`,
  );
  if (skipped > 0) process.exitCode = 2;
}
