import { finishCampaigns, queueWelcomeEmails, subscribe, unsubscribeFromLists } from '@herald/shared';
import type { ConsentSource, Db, SqlClient } from '@herald/shared';
import { findList } from './list-queries.js';
import type { ListView } from './list-queries.js';

/** One subscription as the API and the admin show it, with its list. */
export type SubscriptionView = {
  listId: string;
  slug: string;
  name: string;
  visibility: 'public' | 'private';
  archived: boolean;
  status: 'pending' | 'active' | 'unsubscribed';
  consentAt: Date | null;
  consentSource: string | null;
  confirmedAt: Date | null;
  unsubscribedAt: Date | null;
  createdAt: Date;
};

/** A person's subscriptions, the default list first, then by list creation. */
export function subscriptionsOf(db: SqlClient, subscriberId: string): Promise<SubscriptionView[]> {
  return db.$queryRaw<SubscriptionView[]>`
    SELECT l.id AS "listId", l.slug, l.name, l.visibility::text AS visibility, l.archived_at IS NOT NULL AS archived,
           sub.status::text AS status, sub.consent_at AS "consentAt", sub.consent_source AS "consentSource",
           sub.confirmed_at AS "confirmedAt", sub.unsubscribed_at AS "unsubscribedAt", sub.created_at AS "createdAt"
    FROM subscriptions sub JOIN lists l ON l.id = sub.list_id
    WHERE sub.subscriber_id = ${subscriberId}::uuid
    ORDER BY l.is_default DESC, l.created_at, l.id`;
}

export type MembershipResult =
  | { outcome: 'no_subscriber' }
  | { outcome: 'no_list' }
  | { outcome: 'archived'; list: ListView }
  | { outcome: 'suppressed'; status: string }
  | { outcome: 'done'; subscription: SubscriptionView; welcomeEmailIds: string[] };

/**
 * Adds a person to a list, or makes an unsubscribed or pending subscription active again, with a
 * new consent record from `source`. A person whose address is not confirmed yet gets a pending
 * subscription, which their confirmation activates with the rest. A person who left everything,
 * bounced or complained is refused: suppression is global and only lifted deliberately, never as a
 * side effect of a list change. The welcome email, when the list has one and the subscription
 * became active, is written in the same transaction; the caller enqueues the returned ids after
 * the commit. Two of these at once make one subscription (its primary key).
 */
export async function addToList(db: Db, subscriberId: string, listRef: string, source: ConsentSource): Promise<MembershipResult> {
  return db.$transaction(async (tx) => {
    const [person] = await tx.$queryRaw<{ status: string }[]>`
      SELECT status::text AS status FROM subscribers WHERE id = ${subscriberId}::uuid FOR SHARE`;
    if (!person) return { outcome: 'no_subscriber' };
    const list = await findList(tx, listRef);
    if (!list) return { outcome: 'no_list' };
    if (list.archivedAt) return { outcome: 'archived', list };
    if (person.status !== 'active' && person.status !== 'pending') return { outcome: 'suppressed', status: person.status };
    const activated = await subscribe(tx, [subscriberId], [list.id], { status: person.status === 'active' ? 'active' : 'pending', source });
    const welcomeEmailIds = await queueWelcomeEmails(tx, activated);
    const subscription = (await subscriptionsOf(tx, subscriberId)).find((row) => row.listId === list.id)!;
    return { outcome: 'done', subscription, welcomeEmailIds };
  });
}

export type RemovalResult = { outcome: 'no_subscriber' } | { outcome: 'no_list' } | { outcome: 'done'; subscription: SubscriptionView | null };

/**
 * Unsubscribes a person from one list (idempotent; the subscription and its consent record stay,
 * marked unsubscribed). Their deliveries still queued in running campaigns that no longer reach
 * them are skipped in the same transaction, and campaigns that left with nothing to send are
 * finished after it commits. Archived lists can be left too.
 */
export async function removeFromList(db: Db, subscriberId: string, listRef: string): Promise<RemovalResult> {
  const removed = await db.$transaction(async (tx): Promise<RemovalResult & { touchedCampaigns?: string[] }> => {
    const [person] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM subscribers WHERE id = ${subscriberId}::uuid`;
    if (!person) return { outcome: 'no_subscriber' };
    const list = await findList(tx, listRef);
    if (!list) return { outcome: 'no_list' };
    const { touchedCampaigns } = await unsubscribeFromLists(tx, subscriberId, [list.id]);
    const subscription = (await subscriptionsOf(tx, subscriberId)).find((row) => row.listId === list.id) ?? null;
    return { outcome: 'done', subscription, touchedCampaigns };
  });
  const { touchedCampaigns = [], ...outcome } = removed;
  await finishCampaigns(db, touchedCampaigns);
  return outcome;
}
