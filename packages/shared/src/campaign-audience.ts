import { Prisma } from './generated/prisma/client.js';
import type { Db, SqlClient } from './db.js';

/**
 * The statement that takes a campaign's audience: one delivery per subscriber active at this
 * moment, inserted set-based (one statement, not a loop). For snapshotAudience, and for callers
 * that want the new ids back in the same statement (`WITH added AS (... RETURNING id)`).
 */
export function audienceSnapshotInsert(campaignId: string): Prisma.Sql {
  // One UUIDv7 per snapshot and a counter in its last 32 bits, in subscriber order: the same
  // timestamp and version as herald_uuid_v7() for every row, 42 random bits that keep concurrent
  // snapshots apart (the primary key refuses the rest), and ids that increase with every row. That
  // costs a fraction of one herald_uuid_v7() per row, and every index ending in the id is written
  // at its right edge. In subscriber order, so the (subscriber_id, campaign_id) index is too.
  // OFFSET 0 keeps the batch a subquery of its own, evaluated once.
  return Prisma.sql`
    INSERT INTO deliveries (id, campaign_id, subscriber_id)
    SELECT (batch.prefix || lpad(to_hex(audience.n), 8, '0'))::uuid, ${campaignId}::uuid, audience.id
    FROM (SELECT left(herald_uuid_v7()::text, 28) AS prefix OFFSET 0) batch,
         (SELECT id, row_number() OVER (ORDER BY id) AS n FROM subscribers WHERE status = 'active') audience
    ORDER BY audience.id`;
}

/**
 * Takes a campaign's audience (audienceSnapshotInsert). Call it inside the transaction that moves
 * the campaign to `sending`, so a campaign is never seen sending without its audience. Subscribers
 * who confirm later are not in it; those who leave before their email goes out are skipped at send
 * time. Returns the audience size.
 */
export async function snapshotAudience(tx: SqlClient, campaignId: string): Promise<number> {
  return tx.$executeRaw(audienceSnapshotInsert(campaignId));
}

/**
 * Starts a scheduled campaign whose time has come: in ONE transaction, `scheduled -> sending` and
 * the audience snapshot. The conditional update is the lock: of any number of reconcilers (or an
 * admin's resume) only one starts it, and an edit racing with the start either lands before it or
 * finds the campaign no longer scheduled. An empty audience finishes the campaign at once.
 * Returns the audience size, or null if the campaign was not (or no longer) due.
 */
export async function startScheduledCampaign(db: Db, campaignId: string): Promise<number | null> {
  return db.$transaction(
    async (tx) => {
      const started = await tx.$executeRaw`
        UPDATE campaigns SET status = 'sending', started_at = now(), updated_at = now()
        WHERE id = ${campaignId}::uuid AND status = 'scheduled' AND send_at <= now()`;
      if (started === 0) return null;
      const recipients = await snapshotAudience(tx, campaignId);
      await tx.$executeRaw`
        UPDATE campaigns SET recipient_count = ${recipients},
          status = CASE WHEN ${recipients}::int = 0 THEN 'sent'::campaign_status ELSE status END,
          finished_at = CASE WHEN ${recipients}::int = 0 THEN now() END
        WHERE id = ${campaignId}::uuid`;
      return recipients;
    },
    { timeout: 120_000, maxWait: 10_000 },
  );
}
