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

/**
 * Empties every table between tests; cheaper than a new database and just as isolating. A worker of
 * the stack may be mid-statement (the reconcile every worker runs as it starts, say), and its locks
 * taken in another order than the TRUNCATE's can deadlock with it: Postgres then aborts one of the
 * two, and when that is the TRUNCATE, it runs again.
 */
export async function truncateAll(db: Db): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.$executeRawUnsafe(
        'TRUNCATE audit_entries, api_tokens, users, webhook_endpoints, webhook_events, email_event_backlog, email_events, malformed_email_events, unattributed_event_hours, deliveries, campaign_lists, campaigns, segments, welcome_emails, subscriptions, subscribers, mail_holds, email_event_retention CASCADE',
      );
      // The default list is part of the schema (the audiences migration makes it): keep it, as the
      // migration left it, and remove every other list.
      await db.$executeRawUnsafe('DELETE FROM lists WHERE NOT is_default');
      await db.$executeRawUnsafe(
        "UPDATE lists SET name = 'Newsletter', slug = 'newsletter', description = NULL, visibility = 'public', double_opt_in = true, welcome_subject = NULL, welcome_body = NULL, welcome_format = 'markdown', archived_at = NULL WHERE is_default",
      );
      return;
    } catch (err) {
      if (attempt === 5 || !isDeadlock(err)) throw err;
    }
  }
}

/** Postgres's deadlock_detected (40P01), as the driver adapter reports it under Prisma's error. */
function isDeadlock(err: unknown): boolean {
  const meta = (err as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } }).meta;
  return meta?.driverAdapterError?.cause?.originalCode === '40P01';
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
