import pg from 'pg';
import { inject } from 'vitest';
import { createDb } from '@herald/shared';
import type { Db } from '@herald/shared';
import { adminDatabaseUrl, databaseUrlFor } from './services.js';

/**
 * A fresh database for this test file, cloned from the migrated template. Files on the same vitest
 * worker run one after another, so the worker's pool id makes the name unique.
 */
export async function createTestDatabase(): Promise<{ url: string; db: Db; drop(): Promise<void> }> {
  const template = inject('templateDatabase');
  const name = `${template.replace(/_template$/, '')}_w${process.env.VITEST_POOL_ID ?? '0'}`;
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  const url = databaseUrlFor(name);
  const db = createDb(url, { poolSize: 5 });
  return {
    url,
    db,
    async drop() {
      await db.$disconnect();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Empties every table between tests; cheaper than a new database and just as isolating. */
export async function truncateAll(db: Db): Promise<void> {
  await db.$executeRawUnsafe('TRUNCATE email_events, malformed_email_events, deliveries, campaigns, subscribers, mail_holds CASCADE');
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
