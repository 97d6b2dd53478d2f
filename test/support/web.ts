import { closeQueues, createLogger, createProducerConnection, createQueues, loadEmailLayout } from '@herald/shared';
import type { Express } from 'express';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createApp } from '../../apps/web/src/app.js';
import { loadConfig } from '../../apps/web/src/config.js';
import type { WebDeps } from '../../apps/web/src/deps.js';
import { checkAnswers } from './api-description.js';
import { createTestDatabase, truncateAll } from './database.js';
import { deleteKeys, uniqueQueuePrefix } from './redis.js';
import { redisUrl } from './services.js';

export const adminToken = 'test-admin-token-0123456789abcdef0123456789';
export const adminPassword = 'correct horse battery staple';
/** The first owner's email when ADMIN_EMAIL is unset: admin@ and PUBLIC_URL's host. */
export const adminEmail = 'admin@herald.test';
export const metricsToken = 'test-metrics-token-0123456789abcdef';

export type WebHarness = WebDeps & { app: Express; close(): Promise<void> };

/** The real web app over a database and queue prefix of this test file's own. */
export async function createWebHarness(env: Record<string, string> = {}): Promise<WebHarness> {
  const database = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: uniqueQueuePrefix(),
    PUBLIC_URL: 'http://herald.test',
    ADMIN_TOKEN: adminToken,
    ADMIN_PASSWORD: adminPassword,
    SESSION_SECRET: 'test-session-secret-0123456789abcdef0123456789',
    METRICS_TOKEN: metricsToken,
    ...env,
  });
  const logger = createLogger({ name: 'web', level: config.logLevel });
  const redis = createProducerConnection(config.redisUrl);
  await redis.connect();
  const queues = createQueues(redis, config.queuePrefix);
  const emailLayout = loadEmailLayout(config.email.brand, config.email.layoutPath);
  const deps = { config, db: database.db, redis, queues, logger, emailLayout };
  return {
    ...deps,
    // Every answer is checked against the API description; see api-description.ts.
    app: checkAnswers(createApp(deps)),
    async close() {
      await closeQueues(queues);
      redis.disconnect();
      await deleteKeys(config.queuePrefix);
      await database.drop();
    },
  };
}

/**
 * Registers the usual hooks for a test file that drives the web app: one harness for the file,
 * tables emptied before each test. The returned object is filled in before the first test runs.
 */
export function useWebHarness(env: Record<string, string> = {}): WebHarness {
  const web = {} as WebHarness;
  beforeAll(async () => {
    Object.assign(web, await createWebHarness(env));
  });
  afterAll(async () => {
    await web.close?.();
  });
  beforeEach(async () => {
    await truncateAll(web.db);
    // Wrong secrets are counted per client address, and every test comes from 127.0.0.1.
    await deleteKeys(`${web.config.queuePrefix}:auth-failures`);
  });
  return web;
}
