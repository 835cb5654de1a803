import { userError } from './user-error.ts';

/**
 * Parses `--since`: the analytics views count whole UTC months (no exact dates, for
 * de-identification), so the value is a month, `YYYY-MM`, or the first day of one, `YYYY-MM-01`.
 * Returns the first day of the month as `YYYY-MM-01`.
 */
export function parseSinceMonth(value: string): string {
  const match = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(value.trim());
  if (!match) throw userError(`--since must be a month, YYYY-MM (e.g. 2024-03); got "${value}"`);
  const [, year, month, day] = match;
  if (Number(month) < 1 || Number(month) > 12) {
    throw userError(`--since: month ${month} is not 01-12 in "${value}"`);
  }
  if (day !== undefined && day !== '01') {
    throw userError(
      `--since ${value}: the analytics views count whole months (no exact dates, for de-identification); ` +
        `use ${year}-${month} or the next month`,
    );
  }
  return `${year}-${month}-01`;
}
