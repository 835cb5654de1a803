import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { extname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { isChestRadiograph } from '../../shared/report-rules/chest-filter.ts';
import { defaultRules, type CompiledRules } from '../../shared/report-rules/compile.ts';
import { cannotHaveFindings, labelReport, negativeLabels } from '../../shared/report-rules/label-report.ts';
import { CsvReader, REPORT_SECTIONS, reportTextFromColumns } from '../../shared/report-rules/report-csv.ts';
import { BATCH, SharedLabelling } from './label-batches.ts';
import { outputLine } from './label-output.ts';
import { LineSink, stderrLine } from './label-sink.ts';
import { ExpectedError } from '../../shared/errors.ts';

export { outputLine };

export interface LabelReportsOptions {
  input: string;
  format?: string;
  rules?: string;
  chestOnly?: boolean;
  /** Threads labelling a large CSV or JSONL input (default: this one plus the idle cores, at most 4). */
  threads?: string;
}

type Format = 'csv' | 'jsonl' | 'hl7';

function formatOf(opts: LabelReportsOptions): Format {
  const f = (opts.format ?? extname(opts.input).slice(1)).toLowerCase();
  if (f === 'csv') return 'csv';
  if (f === 'jsonl' || f === 'ndjson') return 'jsonl';
  if (f === 'hl7' || f === 'txt' || f === 'mllp') return 'hl7';
  throw new ExpectedError(
    opts.format
      ? `--format must be csv, jsonl or hl7 (got "${opts.format}")`
      : `cannot tell the format of ${opts.input} from its extension; pass --format csv|jsonl|hl7`,
  );
}

/**
 * One input report, or one bad input that is reported and skipped; `kind` names what was bad in
 * the summary ("row", "message", "line").
 */
type Item = { id: string; text: string } | { problem: string; kind: string };

/** A CSV row none of whose report columns can hold a finding: labelled without building its text. */
type NoFindingItem = { id: string; noFinding: true };

function* csvItems(text: string, rules: CompiledRules): Generator<Item | NoFindingItem> {
  let columns: { uid: number; get: (fields: string[]) => (c: string) => string | undefined } | null = null;
  let reportColumns: number[] = [];
  // Only when no header itself could match (then a match needs a column's own text).
  const shortcut = REPORT_SECTIONS.every(([, h]) => cannotHaveFindings(h, rules));
  const hits = shortcut ? anchorHits(text, rules) : null;
  let nextHit = 0;
  let width = 0;
  const reader = new CsvReader(text);
  for (let rec = reader.next(); rec !== null; rec = reader.next()) {
    if ('error' in rec) {
      yield { problem: `row ${rec.row} (line ${rec.line}): ${rec.error}`, kind: 'row' };
      continue;
    }
    if (columns === null) {
      const header = rec.fields.map((h) => h.trim().toLowerCase());
      const missing = ['uid', 'findings', 'impression'].filter((c) => !header.includes(c));
      if (missing.length > 0)
        throw new ExpectedError(
          `CSV header lacks column(s) ${missing.join(', ')} (need uid, findings, impression)`,
        );
      const index = new Map(header.map((h, i) => [h, i]));
      reportColumns = REPORT_SECTIONS.map(([c]) => index.get(c)).filter((i): i is number => i !== undefined);
      width = header.length;
      columns = { uid: index.get('uid')!, get: (fields) => (c) => fields[index.get(c) ?? -1] };
      continue;
    }
    if (rec.fields.length !== width) {
      yield {
        problem: `row ${rec.row} (line ${rec.line}): ${rec.fields.length} fields, header has ${width}`,
        kind: 'row',
      };
      continue;
    }
    const id = rec.fields[columns.uid]!.trim();
    if (!id) {
      yield { problem: `row ${rec.row} (line ${rec.line}): empty uid`, kind: 'row' };
      continue;
    }
    if (shortcut) {
      let quiet = true;
      if (hits !== null) {
        while (nextHit < hits.length && hits[nextHit]! < reader.start) nextHit++;
        quiet = nextHit === hits.length || hits[nextHit]! >= reader.end;
      }
      // A hit may be in another column (the uid): the columns themselves decide then.
      if (quiet || reportColumns.every((i) => cannotHaveFindings(rec.fields[i]!, rules))) {
        yield { id, noFinding: true };
        continue;
      }
    }
    yield { id, text: reportTextFromColumns(columns.get(rec.fields)) };
  }
}

/**
 * Where the finding anchors ("fract", "fx" ...) occur in the raw CSV text: one scan of the whole
 * file instead of a test per column. A row with no hit in its text has none in its fields either,
 * as the anchors are runs of letters, which quoting ("" for ") cannot make or break. Null when an
 * anchor is not plain letters (then every row is tested column by column).
 */
function anchorHits(text: string, rules: CompiledRules): number[] | null {
  const anchors = rules.findingAnchors;
  if (anchors === null || !/^[A-Za-z]+(?:\|[A-Za-z]+)*$/.test(anchors.source)) return null;
  const re = new RegExp(anchors.source, anchors.flags.replace('g', '') + 'g');
  const at: number[] = [];
  for (let m = re.exec(text); m !== null; m = re.exec(text)) at.push(m.index);
  return at;
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
      yield { problem: `${where}: not JSON (${(err as Error).message})`, kind: 'row' };
      continue;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      yield { problem: `${where}: not a JSON object`, kind: 'row' };
      continue;
    }
    const o = obj as Record<string, unknown>;
    const rawId = o.id ?? o.uid ?? o.accession;
    if (typeof rawId !== 'string' && typeof rawId !== 'number') {
      yield { problem: `${where}: needs "id" (or "uid", "accession") as a string or number`, kind: 'row' };
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
      yield { problem: `${where}: needs "text" (or "findings"/"impression") as a string`, kind: 'row' };
    }
  }
}

/**
 * HL7: the one splitter (services/shared/hl7/split.ts); each message decoded by its own MSH-18, as
 * the report-labeler does. A line that is not an HL7 segment is its own bad input, reported with
 * its line and offset; the messages around it are labelled.
 */
async function hl7Items(input: Buffer, chestOnly: boolean): Promise<Iterable<Item>> {
  // Loaded only for HL7 input: the HL7 parser's library costs start-up time a CSV run does not need.
  const [{ Hl7ParseError, parseOruMessage, splitHl7 }, { decodeHl7 }, { readMshHeader }] = await Promise.all([
    import('../../shared/hl7/index.ts'),
    import('../../shared/hl7-transport/charset.ts'),
    import('../../shared/hl7-transport/msh-header.ts'),
  ]);
  const { messages, garbage } = splitHl7(input);
  const items: Array<{ at: number; item: Item }> = [];
  for (const g of garbage)
    items.push({
      at: g.offset,
      item: { problem: `line ${g.line} (offset ${g.offset}): ${g.problem}`, kind: 'line' },
    });
  messages.forEach(({ bytes, offset, line }, i) => {
    try {
      const text = decodeHl7(bytes, readMshHeader(bytes).characterSet);
      for (const r of parseOruMessage(text)) {
        if (chestOnly && !isChestRadiograph(r.procedureCode, r.procedureText)) continue;
        items.push({ at: offset, item: { id: r.accession, text: r.text } });
      }
    } catch (err) {
      const e = err instanceof Hl7ParseError ? err.withLocation({ messageIndex: i, offset }) : err;
      items.push({ at: offset, item: { problem: `line ${line}: ${(e as Error).message}`, kind: 'message' } });
    }
  });
  // In the order of the file, so stderr reads along with it.
  return items.sort((a, b) => a.at - b.at).map((x) => x.item);
}

function cannotRead(file: string, err: unknown): ExpectedError {
  return new ExpectedError(
    `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
  );
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

const KIND_NAMES: Record<string, [string, string]> = {
  row: ['bad row', 'bad rows'],
  message: ['HL7 message that failed', 'HL7 messages that failed'],
  line: ['line that is not an HL7 segment', 'lines that are not HL7 segments'],
};

/**
 * Inputs this large are labelled on several threads when cores are idle. Below it a helper (its
 * own start-up and JIT warm-up) costs what it saves: measured on a quiet 2-core machine, no gain
 * at 24 MiB, break-even at 125 MiB (BENCHMARKS.md, issue 15 quiet re-measure).
 */
const PARALLEL_MIN_BYTES = 64 << 20;
const MAX_THREADS = 4;

/** How many threads label: --threads, else this one plus the cores the load average leaves idle. */
function threadCount(option: string | undefined): number {
  if (option !== undefined) {
    const n = Number(option);
    if (!Number.isInteger(n) || n < 1 || n > 64)
      throw new ExpectedError(`--threads must be an integer from 1 to 64 (got "${option}")`);
    return n;
  }
  // On a busy machine helper threads only share the same cores (and each warms up its own JIT).
  const idle = Math.floor(availableParallelism() - loadavg()[0]!);
  return Math.max(1, Math.min(MAX_THREADS, 1 + idle));
}

/**
 * Helper threads for a large CSV or JSONL input, started before the input is read so their
 * start-up overlaps it. Only from the bundled CLI (bin/bundled.js builds services/cli/label-worker.ts
 * next to this code); under tsx everything runs on one thread.
 */
async function startHelpers(
  inputBytes: number,
  opts: LabelReportsOptions,
  threads: number,
): Promise<Worker[]> {
  // --threads given: as asked; otherwise only for an input large enough to gain from it.
  const large = opts.threads !== undefined || inputBytes >= PARALLEL_MIN_BYTES;
  if (!import.meta.url.endsWith('.js') || !large || threads < 2) return [];
  // Loaded only here: a run on one thread does not pay for loading worker_threads.
  const { Worker } = await import('node:worker_threads');
  const rulesPath = opts.rules;
  const url = new URL('./label-worker.js', import.meta.url);
  return Array.from({ length: threads - 1 }, () => new Worker(url, { workerData: { rules: rulesPath } }));
}

/**
 * harvester label-reports: one JSON line per report on stdout; problems with single rows,
 * messages or lines go to stderr with their row number (or line and offset) and the rest is
 * still labelled. Exit status 2 when some input was skipped.
 */
export async function labelReportsCommand(opts: LabelReportsOptions): Promise<void> {
  const format = formatOf(opts);
  // The shipped rules need no validation (nor zod, which costs start-up); a local file does.
  const rules = opts.rules
    ? (await import('../../shared/report-rules/load-rules.ts')).loadRules(opts.rules)
    : defaultRules();
  // Helpers are started before the input is read when its size is known (a regular file), so
  // their start-up overlaps the reading; for a pipe, once it is read.
  let size: number | null;
  try {
    const st = statSync(opts.input);
    size = st.isFile() ? st.size : null;
  } catch (err) {
    throw cannotRead(opts.input, err);
  }
  const threads = threadCount(opts.threads);
  const helpers = format === 'hl7' || size === null ? [] : await startHelpers(size, opts, threads);
  try {
    let bytes: Buffer;
    try {
      bytes = readFileSync(opts.input);
    } catch (err) {
      throw cannotRead(opts.input, err);
    }
    if (format !== 'hl7' && size === null) helpers.push(...(await startHelpers(bytes.length, opts, threads)));
    const items =
      format === 'hl7'
        ? await hl7Items(bytes, opts.chestOnly ?? false)
        : format === 'csv'
          ? csvItems(bytes.toString('utf8'), rules)
          : jsonlItems(bytes.toString('utf8'));
    const skipped = new Map<string, { count: number; first: string }>();
    let labelled = 0;
    const sink = new LineSink(negativeLabels(rules));
    // With helpers: the ids in reading order, each marked whether it is labelled in a batch.
    const ids: string[] = [];
    const inBatch: boolean[] = [];
    const shared =
      helpers.length > 0
        ? new SharedLabelling(helpers, (id, text) => outputLine(id, labelReport(text, rules)))
        : null;
    for (const item of items) {
      if ('problem' in item) {
        const s = skipped.get(item.kind);
        if (s) s.count++;
        else skipped.set(item.kind, { count: 1, first: item.problem });
        stderrLine(`harvester label-reports: ${opts.input}: ${item.problem}\n`);
        continue;
      }
      labelled++;
      if (shared !== null) {
        ids.push(item.id);
        inBatch.push(!('noFinding' in item));
        if (!('noFinding' in item)) shared.add(item.id, item.text);
        continue;
      }
      if ('noFinding' in item) sink.negative(item.id);
      else sink.line(outputLine(item.id, labelReport(item.text, rules)));
      if (sink.waiting) await sink.drain();
    }
    if (shared !== null) {
      shared.finish();
      let n = 0;
      let lines: string[] = [];
      for (let r = 0; r < ids.length; r++) {
        if (!inBatch[r]) sink.negative(ids[r]!);
        else {
          if (n % BATCH === 0) lines = await shared.lines(n / BATCH);
          sink.line(lines[n++ % BATCH]!);
        }
        if (sink.waiting) await sink.drain();
      }
    }
    await sink.end();
    const total = [...skipped.values()].reduce((n, s) => n + s.count, 0);
    const detail = [...skipped]
      .map(([kind, s]) => {
        const [one, many] = KIND_NAMES[kind] ?? [kind, kind];
        return `${plural(s.count, one, many)}, first: ${s.first.split(':')[0]}`;
      })
      .join('; ');
    stderrLine(
      `harvester label-reports: ${labelled} reports labelled, ${total} skipped${detail ? ` (${detail})` : ''} (rules ${rules.version})\n`,
    );
    if (total > 0) process.exitCode = 2;
  } finally {
    await Promise.all(helpers.map((w) => w.terminate()));
  }
}
