import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDatabaseUrl, databaseUrlFor } from './support/services.js';

/**
 * The audiences migration on a database that already holds people, campaigns, deliveries and events:
 * the state an existing install is in when it upgrades. The migrations before it are applied by hand
 * (their migration.sql in order), the tables populated, then the audiences migration applied and the
 * data compared with what was there before.
 */

const migrationsDir = fileURLToPath(new URL('../prisma/migrations/', import.meta.url));
const audiences = '20261204230000_audiences';
const dbName = `herald_migration_audiences_${process.pid}`;

// Timestamps as Postgres prints them: comparing text avoids any time-zone shift in the driver.
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 1114 || oid === 1184 ? (v: string) => v : pg.types.getTypeParser(oid, format),
};

let client: pg.Client;

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminDatabaseUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function migrationSql(name: string): string {
  return readFileSync(`${migrationsDir}${name}/migration.sql`, 'utf8');
}

/** Every migration folder before the audiences one, oldest first (folder names sort by time). */
function migrationsBefore(name: string): string[] {
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name < name)
    .map((e) => e.name)
    .sort();
}

/** The columns each table has now: the snapshot compares only these, so new columns are ignored. */
async function columnsOf(tables: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of tables) {
    const r = await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
      [t],
    );
    out[t] = r.rows.map((row) => row.column_name);
  }
  return out;
}

/** Every row of every table, restricted to the given columns, in a stable order. */
async function snapshot(columns: Record<string, string[]>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, cols] of Object.entries(columns)) {
    const list = cols.map((c) => `"${c}"`).join(', ');
    const r = await client.query(`SELECT ${list} FROM "${table}" ORDER BY (ROW(${list}))::text`);
    out[table] = r.rows;
  }
  return out;
}

const oldTables = ['subscribers', 'campaigns', 'deliveries', 'email_events', 'malformed_email_events', 'mail_holds'];

// People in every status the old schema has, including the odd rows old code may have left: an
// active person without confirmed_at, an unsubscribed one without unsubscribed_at, a bounced address
// that was confirmed and one that never was.
const people = [
  { email: 'pending@example.com', name: 'Pat Pending', status: 'pending', consent_at: '2026-11-01 10:00:00', consent_source: 'form', confirmed_at: null, unsubscribed_at: null, confirm_token_hash: 'hash-pending', confirm_token_expires_at: '2026-11-03 10:00:00', confirmation_sent_at: '2026-11-01 10:00:01', created_at: '2026-11-01 10:00:00', updated_at: '2026-11-01 10:00:01' },
  { email: 'active@example.com', name: 'Ann Active', status: 'active', consent_at: '2026-10-01 08:00:00', consent_source: 'form', confirmed_at: '2026-10-01 08:05:00', unsubscribed_at: null, confirm_token_hash: null, confirm_token_expires_at: null, confirmation_sent_at: '2026-10-01 08:00:02', created_at: '2026-10-01 08:00:00', updated_at: '2026-10-01 08:05:00' },
  { email: 'imported@example.com', name: null, status: 'active', consent_at: '2026-09-15 12:00:00', consent_source: 'import', confirmed_at: null, unsubscribed_at: null, confirm_token_hash: null, confirm_token_expires_at: null, confirmation_sent_at: null, created_at: '2026-09-15 12:00:00', updated_at: '2026-09-15 12:00:00' },
  { email: 'legacy@example.com', name: 'Leg Acy', status: 'active', consent_at: null, consent_source: null, confirmed_at: null, unsubscribed_at: null, confirm_token_hash: null, confirm_token_expires_at: null, confirmation_sent_at: null, created_at: '2026-08-01 00:00:00', updated_at: '2026-08-02 00:00:00' },
  { email: 'left@example.com', name: "O'Leary \"Left\"", status: 'unsubscribed', consent_at: '2026-07-01 09:00:00', consent_source: 'api', confirmed_at: '2026-07-01 09:10:00', unsubscribed_at: '2026-11-20 18:30:00.123', confirm_token_hash: null, confirm_token_expires_at: null, confirmation_sent_at: '2026-07-01 09:00:01', created_at: '2026-07-01 09:00:00', updated_at: '2026-11-20 18:30:00.123' },
  { email: 'left-no-time@example.com', name: 'No Time', status: 'unsubscribed', consent_at: null, consent_source: null, confirmed_at: null, unsubscribed_at: null, confirm_token_hash: null, confirm_token_expires_at: null, confirmation_sent_at: null, created_at: '2026-06-01 00:00:00', updated_at: '2026-06-05 06:06:06' },
  { email: 'bounced@example.com', name: 'Bo Unced', status: 'bounced', consent_at: '2026-05-01 00:00:00', consent_source: 'form', confirmed_at: '2026-05-01 00:01:00', unsubscribed_at: null, confirm_token_hash: null, confirm_token_expires_at: null, confirmation_sent_at: '2026-05-01 00:00:01', created_at: '2026-05-01 00:00:00', updated_at: '2026-11-02 00:00:00' },
  { email: 'bounced-unconfirmed@example.com', name: null, status: 'bounced', consent_at: '2026-05-02 00:00:00', consent_source: 'form', confirmed_at: null, unsubscribed_at: null, confirm_token_hash: 'hash-bounced', confirm_token_expires_at: '2026-05-04 00:00:00', confirmation_sent_at: '2026-05-02 00:00:01', created_at: '2026-05-02 00:00:00', updated_at: '2026-05-02 00:10:00' },
  { email: 'complained@example.com', name: 'Comp Lained', status: 'complained', consent_at: '2026-04-01 00:00:00', consent_source: 'admin', confirmed_at: '2026-04-01 00:02:00', unsubscribed_at: null, confirm_token_hash: null, confirm_token_expires_at: null, confirmation_sent_at: null, created_at: '2026-04-01 00:00:00', updated_at: '2026-11-03 00:00:00' },
  { email: 'complained-left@example.com', name: 'Both', status: 'complained', consent_at: '2026-04-02 00:00:00', consent_source: 'form', confirmed_at: '2026-04-02 00:02:00', unsubscribed_at: '2026-10-10 00:00:00', confirm_token_hash: null, confirm_token_expires_at: null, confirmation_sent_at: null, created_at: '2026-04-02 00:00:00', updated_at: '2026-11-04 00:00:00' },
];

async function populate(): Promise<void> {
  for (const p of people) {
    await client.query(
      `INSERT INTO subscribers (email, name, status, consent_at, consent_source, confirmed_at, unsubscribed_at,
         confirm_token_hash, confirm_token_expires_at, confirmation_sent_at, created_at, updated_at, used_confirm_token_hash)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
      [p.email, p.name, p.status, p.consent_at, p.consent_source, p.confirmed_at, p.unsubscribed_at, p.confirm_token_hash,
        p.confirm_token_expires_at, p.confirmation_sent_at, p.created_at, p.updated_at, p.status === 'active' ? `used-${p.email}` : null],
    );
  }
  const campaigns = [
    ['draft', null], ['scheduled', '2026-12-24 09:00:00'], ['sending', null], ['paused', null], ['cancelled', null], ['sent', null],
  ] as const;
  for (const [status, sendAt] of campaigns) {
    await client.query(
      `INSERT INTO campaigns (subject, html, text, status, status_reason, send_at, recipient_count, idempotency_key, format, preheader, created_at, updated_at)
       VALUES ($1, '<p>Hello {{name}}</p>', 'Hello', $2, $3, $4, $5, $6, 'markdown', 'pre', '2026-11-10 00:00:00', '2026-11-11 00:00:00')`,
      [`Issue ${status}`, status, status === 'paused' ? 'sendgrid_auth' : null, sendAt, status === 'draft' ? 0 : 3, `key-${status}`],
    );
  }
  // Deliveries of the campaigns that went out, in every delivery status, with events on some.
  const subs = (await client.query<{ id: string; email: string }>('SELECT id, email FROM subscribers ORDER BY email')).rows;
  const sent = (await client.query<{ id: string; status: string }>(`SELECT id, status FROM campaigns WHERE status IN ('sending','paused','cancelled','sent')`)).rows;
  const deliveryStatuses = ['queued', 'sending', 'sent', 'failed', 'cancelled', 'skipped'];
  let n = 0;
  for (const c of sent) {
    for (const s of subs.slice(0, 6)) {
      const status = deliveryStatuses[n++ % deliveryStatuses.length];
      const d = await client.query<{ id: string }>(
        `INSERT INTO deliveries (campaign_id, subscriber_id, status, attempts, round, last_error, provider_message_id, claimed_at, sent_at, claim_token)
         VALUES ($1,$2,$3,$4,1,$5,$6,$7,$8,$9) RETURNING id`,
        [c.id, s.id, status, status === 'queued' ? 0 : 1, status === 'failed' ? 'HTTP 500' : null,
          status === 'sent' ? `msg-${n}` : null, status === 'sending' || status === 'sent' ? '2026-11-12 00:00:00' : null,
          status === 'sent' ? '2026-11-12 00:00:01' : null, status === 'sending' ? `claim-${n}` : null],
      );
      const deliveryId = d.rows[0]?.id;
      if (status === 'sent' && deliveryId) {
        for (const type of ['delivered', 'open', 'click']) {
          await client.query(
            `INSERT INTO email_events (dedupe_key, type, occurred_at, delivery_id, subscriber_id, payload, processed_at)
             VALUES ($1,$2,'2026-11-12 01:00:00',$3,$4,$5,'2026-11-12 01:00:05')`,
            [`${deliveryId}-${type}`, type, deliveryId, s.id, JSON.stringify({ event: type, email: s.email })],
          );
        }
      }
    }
  }
  // An event no delivery matches, a malformed event and a hold: rows the migration must not touch.
  await client.query(`INSERT INTO email_events (dedupe_key, type, occurred_at, payload) VALUES ('orphan', 'bounce', '2026-11-13 00:00:00', '{"x":1}')`);
  await client.query(`INSERT INTO malformed_email_events (raw, problems, email) VALUES ('{bad', '["not json"]', 'x@example.com')`);
  await client.query(`INSERT INTO mail_holds (kind, reason) VALUES ('campaigns', 'sendgrid 401')`);
}

/** The subscription the migration gives an old subscriber row, written out from its CASE rules. */
function expectedSubscription(p: Record<string, unknown>) {
  const status = p.status === 'pending' ? 'pending'
    : p.status === 'unsubscribed' ? 'unsubscribed'
      : p.status === 'active' || p.confirmed_at !== null ? 'active' : 'pending';
  return {
    status,
    consent_at: p.consent_at,
    consent_source: p.consent_source,
    confirmed_at: p.status === 'active' ? (p.confirmed_at ?? p.consent_at ?? p.created_at) : p.confirmed_at,
    unsubscribed_at: p.status === 'unsubscribed' ? (p.unsubscribed_at ?? p.updated_at) : null,
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}

describe('the audiences migration on a populated database', () => {
  let columns: Record<string, string[]>;
  let before: Record<string, unknown[]>;

  beforeAll(async () => {
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${dbName}`);
    client = new pg.Client({ connectionString: databaseUrlFor(dbName), types });
    await client.connect();
    const earlier = migrationsBefore(audiences);
    expect(earlier.length).toBeGreaterThan(5);
    for (const m of earlier) await client.query(migrationSql(m));
    await populate();
    columns = await columnsOf(oldTables);
    before = await snapshot(columns);
    await client.query(migrationSql(audiences));
  });

  afterAll(async () => {
    await client?.end();
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  it('was populated with every subscriber status and campaigns with deliveries and events', () => {
    expect(new Set((before.subscribers as { status: string }[]).map((s) => s.status))).toEqual(
      new Set(['pending', 'active', 'unsubscribed', 'bounced', 'complained']),
    );
    expect(before.campaigns).toHaveLength(6);
    expect(before.deliveries).toHaveLength(24);
    expect((before.email_events as unknown[]).length).toBeGreaterThan(5);
  });

  it('leaves every row of the old tables as it was, column by column', async () => {
    const after = await snapshot(columns);
    for (const table of oldTables) expect(after[table], table).toEqual(before[table]);
  });

  it('makes one default list, public, with double opt-in, named by the placeholder rule', async () => {
    const lists = (await client.query('SELECT name, slug, description, visibility, double_opt_in, is_default, archived_at, welcome_subject FROM lists')).rows;
    expect(lists).toEqual([
      { name: 'Newsletter', slug: 'newsletter', description: null, visibility: 'public', double_opt_in: true, is_default: true, archived_at: null, welcome_subject: null },
    ]);
  });

  it('gives each subscriber exactly one subscription, in the default list, mapped from their status and consent', async () => {
    const rows = (await client.query(
      `SELECT s.email, l.is_default, sub.status, sub.consent_at, sub.consent_source, sub.confirmed_at, sub.unsubscribed_at, sub.created_at, sub.updated_at
       FROM subscribers s LEFT JOIN subscriptions sub ON sub.subscriber_id = s.id LEFT JOIN lists l ON l.id = sub.list_id ORDER BY s.email`,
    )).rows;
    const total = (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM subscriptions')).rows[0]?.n;
    expect(total).toBe(people.length);
    expect(rows).toHaveLength(people.length);
    for (const p of people) {
      const got = rows.filter((r) => r.email === p.email);
      expect(got, p.email).toHaveLength(1);
      const { email: _email, is_default: isDefault, ...sub } = got[0];
      expect(isDefault, p.email).toBe(true);
      expect(sub, p.email).toEqual(expectedSubscription(p));
    }
  });

  it('spells the mapping out for the cases that matter', async () => {
    const statusOf = async (email: string) =>
      (await client.query(`SELECT sub.status FROM subscriptions sub JOIN subscribers s ON s.id = sub.subscriber_id WHERE s.email = $1`, [email])).rows[0].status;
    expect(await statusOf('pending@example.com')).toBe('pending');
    expect(await statusOf('legacy@example.com')).toBe('active');
    expect(await statusOf('left-no-time@example.com')).toBe('unsubscribed');
    // A confirmed address that bounced keeps an active subscription; an unconfirmed one a pending one.
    expect(await statusOf('bounced@example.com')).toBe('active');
    expect(await statusOf('bounced-unconfirmed@example.com')).toBe('pending');
    expect(await statusOf('complained-left@example.com')).toBe('active');
  });

  it('keeps suppressed addresses suppressed on the person', async () => {
    const rows = (await client.query(`SELECT email, status FROM subscribers WHERE status IN ('bounced','complained') ORDER BY email`)).rows;
    expect(rows).toEqual([
      { email: 'bounced-unconfirmed@example.com', status: 'bounced' },
      { email: 'bounced@example.com', status: 'bounced' },
      { email: 'complained-left@example.com', status: 'complained' },
      { email: 'complained@example.com', status: 'complained' },
    ]);
  });

  it('records the default list as the audience of every existing campaign, and no segment', async () => {
    const rows = (await client.query(
      `SELECT c.id, c.segment_id, c.segment_rules, array_agg(l.slug ORDER BY cl.position) AS lists, array_agg(cl.position) AS positions
       FROM campaigns c LEFT JOIN campaign_lists cl ON cl.campaign_id = c.id LEFT JOIN lists l ON l.id = cl.list_id GROUP BY c.id`,
    )).rows;
    expect(rows).toHaveLength(6);
    for (const r of rows) expect(r).toMatchObject({ segment_id: null, segment_rules: null, lists: ['newsletter'], positions: [0] });
  });

  it('gives every subscriber empty attributes and owes no welcome email', async () => {
    const attrs = (await client.query(`SELECT DISTINCT attributes FROM subscribers`)).rows;
    expect(attrs).toEqual([{ attributes: {} }]);
    expect((await client.query('SELECT count(*)::int AS n FROM welcome_emails')).rows[0].n).toBe(0);
    expect((await client.query('SELECT count(*)::int AS n FROM segments')).rows[0].n).toBe(0);
  });
});
