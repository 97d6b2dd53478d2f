/**
 * Runs once per `npm test`: checks that Postgres and Redis answer (one clear line if not) and builds
 * a migrated template database that every test file clones into a database of its own.
 */
import pg from 'pg';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { migrateDeploy } from '../tools/prisma-schema-engine/deploy.js';
import { randomBytes } from 'node:crypto';
import { adminDatabaseUrl, databaseUrlFor, redisUrl } from './support/services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

async function assertPostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `Postgres is not reachable at ${adminDatabaseUrl} (${(err as Error).message}). Start it with: ` +
        'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
      { cause: err },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function assertRedis(): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis is not reachable at ${redisUrl} (${(err as Error).message}). Start it with: ` +
        'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
      { cause: err },
    );
  } finally {
    redis.disconnect();
  }
}

async function adminQuery(sql: string): Promise<{ rows: Record<string, unknown>[] }> {
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  try {
    return await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/**
 * Every run gets databases of its own (`herald_test_<run>_template`, cloned per vitest worker into
 * `herald_test_<run>_w<n>`), so two runs on one server never drop each other's databases.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await Promise.all([assertPostgres(), assertRedis()]);
  const run = `herald_test_${randomBytes(4).toString('hex')}`;
  const templateDatabase = `${run}_template`;
  await adminQuery(`CREATE DATABASE ${templateDatabase}`);
  await migrateDeploy(databaseUrlFor(templateDatabase));
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    const { rows } = await adminQuery(`SELECT datname FROM pg_database WHERE datname LIKE '${run}\\_%'`);
    for (const { datname } of rows) await adminQuery(`DROP DATABASE IF EXISTS ${String(datname)} WITH (FORCE)`);
  };
}
