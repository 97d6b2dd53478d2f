import { Prisma } from '@herald/shared';
import type { Db } from '@herald/shared';
import { subscriberViewColumns } from './subscriber-view.js';
import type { SubscriberView } from './subscriber-view.js';

export type SubscriberDataExport = {
  exportedAt: Date;
  subscriber: SubscriberView & { confirmationSentAt: Date | null; suppressedAt: Date | null };
  deliveries: {
    id: string;
    campaignId: string;
    subject: string;
    status: string;
    attempts: number;
    lastError: string | null;
    sentAt: Date | null;
    createdAt: Date;
  }[];
  events: { type: string; occurredAt: Date; payload: unknown }[];
  /** Every list the person is or was on, with that subscription's own consent record. */
  subscriptions: {
    list: { name: string; slug: string };
    status: string;
    consentAt: Date | null;
    consentSource: string | null;
    confirmedAt: Date | null;
    unsubscribedAt: Date | null;
    createdAt: Date;
  }[];
};

/**
 * Everything Herald holds about one person (a GDPR access request): their subscriber row without
 * the token hash and unsubscribe token (its attributes included), every subscription to a list with
 * its consent record, every delivery with its campaign's subject, and every webhook event about
 * them. Read in one snapshot, so the parts agree. Null if unknown.
 */
export async function exportSubscriberData(db: Db, subscriberId: string): Promise<SubscriberDataExport | null> {
  const [subscribers, deliveries, events, subscriptionRows] = await db.$transaction(
    [
      db.$queryRaw<SubscriberDataExport['subscriber'][]>`
        SELECT ${subscriberViewColumns}, confirmation_sent_at AS "confirmationSentAt", suppressed_at AS "suppressedAt"
        FROM subscribers WHERE id = ${subscriberId}::uuid`,
      db.$queryRaw<SubscriberDataExport['deliveries']>`
        SELECT d.id, d.campaign_id AS "campaignId", c.subject, d.status::text AS status, d.attempts,
               d.last_error AS "lastError", d.sent_at AS "sentAt", d.created_at AS "createdAt"
        FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
        WHERE d.subscriber_id = ${subscriberId}::uuid
        ORDER BY d.created_at, d.id`,
      db.$queryRaw<SubscriberDataExport['events']>`
        SELECT type, occurred_at AS "occurredAt", payload FROM email_events
        WHERE subscriber_id = ${subscriberId}::uuid
           OR delivery_id IN (SELECT id FROM deliveries WHERE subscriber_id = ${subscriberId}::uuid)
        ORDER BY occurred_at, id`,
      db.$queryRaw<(Omit<SubscriberDataExport['subscriptions'][number], 'list'> & { listName: string; listSlug: string })[]>`
        SELECT l.name AS "listName", l.slug AS "listSlug", sub.status::text AS status, sub.consent_at AS "consentAt",
               sub.consent_source AS "consentSource", sub.confirmed_at AS "confirmedAt", sub.unsubscribed_at AS "unsubscribedAt",
               sub.created_at AS "createdAt"
        FROM subscriptions sub JOIN lists l ON l.id = sub.list_id
        WHERE sub.subscriber_id = ${subscriberId}::uuid
        ORDER BY l.is_default DESC, l.created_at, l.id`,
    ],
    { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead },
  );
  const subscriber = subscribers[0];
  if (!subscriber) return null;
  const subscriptions = subscriptionRows.map(({ listName, listSlug, ...subscription }) => ({ list: { name: listName, slug: listSlug }, ...subscription }));
  return { exportedAt: new Date(), subscriber, subscriptions, deliveries, events };
}
