import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthState {
  /**
   * ok: consuming; degraded: retrying after a dependency error; unhealthy: still failing after the
   * service's bound (an operator should look); starting/stopped otherwise.
   */
  status: 'starting' | 'ok' | 'degraded' | 'unhealthy' | 'stopped';
  detail?: string;
}

/** GET /health (200 when ok, 503 otherwise, JSON body) and GET /metrics (Prometheus text). */
export async function startHttpServer(
  port: number,
  host: string,
  health: () => HealthState,
  registry: Registry,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      const state = health();
      res.writeHead(state.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(state));
    } else if (req.method === 'GET' && path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(err.message);
        },
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
