import { closeQueues, createDb, createLogger, createProducerConnection, createQueues, loadEmailLayout } from '@herald/shared';
import { createApp } from '../../../apps/web/src/app.js';
import { loadConfig } from '../../../apps/web/src/config.js';
import { routeTable } from '../../support/route-table.js';
import type { RouteEntry } from '../../support/route-table.js';

/**
 * The route table of the web app the scenario runs, built in this process from the same code: the
 * app is assembled but never listens and no route runs, so the database and Redis named here are
 * not used beyond the connections that opening the queues makes.
 */
export async function webRouteTable({ databaseUrl, redisUrl }: { databaseUrl: string; redisUrl: string }): Promise<RouteEntry[]> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    PUBLIC_URL: 'http://herald.test',
    ADMIN_TOKEN: 'route-table-admin-token-0123456789abcdef',
    ADMIN_PASSWORD: 'route table admin password',
    SESSION_SECRET: 'route-table-session-secret-0123456789abcdef',
  });
  const redis = createProducerConnection(config.redisUrl);
  const queues = createQueues(redis, config.queuePrefix);
  const db = createDb(config.databaseUrl);
  try {
    const emailLayout = loadEmailLayout(config.email.brand, config.email.layoutPath);
    return routeTable(createApp({ config, db, redis, queues, logger: createLogger({ name: 'route-table', level: 'silent' }), emailLayout }));
  } finally {
    await closeQueues(queues);
    redis.disconnect();
    await db.$disconnect();
  }
}
