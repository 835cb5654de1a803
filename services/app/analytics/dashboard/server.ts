import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import type { Logger } from '../../../shared/observability/logger.ts';
import { loadDashboardData } from './dashboard-data.ts';
import { escapeHtml } from './escape-html.ts';
import { renderDashboard } from './render-dashboard.ts';

export interface DashboardServerOptions {
  pool: pg.Pool;
  host: string;
  port: number;
  retrainThreshold: number;
  logger: Logger;
  /** Turns a database failure into the message shown on the error page (no stack, no PHI). */
  explainError?: (err: unknown) => string;
}

export interface RunningDashboard {
  url: string;
  close: () => Promise<void>;
}

// No script and nothing from elsewhere: the page is HTML, inline CSS and inline SVG only.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, type: string, body: string, head = false): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': Buffer.byteLength(body),
  });
  res.end(head ? undefined : body);
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Serves the dashboard: GET / renders the page from the analytics views on every request,
 * GET /healthz answers "ok". Read-only: no other method is accepted.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<RunningDashboard> {
  const { logger } = options;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'read-only: GET or HEAD\n');
      return;
    }
    if (path === '/healthz') {
      send(res, 200, 'text/plain; charset=utf-8', 'ok\n', head);
      return;
    }
    if (path !== '/' && path !== '/index.html') {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      return;
    }
    const started = performance.now();
    try {
      const data = await loadDashboardData(options.pool, { retrainThreshold: options.retrainThreshold });
      send(res, 200, 'text/html; charset=utf-8', renderDashboard(data), head);
      logger.debug({ ms: Math.round(performance.now() - started) }, 'dashboard rendered');
    } catch (err) {
      const message = options.explainError?.(err) ?? 'the analytics views could not be read';
      logger.error({ err: (err as Error).message }, 'dashboard query failed');
      send(
        res,
        503,
        'text/html; charset=utf-8',
        `<!doctype html><meta charset="utf-8"><title>dashboard unavailable</title>` +
          `<p style="font:16px system-ui;margin:40px">Dashboard unavailable: ${escapeHtml(message)}</p>`,
        head,
      );
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      logger.error({ err: (err as Error).message }, 'dashboard request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
