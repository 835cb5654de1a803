import {
  explainDatabaseError,
  openAnalyticsDatabase,
  ANALYTICS_ROLE,
} from '../../app/analytics/analytics-database.ts';
import { loadAnalyticsEnv, resolveDatabaseUrl, resolveRole } from '../../app/analytics/database-option.ts';
import { formatRows, type Column, type OutputFormat } from '../../app/analytics/output-format.ts';
import { labelCounts, type LabelCounts, type LabelGrouping } from '../../app/analytics/queries.ts';
import { parseSinceMonth } from '../../app/analytics/since-month.ts';
import { userError } from '../../app/analytics/user-error.ts';

export interface StatsOptions {
  since?: string;
  by?: string;
  format?: string;
  database?: string;
  schema?: string;
  role?: string | boolean;
}

const GROUP_HEADER: Record<LabelGrouping, string> = {
  month: 'month',
  facility: 'facility',
  view: 'view_position',
};

function parseBy(value: string | undefined): LabelGrouping {
  const by = value ?? 'month';
  if (by === 'month' || by === 'facility' || by === 'view') return by;
  throw userError(`--by must be month, facility or view (got "${by}")`);
}

function parseFormat(value: string | undefined): OutputFormat {
  const format = value ?? 'table';
  if (format === 'table' || format === 'csv' || format === 'json') return format;
  throw userError(`--format must be table, csv or json (got "${format}")`);
}

/** `harvester stats`: report-label counts and positive rates per month, facility or view, by class. */
export async function statsCommand(opts: StatsOptions): Promise<void> {
  const by = parseBy(opts.by);
  const format = parseFormat(opts.format);
  const since = opts.since === undefined ? undefined : parseSinceMonth(opts.since);
  const url = resolveDatabaseUrl(opts.database, loadAnalyticsEnv());
  const role = resolveRole(opts.role);
  const db = openAnalyticsDatabase({ url, role, schema: opts.schema });
  let rows: LabelCounts[];
  try {
    rows = await labelCounts(db, by, since);
  } catch (err) {
    throw explainDatabaseError(err, url, role === undefined ? ANALYTICS_ROLE : role);
  } finally {
    await db.end();
  }
  const columns: Column<LabelCounts>[] = [
    { header: GROUP_HEADER[by], value: (r) => r.group },
    { header: 'class', value: (r) => r.class },
    { header: 'reports', value: (r) => r.reports },
    { header: 'positive', value: (r) => r.positive },
    { header: 'uncertain', value: (r) => r.uncertain },
    { header: 'negative', value: (r) => r.negative },
    { header: 'positive_rate', value: (r) => r.positiveRate, decimals: 4 },
  ];
  if (rows.length === 0 && format === 'table') {
    console.error(
      since ? `no final report labels from ${since.slice(0, 7)} on` : 'no final report labels yet',
    );
  }
  process.stdout.write(`${formatRows(format, columns, rows)}\n`);
}
