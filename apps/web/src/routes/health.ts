import { Router } from 'express';
import type { WebDeps } from '../deps.js';

/**
 * Liveness says the process answers; readiness says it has warmed up (see readiness/warm-up.ts)
 * and can reach Postgres and Redis.
 */
export function healthRoutes({ db, redis, warmUp }: WebDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (warmUp && !warmUp.finished()) {
      res.status(503).json({ status: 'warming-up' });
      return;
    }
    const [database, queue] = await Promise.all([
      db.$queryRaw`SELECT 1`.then(() => 'ok', () => 'down'),
      redis.ping().then(() => 'ok', () => 'down'),
    ]);
    const ready = database === 'ok' && queue === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable', checks: { database, redis: queue } });
  });
  return router;
}
