import {
  ANALYTICS_ROLE,
  describeDatabase,
  explainDatabaseError,
  openAnalyticsDatabase,
} from '../../app/analytics/analytics-database.ts';
import { loadAnalyticsEnv, resolveDatabaseUrl, resolveRole } from '../../app/analytics/database-option.ts';
import { isLoopbackHost, startDashboardServer } from '../../app/analytics/dashboard/server.ts';
import { userError } from '../../app/analytics/user-error.ts';
import { createLogger } from '../../shared/observability/logger.ts';

export interface ServeDashboardOptions {
  port?: string;
  host?: string;
  database?: string;
  schema?: string;
  role?: string | boolean;
  retrainThreshold?: string;
}

/** Default when neither --retrain-threshold nor DISTILL_LABEL_THRESHOLD is given. */
export const DEFAULT_RETRAIN_THRESHOLD = 1000;

function positiveInteger(value: string, option: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw userError(`${option} must be a whole number from 1 to ${max} (got "${value}")`);
  }
  return n;
}

/** `harvester serve dashboard`: the analytics page on http://127.0.0.1:8088/ until SIGINT/SIGTERM. */
export async function serveDashboardCommand(opts: ServeDashboardOptions): Promise<void> {
  const env = loadAnalyticsEnv();
  const port = opts.port === '0' ? 0 : positiveInteger(opts.port ?? '8088', '--port', 65535); // 0: any free port
  const host = opts.host ?? '127.0.0.1';
  const retrainThreshold =
    opts.retrainThreshold !== undefined
      ? positiveInteger(opts.retrainThreshold, '--retrain-threshold')
      : (env.DISTILL_LABEL_THRESHOLD ?? DEFAULT_RETRAIN_THRESHOLD);
  const url = resolveDatabaseUrl(opts.database, env);
  const role = resolveRole(opts.role);
  const effectiveRole = role === undefined ? ANALYTICS_ROLE : role;
  const logger = createLogger('dashboard');
  const pool = openAnalyticsDatabase({ url, role, schema: opts.schema, maxConnections: 4 });
  // fail at start-up, with a clear line, when the database or the views are not there
  try {
    await pool.query('SELECT 1 FROM analytics_label_volume_since_distill LIMIT 1');
  } catch (err) {
    await pool.end();
    throw explainDatabaseError(err, url, effectiveRole);
  }
  let dashboard;
  try {
    dashboard = await startDashboardServer({
      pool,
      host,
      port,
      retrainThreshold,
      logger,
      explainError: (err) => explainDatabaseError(err, url, effectiveRole).message,
    });
  } catch (err) {
    await pool.end();
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') throw userError(`port ${port} on ${host} is in use: pass --port`, err);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw userError(`cannot listen on ${host}: ${code}`, err);
    if (code === 'EACCES')
      throw userError(`not allowed to listen on ${host}:${port} (ports below 1024 need privileges)`, err);
    throw err;
  }
  if (!isLoopbackHost(host)) {
    logger.warn({ host }, 'the dashboard is reachable from other machines: put it behind authentication');
  }
  logger.info(
    {
      url: dashboard.url,
      database: describeDatabase(url),
      role: effectiveRole ?? 'login user',
      retrainThreshold,
    },
    'dashboard listening',
  );
  console.error(`dashboard on ${dashboard.url} (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await dashboard.close();
  await pool.end();
}
