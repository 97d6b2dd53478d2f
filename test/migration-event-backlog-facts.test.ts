import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '@herald/shared';
import type { Db } from '@herald/shared';
import { applyEventBatch } from '../apps/worker/src/events/apply-event-batch.js';
import { adminDatabaseUrl, databaseUrlFor } from './support/services.js';

/**
 * The event_backlog_facts migration on a database that already holds people on a list, a sent
 * campaign, its deliveries and SendGrid events, some applied and some still waiting in the backlog:
 * the state an install is in when it upgrades. The earlier migrations are applied by hand, the
 * tables populated and the aggregates rebuilt; then the migration, and the waiting events applied
 * by the worker's own code.
 */

const migrationsDir = fileURLToPath(new URL('../prisma/migrations/', import.meta.url));
const upgrade = '20261208120000_event_backlog_facts';
const dbName = `herald_migration_backlog_facts_${process.pid}`;
// Timestamps as Postgres prints them, so comparisons see no time-zone shift.
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 1114 || oid === 1184 ? (v: string) => v : pg.types.getTypeParser(oid, format),
};
let client: pg.Client;
let db: Db;

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminDatabaseUrl });
  await c.connect();
  await c.query(sql).finally(() => c.end());
}

const migrationSql = (name: string) => readFileSync(`${migrationsDir}${name}/migration.sql`, 'utf8');

async function rows(sql: string): Promise<unknown[]> {
  return (await client.query(sql)).rows;
}

/** What must not change: people, their lists, campaigns, deliveries, events and the aggregates. */
async function kept() {
  return {
    subscribers: await rows('SELECT id, email, status, updated_at FROM subscribers ORDER BY id'),
    subscriptions: await rows('SELECT subscriber_id, list_id, status FROM subscriptions ORDER BY 1, 2'),
    campaigns: await rows('SELECT id, status, recipient_count, updated_at FROM campaigns ORDER BY id'),
    deliveries: await rows('SELECT id, status FROM deliveries ORDER BY id'),
    events: await rows('SELECT id, dedupe_key, type, occurred_at, delivery_id, subscriber_id, payload, created_at FROM email_events ORDER BY id'),
    aggregates: await aggregates(),
  };
}

async function aggregates() {
  return {
    hours: await rows('SELECT campaign_id, kind, hour, events, uniques FROM campaign_event_hours ORDER BY 1, 2, 3'),
    firsts: await rows('SELECT delivery_id, kind, first_at FROM delivery_event_firsts ORDER BY 1, 2'),
    links: await rows('SELECT campaign_id, url_hash, url, clicks, unique_clicks FROM campaign_link_clicks ORDER BY 1, 2'),
    unattributed: await rows('SELECT kind, hour, events FROM unattributed_event_hours ORDER BY 1, 2'),
  };
}

describe('the event_backlog_facts migration on a populated database', () => {
  let before: Awaited<ReturnType<typeof kept>>;
  let waiting: string[];

  beforeAll(async () => {
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${dbName}`);
    client = new pg.Client({ connectionString: databaseUrlFor(dbName), types });
    await client.connect();
    const earlier = readdirSync(migrationsDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name < upgrade)
      .map((entry) => entry.name)
      .sort();
    for (const name of earlier) await client.query(migrationSql(name));

    await client.query(`
      WITH people AS (
        INSERT INTO subscribers (email, status, consent_at, confirmed_at)
        SELECT 'reader-' || n || '@example.com', 'active', now(), now() FROM generate_series(1, 4) n RETURNING id),
      joined AS (
        INSERT INTO subscriptions (subscriber_id, list_id, status, consent_source, consent_at, confirmed_at)
        SELECT people.id, lists.id, 'active', 'form', now(), now() FROM people, lists WHERE lists.is_default),
      issue AS (
        INSERT INTO campaigns (subject, html, status, recipient_count, started_at, finished_at)
        VALUES ('Issue 1', '<p>x</p>', 'sent', 4, '2026-12-01 09:00:00', '2026-12-01 09:05:00') RETURNING id)
      INSERT INTO deliveries (campaign_id, subscriber_id, status, attempts, sent_at)
      SELECT issue.id, people.id, 'sent', 1, '2026-12-01 09:01:00' FROM issue, people`);
    // Every delivery delivered and applied; then, still waiting: a click, a hard bounce, a
    // confirmation email's delivery and an open of a delivery Herald does not know.
    await client.query(`
      INSERT INTO email_events (dedupe_key, type, occurred_at, delivery_id, subscriber_id, payload, created_at)
      SELECT 'delivered-' || d.id, 'delivered', '2026-12-01 10:00:00', d.id, d.subscriber_id,
             jsonb_build_object('event', 'delivered', 'herald_delivery_id', d.id), '2026-12-01 10:00:01'
      FROM deliveries d`);
    await client.query('DELETE FROM email_event_backlog');
    await client.query(`
      WITH d AS (SELECT id, subscriber_id, row_number() OVER (ORDER BY id) AS n FROM deliveries)
      INSERT INTO email_events (dedupe_key, type, occurred_at, delivery_id, subscriber_id, payload, created_at)
      SELECT 'click', 'click', '2026-12-01 11:00:00'::timestamp, d.id, d.subscriber_id,
             jsonb_build_object('event', 'click', 'url', 'https://example.com/a'), '2026-12-01 11:00:01'::timestamp FROM d WHERE n = 1
      UNION ALL
      SELECT 'bounce', 'bounce', '2026-12-01 10:00:30', d.id, d.subscriber_id,
             jsonb_build_object('event', 'bounce', 'type', 'bounce', 'reason', '550 5.1.1 No such user'), '2026-12-01 11:00:02' FROM d WHERE n = 2
      UNION ALL
      SELECT 'confirmation', 'delivered', '2026-12-01 10:30:00', NULL, d.subscriber_id,
             jsonb_build_object('event', 'delivered', 'herald_subscriber_id', d.subscriber_id), '2026-12-01 11:00:03' FROM d WHERE n = 3
      UNION ALL
      SELECT 'stranger', 'open', '2026-12-01 10:45:00', NULL, NULL,
             jsonb_build_object('event', 'open', 'email', 'stranger@example.com'), '2026-12-01 11:00:04'`);
    await client.query('SELECT herald_rebuild_report_aggregates()');
    waiting = (await client.query<{ event_id: string }>('SELECT event_id FROM email_event_backlog ORDER BY seq')).rows.map((row) => row.event_id);
    expect(waiting).toHaveLength(4);
    before = await kept();
    expect(before.aggregates.hours).toEqual([expect.objectContaining({ kind: 'delivered', events: 4, uniques: 4 })]);
    await client.query(migrationSql(upgrade));
    db = createDb(databaseUrlFor(dbName), { poolSize: 2 });
  });

  afterAll(async () => {
    await db?.$disconnect();
    await client?.end();
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  it('keeps every person, subscription, campaign, delivery, event and report count as it was', async () => {
    expect(await kept()).toEqual(before);
  });

  it('gives each waiting event its facts, in the order the events arrived', async () => {
    const backlog = await rows(`
      SELECT b.event_id, e.dedupe_key, b.type, b.occurred_at, b.delivery_id IS NOT DISTINCT FROM e.delivery_id AS same_delivery,
             b.subscriber_id IS NOT DISTINCT FROM e.subscriber_id AS same_subscriber, b.kind, b.url, b.url_hash, b.transactional,
             b.bounce_type, b.reason, b.classification
      FROM email_event_backlog b JOIN email_events e ON e.id = b.event_id ORDER BY b.seq`);
    const same = { same_delivery: true, same_subscriber: true, classification: null };
    expect(backlog).toEqual([
      { ...same, event_id: waiting[0], dedupe_key: 'click', type: 'click', occurred_at: '2026-12-01 11:00:00', kind: 'clicked', url: 'https://example.com/a', url_hash: createHash('md5').update('https://example.com/a').digest('hex'), transactional: false, bounce_type: null, reason: null },
      { ...same, event_id: waiting[1], dedupe_key: 'bounce', type: 'bounce', occurred_at: '2026-12-01 10:00:30', kind: 'bounced', url: null, url_hash: null, transactional: false, bounce_type: 'bounce', reason: '550 5.1.1 No such user' },
      { ...same, event_id: waiting[2], dedupe_key: 'confirmation', type: 'delivered', occurred_at: '2026-12-01 10:30:00', kind: 'delivered', url: null, url_hash: null, transactional: true, bounce_type: null, reason: null },
      { ...same, event_id: waiting[3], dedupe_key: 'stranger', type: 'open', occurred_at: '2026-12-01 10:45:00', kind: 'opened', url: null, url_hash: null, transactional: false, bounce_type: null, reason: null },
    ]);
  });

  it('lets the worker apply the waiting events to the counts a rebuild gives, and suppress the bounced address', async () => {
    expect(await applyEventBatch(db, 100)).toEqual({ processed: 4, suppressed: 1 });
    expect(await rows('SELECT 1 FROM email_event_backlog')).toEqual([]);
    const applied = await aggregates();
    expect(applied.hours).toEqual([
      expect.objectContaining({ kind: 'bounced', events: 1, uniques: 1 }),
      expect.objectContaining({ kind: 'clicked', events: 1, uniques: 1 }),
      expect.objectContaining({ kind: 'delivered', events: 4, uniques: 4 }),
    ]);
    expect(applied.links).toEqual([expect.objectContaining({ url: 'https://example.com/a', clicks: 1, unique_clicks: 1 })]);
    expect(applied.unattributed).toEqual([{ kind: 'opened', hour: '2026-12-01 10:00:00', events: 1 }]);
    await client.query('SELECT herald_rebuild_report_aggregates()');
    expect(await aggregates()).toEqual(applied);
    expect(await rows(`SELECT email, status FROM subscribers WHERE status <> 'active'`)).toEqual([{ email: expect.any(String), status: 'bounced' }]);
  });

  it('stores new events with time-ordered ids, queued with their facts', async () => {
    await client.query(`
      INSERT INTO email_events (dedupe_key, type, occurred_at, payload)
      VALUES ('later', 'click', '2026-12-02 08:00:00', '{"event": "click", "url": "https://example.com/b"}')`);
    const [event] = (await client.query<{ id: string }>(`SELECT id FROM email_events WHERE dedupe_key = 'later'`)).rows;
    expect(event!.id[14]).toBe('7');
    expect(await rows('SELECT kind, url, url_hash = md5(url) AS digest FROM email_event_backlog')).toEqual([
      { kind: 'clicked', url: 'https://example.com/b', digest: true },
    ]);
  });
});
