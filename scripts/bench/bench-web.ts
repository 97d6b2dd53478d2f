/**
 * What the bench's measurements share: a scratch database migrated from scratch, and the real web
 * app listening on an ephemeral port over it, in this process or (webEnv) in one of its own.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import type { Db } from '@herald/shared';
import { closeQueues, createDb, createLogger, createProducerConnection, createQueues, loadEmailLayout } from '@herald/shared';
import { createApp } from '../../apps/web/src/app.js';
import { loadConfig } from '../../apps/web/src/config.js';
import { migrateDeploy } from '../../tools/prisma-schema-engine/deploy.js';
import { startChild, stopChild } from './child-processes.js';

export const benchAdminDatabaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const benchAdminToken = 'bench-admin-token-0123456789abcdef0123456789';

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: benchAdminDatabaseUrl });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

function benchDatabaseUrl(database: string): string {
  return Object.assign(new URL(benchAdminDatabaseUrl), { pathname: `/${database}` }).toString();
}

/** Creates `database` afresh and applies the migrations; returns its URL. */
export async function createBenchDatabase(database: string): Promise<{ url: string; drop(): Promise<void> }> {
  await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${database}`);
  const url = benchDatabaseUrl(database);
  await migrateDeploy(url);
  return { url, drop: () => adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`) };
}

/** The web's environment for a bench: production mode, logging nothing, over `databaseUrl`. */
export function webEnv(databaseUrl: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: `bench-${Date.now()}`,
    ADMIN_TOKEN: benchAdminToken,
    ADMIN_PASSWORD: 'bench-password-123',
    SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
    NEWSLETTER_NAME: 'Bench',
    MAIL_POSTAL_ADDRESS: '1 Bench Street',
    ...env,
  };
}

/** The web app in this process over a fresh database named `database`. */
export async function startBenchWeb(database: string, env: Record<string, string> = {}) {
  // Configuration first: a bench whose settings the web refuses leaves no database behind.
  const config = loadConfig(webEnv(benchDatabaseUrl(database), env));
  const scratch = await createBenchDatabase(database);
  const logger = createLogger({ name: 'bench', level: 'silent' });
  const db = createDb(scratch.url, { poolSize: 30 });
  const redis = createProducerConnection(config.redisUrl);
  await redis.connect();
  const queues = createQueues(redis, config.queuePrefix, logger);
  const emailLayout = loadEmailLayout(config.email.brand, config.email.layoutPath);
  const server = createApp({ config, db, redis, queues, logger, emailLayout }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    config,
    db,
    queues,
    logger,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.close();
      for (const queue of Object.values(queues)) await queue.obliterate({ force: true });
      await closeQueues(queues);
      redis.disconnect();
      await db.$disconnect();
      await scratch.drop();
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export type WebProcess = { url: string; pid: number; databaseUrl: string; db: Db; close(): Promise<void> };

/**
 * The web as it runs in production, built, in a process of its own over a fresh database named
 * `database`, so its CPU is its own; `db` is the bench's own small pool onto the same database.
 * With `profileDir`, the web writes a V8 CPU profile there when it stops.
 */
export async function startWebProcess(database: string, env: Record<string, string> = {}, profileDir?: string): Promise<WebProcess> {
  const scratch = await createBenchDatabase(database);
  const db = createDb(scratch.url, { poolSize: 2 });
  const port = await freePort();
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = startChild([process.execPath, ...profile, 'apps/web/dist/main.js'], webEnv(scratch.url, { ...env, PORT: String(port), LOG_LEVEL: 'info' }));
  try {
    await child.waitForLine((line) => line.includes('"web listening"'));
  } catch (err) {
    await db.$disconnect();
    await scratch.drop();
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.process.pid!,
    databaseUrl: scratch.url,
    db,
    async close() {
      await stopChild(child);
      await db.$disconnect();
      await scratch.drop();
    },
  };
}
