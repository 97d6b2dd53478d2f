import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { checkMetricsAccess } from '@herald/shared';
import type { Db, Logger, Redis } from '@herald/shared';
import type { Registry } from 'prom-client';

export type OpsServerDeps = {
  db: Db;
  /** A fail-fast connection (not the workers' blocking one, which waits through outages). */
  redis: Redis;
  registry: Registry;
  metricsToken: string | undefined;
  logger: Logger;
};

const checkTimeoutMs = 2_000;

/** Resolves 'ok' or 'down' within the timeout: a readiness probe must answer even when a store hangs. */
async function probe(check: () => Promise<unknown>): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'down'>((resolve) => {
    timer = setTimeout(() => resolve('down'), checkTimeoutMs);
  });
  try {
    return await Promise.race([check().then(() => 'ok' as const, () => 'down' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * The worker's small HTTP listener for operators: `/healthz` (the process answers), `/readyz`
 * (Postgres and Redis reachable, else 503) and `/metrics` (Prometheus, behind METRICS_TOKEN).
 * It never listens by itself: main.ts does, on WORKER_HTTP_PORT.
 */
export function createOpsServer(deps: OpsServerDeps): Server {
  const { db, redis, registry, metricsToken, logger } = deps;
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    '/healthz': async (_req, res) => sendJson(res, 200, { status: 'ok' }),
    '/readyz': async (_req, res) => {
      const [database, queue] = await Promise.all([probe(() => db.$queryRaw`SELECT 1`), probe(() => redis.ping())]);
      const ready = database === 'ok' && queue === 'ok';
      sendJson(res, ready ? 200 : 503, { status: ready ? 'ok' : 'unavailable', checks: { database, redis: queue } });
    },
    '/metrics': async (req, res) => {
      const access = checkMetricsAccess(req.headers.authorization, metricsToken);
      if (!access.allowed) {
        sendJson(res, access.status, { error: { code: access.code, message: access.message } }, access.headers);
        return;
      }
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
    },
  };

  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path];
    if (!route) {
      sendJson(res, 404, { error: { code: 'not_found', message: 'Not found.' } });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: { code: 'method_not_allowed', message: 'Use GET.' } }, { allow: 'GET, HEAD' });
      return;
    }
    route(req, res).catch((err: unknown) => {
      logger.error({ err, path }, 'ops request failed');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'Internal error.' } });
      else res.destroy();
    });
  });
}
