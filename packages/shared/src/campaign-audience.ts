import { Prisma } from './generated/prisma/client.js';
import type { Db, SqlClient } from './db.js';
import { defaultListId } from './subscriptions.js';
import { campaignSegmentPredicate } from './segments/audience-segment.js';
import { segmentPredicate } from './segments/compile-segment.js';

/**
 * Who a campaign goes to: the people with an active subscription to one of `listIds` whose own
 * status is `active` (suppression — bounced, complained, unsubscribed from everything — is on the
 * person), narrowed by a saved segment (`segmentId`) or inline rules (`segmentRules`), at most one.
 */
export type Audience = { listIds: string[]; segmentId: string | null; segmentRules: unknown };

/**
 * The audience as one boolean expression over `subscribers s`: the snapshot and the count before
 * sending (audienceCount) both use it, so the review page's number is the one the send takes.
 * One row per person by construction: the lists are an EXISTS, never a join, so a person on two of
 * them is one subscriber row. Rules stored with a campaign were checked when it was written; a
 * list they name that has been deleted since holds nobody, rather than failing the start.
 */
export async function audiencePredicate(db: SqlClient, audience: Audience): Promise<Prisma.Sql> {
  const segment =
    audience.segmentId === null && audience.segmentRules !== null && audience.segmentRules !== undefined
      ? await segmentPredicate(db, audience.segmentRules, { unknownLists: 'match-nobody' })
      : await campaignSegmentPredicate(db, { segmentId: audience.segmentId, segmentRules: null });
  return Prisma.sql`s.status = 'active'
    AND EXISTS (SELECT 1 FROM subscriptions sub
      WHERE sub.subscriber_id = s.id AND sub.list_id = ANY(${audience.listIds}::uuid[]) AND sub.status = 'active')
    AND ${segment}`;
}

/** How many people the audience holds right now (what a snapshot taken now would insert). */
export async function audienceCount(db: SqlClient, audience: Audience): Promise<number> {
  const predicate = await audiencePredicate(db, audience);
  const [row] = await db.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM subscribers s WHERE ${predicate}`;
  return row?.count ?? 0;
}

/**
 * A campaign's recorded audience: its lists in the order given (campaign_lists) and its segment.
 * A campaign with no lists recorded (written before campaigns had lists, or by a path that names
 * none) goes to the default list, which is recorded then, so that per-list unsubscribes know
 * which lists it reached.
 */
export async function campaignAudience(tx: SqlClient, campaignId: string): Promise<Audience> {
  const [campaign] = await tx.$queryRaw<{ segment_id: string | null; segment_rules: unknown; list_ids: string[] | null }[]>`
    SELECT c.segment_id, c.segment_rules,
      (SELECT array_agg(cl.list_id::text ORDER BY cl.position, cl.list_id) FROM campaign_lists cl WHERE cl.campaign_id = c.id) AS list_ids
    FROM campaigns c WHERE c.id = ${campaignId}::uuid`;
  if (!campaign) throw new Error(`campaign ${campaignId} does not exist`);
  let listIds = campaign.list_ids ?? [];
  if (listIds.length === 0) {
    const fallback = await defaultListId(tx);
    await tx.$executeRaw`
      INSERT INTO campaign_lists (campaign_id, list_id, position) VALUES (${campaignId}::uuid, ${fallback}::uuid, 0)
      ON CONFLICT DO NOTHING`;
    listIds = [fallback];
  }
  return { listIds, segmentId: campaign.segment_id, segmentRules: campaign.segment_rules };
}

/**
 * The statement that takes a campaign's audience: one delivery per person in it at this moment
 * (audiencePredicate), inserted set-based (one statement, not a loop). For snapshotAudience, and
 * for callers that want the new ids back in the same statement (`WITH added AS (... RETURNING id)`).
 */
export async function audienceSnapshotInsert(tx: SqlClient, campaignId: string): Promise<Prisma.Sql> {
  const predicate = await audiencePredicate(tx, await campaignAudience(tx, campaignId));
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
         (SELECT s.id, row_number() OVER (ORDER BY s.id) AS n FROM subscribers s WHERE ${predicate}) audience
    ORDER BY audience.id`;
}

/**
 * Takes a campaign's audience (audienceSnapshotInsert). Call it inside the transaction that moves
 * the campaign to `sending`, so a campaign is never seen sending without its audience. Subscribers
 * who confirm later are not in it; those who leave before their email goes out are skipped at send
 * time. Returns the audience size.
 */
export async function snapshotAudience(tx: SqlClient, campaignId: string): Promise<number> {
  return tx.$executeRaw(await audienceSnapshotInsert(tx, campaignId));
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
