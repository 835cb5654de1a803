import { z } from 'zod';
import { loadConfig } from '../../shared/config/env.ts';
import { userError } from './user-error.ts';

const AnalyticsEnv = z.object({
  DATABASE_URL: z.string().min(1, 'a postgres:// connection string').optional(),
  DISTILL_LABEL_THRESHOLD: z.coerce
    .number()
    .int('a whole number of new pseudo-labels')
    .positive('more than 0 new pseudo-labels')
    .optional(),
});

export type AnalyticsEnv = z.infer<typeof AnalyticsEnv>;

export function loadAnalyticsEnv(env: NodeJS.ProcessEnv = process.env): AnalyticsEnv {
  // an empty variable means unset (as in `DATABASE_URL= harvester stats`)
  const { DATABASE_URL, DISTILL_LABEL_THRESHOLD } = env;
  return loadConfig(AnalyticsEnv, {
    DATABASE_URL: DATABASE_URL || undefined,
    DISTILL_LABEL_THRESHOLD: DISTILL_LABEL_THRESHOLD || undefined,
  });
}

/** The database from --database, else DATABASE_URL, else a clear error. */
export function resolveDatabaseUrl(option: string | undefined, env: AnalyticsEnv): string {
  const url = option ?? env.DATABASE_URL;
  if (!url) throw userError('no database: pass --database postgres://... or set DATABASE_URL');
  return url;
}

/** commander gives `--role NAME` as a string and `--no-role` as false. */
export function resolveRole(option: string | boolean | undefined): string | null | undefined {
  if (option === false) return null;
  if (option === true) return undefined;
  return option;
}
