import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDatabaseUrl, databaseUrlFor } from './support/services.js';

/**
 * The outbound webhooks and event backlog migrations on a database that already holds people, a
 * sent campaign, its deliveries and SendGrid events, some applied and some still waiting: the state
 * an install is in when it upgrades. The earlier migrations are applied by hand, the tables
 * populated and the report aggregates rebuilt, then the two migrations applied and compared.
 */

const migrationsDir = fileURLToPath(new URL('../prisma/migrations/', import.meta.url));
const upgrade = ['20261207140000_outbound_webhooks', '20261207150000_event_backlog'];
const dbName = `herald_migration_event_backlog_${process.pid}`;
// Timestamps as Postgres prints them, so comparisons see no time-zone shift.
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 1114 || oid === 1184 ? (v: string) => v : pg.types.getTypeParser(oid, format),
};
let client: pg.Client;

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminDatabaseUrl });
  await c.connect();
  await c.query(sql).finally(() => c.end());
}

const migrationSql = (name: string) => readFileSync(`${migrationsDir}${name}/migration.sql`, 'utf8');

async function rows(sql: string): Promise<unknown[]> {
  return (await client.query(sql)).rows;
}

/** What must not change: people, campaigns, deliveries, events (but processed_at) and the aggregates. */
async function kept() {
  return {
    subscribers: await rows('SELECT id, email, status, updated_at FROM subscribers ORDER BY id'),
    campaigns: await rows('SELECT id, status, recipient_count, updated_at FROM campaigns ORDER BY id'),
    deliveries: await rows('SELECT id, status FROM deliveries ORDER BY id'),
    events: await rows('SELECT id, type, occurred_at, delivery_id, subscriber_id, payload, created_at FROM email_events ORDER BY id'),
    hours: await rows('SELECT campaign_id, kind, hour, events, uniques FROM campaign_event_hours ORDER BY 1, 2, 3'),
  };
}

describe('the outbound webhooks and event backlog migrations on a populated database', () => {
  let before: Awaited<ReturnType<typeof kept>>;
  let waiting: string[];

  beforeAll(async () => {
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${dbName}`);
    client = new pg.Client({ connectionString: databaseUrlFor(dbName), types });
    await client.connect();
    const earlier = readdirSync(migrationsDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name < upgrade[0]!)
      .map((entry) => entry.name)
      .sort();
    for (const name of earlier) await client.query(migrationSql(name));

    await client.query(`
      WITH people AS (
        INSERT INTO subscribers (email, status, consent_at, confirmed_at)
        SELECT 'reader-' || n || '@example.com', 'active', now(), now() FROM generate_series(1, 6) n RETURNING id),
      issue AS (
        INSERT INTO campaigns (subject, html, status, recipient_count, started_at, finished_at)
        VALUES ('Issue 1', '<p>x</p>', 'sent', 6, '2026-12-01 09:00:00', '2026-12-01 09:05:00') RETURNING id)
      INSERT INTO deliveries (campaign_id, subscriber_id, status, attempts, sent_at)
      SELECT issue.id, people.id, 'sent', 1, '2026-12-01 09:01:00' FROM issue, people`);
    // Each delivery: delivered and opened, applied; the last three also clicked, not applied yet.
    await client.query(`
      INSERT INTO email_events (dedupe_key, type, occurred_at, delivery_id, subscriber_id, payload, created_at, processed_at)
      SELECT d.id || '-' || t.type, t.type, '2026-12-01 10:00:00', d.id, d.subscriber_id,
             jsonb_build_object('event', t.type, 'url', 'https://example.com/a'),
             '2026-12-01 10:00:01'::timestamp + (row_number() OVER (ORDER BY d.id, t.type)) * interval '1 second',
             CASE WHEN t.type = 'click' THEN NULL ELSE '2026-12-01 10:01:00'::timestamp END
      FROM deliveries d CROSS JOIN (VALUES ('delivered'), ('open'), ('click')) t(type)
      WHERE t.type <> 'click' OR d.id IN (SELECT id FROM deliveries ORDER BY id OFFSET 3)`);
    await client.query('SELECT herald_rebuild_report_aggregates()');
    waiting = (await client.query<{ id: string }>('SELECT id FROM email_events WHERE processed_at IS NULL ORDER BY created_at, id')).rows.map((row) => row.id);
    expect(waiting).toHaveLength(3);
    before = await kept();
    // Delivered and opened each counted, clicks not yet.
    expect(before.hours).toEqual([expect.objectContaining({ kind: 'delivered', events: 6 }), expect.objectContaining({ kind: 'opened', events: 6 })]);
    for (const name of upgrade) await client.query(migrationSql(name));
  });

  afterAll(async () => {
    await client?.end();
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  it('keeps every person, campaign, delivery, event and report count as it was', async () => {
    expect(await kept()).toEqual(before);
    expect(await rows(`SELECT 1 FROM information_schema.columns WHERE table_name = 'email_events' AND column_name = 'processed_at'`)).toEqual([]);
  });

  it('puts exactly the events not yet applied in the backlog, in the order they arrived', async () => {
    expect((await client.query<{ event_id: string }>('SELECT event_id FROM email_event_backlog ORDER BY seq')).rows.map((row) => row.event_id)).toEqual(waiting);
  });

  it('recounts the same aggregates, the waiting events still left out', async () => {
    await client.query('SELECT herald_rebuild_report_aggregates()');
    expect(await kept()).toEqual(before);
  });

  it('writes no webhook events for the rows already there, and starts reporting changes once an endpoint wants them', async () => {
    expect(await rows('SELECT 1 FROM webhook_events')).toEqual([]);
    await client.query(`INSERT INTO webhook_endpoints (url, event_types, secret) VALUES ('https://hooks.example.com/h', ARRAY['subscriber.unsubscribed'], 'whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIz')`);
    await client.query(`UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = now() WHERE email = 'reader-1@example.com'`);
    expect(await rows('SELECT type FROM webhook_events')).toEqual([{ type: 'subscriber.unsubscribed' }]);
    expect(await rows('SELECT count(*)::int AS n FROM webhook_deliveries')).toEqual([{ n: 1 }]);
  });
});
