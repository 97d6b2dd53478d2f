import type { Db, SqlClient } from './db.js';
import { finishCampaigns } from './campaign-state.js';
import { suppressSubscribers } from './subscriber-state.js';

/**
 * Membership of lists. A subscriber's own status says what holds for the person (address
 * confirmed, unsubscribed from everything, bounced, complained: suppression is global); a
 * subscription says what holds for one list. A campaign reaches a person whose own status is
 * `active` and who has an `active` subscription to one of its lists.
 */

export type SubscriptionStatus = 'pending' | 'active' | 'unsubscribed';

/** How consent to a list was given; kept with the subscription as its consent record. */
export type ConsentSource = 'form' | 'api' | 'import' | 'preferences' | 'admin';

export type ListRef = { id: string; slug: string };

/** The default list: the audience of a campaign that names no list, and of a signup that names none. */
export async function defaultListId(db: SqlClient): Promise<string> {
  const [row] = await db.$queryRaw<{ id: string }[]>`SELECT id FROM lists WHERE is_default LIMIT 1`;
  if (!row) throw new Error('no default list: the audiences migration creates one');
  return row.id;
}

/**
 * Finds lists by id or slug, in the order given, leaving out unknown and archived ones. Callers
 * compare lengths to refuse an unknown reference with a 422 that names it.
 */
export async function findLists(db: SqlClient, refs: string[]): Promise<(ListRef & { ref: string; visibility: 'public' | 'private' })[]> {
  if (refs.length === 0) return [];
  const rows = await db.$queryRaw<{ id: string; slug: string; visibility: 'public' | 'private' }[]>`
    SELECT id, slug, visibility::text AS visibility FROM lists
    WHERE archived_at IS NULL AND (slug = ANY(${refs}::text[]) OR id::text = ANY(${refs}::text[]))`;
  return refs.flatMap((ref) => {
    const row = rows.find((list) => list.id === ref || list.slug === ref);
    return row ? [{ ...row, ref }] : [];
  });
}

/**
 * Adds subscribers to lists (every pair of `subscriberIds` × `listIds`), set-based and in key
 * order so concurrent calls cannot deadlock. The primary key makes a second row for the same
 * pair impossible, whatever the race. What an existing subscription becomes:
 * - `status: 'active'` activates pending and unsubscribed ones (a person's own, deliberate act:
 *   the preference centre, an admin, the API, an import that says so);
 * - `status: 'pending'` leaves active ones active and turns unsubscribed ones pending again (a
 *   signup asking to come back; the confirmation activates them).
 * The consent record is renewed whenever the status changes. Returns the pairs that became active
 * in this call (for welcome emails).
 */
export async function subscribe(
  db: SqlClient,
  subscriberIds: string[],
  listIds: string[],
  options: { status: 'pending' | 'active'; source: ConsentSource },
): Promise<{ subscriberId: string; listId: string }[]> {
  if (subscriberIds.length === 0 || listIds.length === 0) return [];
  const becameActive = await db.$queryRaw<{ subscriber_id: string; list_id: string }[]>`
    WITH wanted AS (
      SELECT s.id AS subscriber_id, l.id AS list_id
      FROM unnest(${subscriberIds}::uuid[]) AS s(id), unnest(${listIds}::uuid[]) AS l(id)
      ORDER BY 1, 2
    ), before AS (
      SELECT w.subscriber_id, w.list_id, sub.status FROM wanted w
      LEFT JOIN subscriptions sub ON sub.subscriber_id = w.subscriber_id AND sub.list_id = w.list_id
    ), written AS (
      INSERT INTO subscriptions AS sub (subscriber_id, list_id, status, consent_at, consent_source, confirmed_at)
      SELECT subscriber_id, list_id, ${options.status}::subscription_status, now(), ${options.source},
             CASE WHEN ${options.status} = 'active' THEN now() END
      FROM wanted
      ON CONFLICT (subscriber_id, list_id) DO UPDATE SET
        status = CASE
          WHEN EXCLUDED.status = 'active' THEN 'active'::subscription_status
          WHEN sub.status = 'unsubscribed' THEN 'pending'::subscription_status
          ELSE sub.status END,
        consent_at = CASE WHEN sub.status <> 'active' THEN now() ELSE sub.consent_at END,
        consent_source = CASE WHEN sub.status <> 'active' THEN EXCLUDED.consent_source ELSE sub.consent_source END,
        confirmed_at = CASE WHEN sub.status <> 'active' AND EXCLUDED.status = 'active' THEN now() ELSE sub.confirmed_at END,
        unsubscribed_at = CASE WHEN sub.status = 'unsubscribed' THEN NULL ELSE sub.unsubscribed_at END,
        updated_at = CASE WHEN sub.status <> 'active' THEN now() ELSE sub.updated_at END
      RETURNING sub.subscriber_id, sub.list_id, sub.status
    )
    SELECT written.subscriber_id, written.list_id FROM written
    JOIN before USING (subscriber_id, list_id)
    WHERE written.status = 'active' AND before.status IS DISTINCT FROM 'active'`;
  return becameActive.map((row) => ({ subscriberId: row.subscriber_id, listId: row.list_id }));
}

/**
 * A confirmed address: every pending subscription of these subscribers becomes active (double
 * opt-in confirms everything the person asked for in one click). Returns the pairs that became
 * active.
 */
export async function activatePendingSubscriptions(db: SqlClient, subscriberIds: string[]): Promise<{ subscriberId: string; listId: string }[]> {
  if (subscriberIds.length === 0) return [];
  const rows = await db.$queryRaw<{ subscriber_id: string; list_id: string }[]>`
    UPDATE subscriptions SET status = 'active', confirmed_at = now(), updated_at = now()
    WHERE subscriber_id = ANY(${subscriberIds}::uuid[]) AND status = 'pending'
    RETURNING subscriber_id, list_id`;
  return rows.map((row) => ({ subscriberId: row.subscriber_id, listId: row.list_id }));
}

/**
 * Unsubscribes one person from some lists and skips, in the same transaction, every delivery of
 * theirs still queued in a running campaign that no longer reaches them (none of its lists has
 * them active any more), so sends already queued skip them. A delivery already claimed is in
 * flight and goes out: the row lock orders the claim and this update. Idempotent. Run it in a
 * transaction. Returns how many subscriptions changed, and the campaigns whose deliveries were
 * skipped: pass those to finishCampaigns once the transaction has committed.
 */
export async function unsubscribeFromLists(
  tx: SqlClient,
  subscriberId: string,
  listIds: string[],
): Promise<{ changed: number; touchedCampaigns: string[] }> {
  if (listIds.length === 0) return { changed: 0, touchedCampaigns: [] };
  const changed = await tx.$executeRaw`
    UPDATE subscriptions SET status = 'unsubscribed', unsubscribed_at = now(), updated_at = now()
    WHERE subscriber_id = ${subscriberId}::uuid AND list_id = ANY(${listIds}::uuid[]) AND status <> 'unsubscribed'`;
  return { changed, touchedCampaigns: await skipUnreachedDeliveries(tx, subscriberId) };
}

/**
 * "Unsubscribe from everything": every subscription is unsubscribed and the person's own status
 * too (which also skips all their queued deliveries). Returns whether anything changed.
 */
export async function unsubscribeFromEverything(db: Db, subscriberId: string): Promise<boolean> {
  const { changed, touchedCampaigns } = await db.$transaction(async (tx) => {
    // The person's row first, then their subscriptions: the order a signup and a confirmation
    // take them in, so this never deadlocks with either.
    await tx.$queryRaw`SELECT 1 FROM subscribers WHERE id = ${subscriberId}::uuid FOR UPDATE`;
    const lists = await tx.$executeRaw`
      UPDATE subscriptions SET status = 'unsubscribed', unsubscribed_at = now(), updated_at = now()
      WHERE subscriber_id = ${subscriberId}::uuid AND status <> 'unsubscribed'`;
    const person = await suppressSubscribers(tx, [subscriberId], 'unsubscribed');
    return { changed: lists + person.changed > 0, touchedCampaigns: person.touchedCampaigns };
  });
  await finishCampaigns(db, touchedCampaigns);
  return changed;
}

/**
 * Skips a person's queued deliveries in campaigns none of whose lists has them active; returns
 * those campaigns.
 */
async function skipUnreachedDeliveries(tx: SqlClient, subscriberId: string): Promise<string[]> {
  const touched = await tx.$queryRaw<{ campaign_id: string }[]>`
    UPDATE deliveries d SET status = 'skipped', last_error = 'unsubscribed from the campaign''s lists', updated_at = now()
    WHERE d.subscriber_id = ${subscriberId}::uuid AND d.status = 'queued'
      AND NOT EXISTS (
        SELECT 1 FROM campaign_lists cl
        JOIN subscriptions sub ON sub.list_id = cl.list_id AND sub.subscriber_id = d.subscriber_id AND sub.status = 'active'
        WHERE cl.campaign_id = d.campaign_id)
    RETURNING d.campaign_id`;
  return [...new Set(touched.map((row) => row.campaign_id))];
}

/**
 * Records that these subscriptions became active and have a welcome email owed: one row per
 * (subscriber, list) whose list has a welcome email, never a second (the unique key; a double
 * confirmation or a crash between the two cannot send two). Call it in the transaction that
 * activated them. Returns the new rows' ids, for the caller to enqueue after commit; the worker's
 * reconciler sends any that Redis missed.
 */
export async function queueWelcomeEmails(db: SqlClient, activated: { subscriberId: string; listId: string }[]): Promise<string[]> {
  if (activated.length === 0) return [];
  const rows = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO welcome_emails (subscriber_id, list_id)
    SELECT a.subscriber_id, a.list_id
    FROM unnest(${activated.map((pair) => pair.subscriberId)}::uuid[], ${activated.map((pair) => pair.listId)}::uuid[]) AS a(subscriber_id, list_id)
    JOIN lists l ON l.id = a.list_id AND l.welcome_subject IS NOT NULL AND l.archived_at IS NULL
    ORDER BY 1, 2
    ON CONFLICT (subscriber_id, list_id) DO NOTHING
    RETURNING id`;
  return rows.map((row) => row.id);
}
