import type { Db, SubscriberStatus } from '@herald/shared';
import request from 'supertest';
import type { Express } from 'express';
import { waitFor } from './stack.js';
import { adminToken } from './web.js';

type SubscriberSeed = { email: string; name?: string | null; status?: SubscriberStatus };

/**
 * Subscribers with sensible defaults: active, named after their address, each with a subscription
 * to the default list (the audience of a campaign that names no list) in the matching state, as
 * the upgrade gives existing subscribers.
 */
export async function seedSubscribers(db: Db, seeds: SubscriberSeed[]) {
  const subscribers = await Promise.all(
    seeds.map((seed) =>
      db.subscriber.create({
        data: {
          email: seed.email,
          name: seed.name === undefined ? seed.email.split('@')[0] : seed.name,
          status: seed.status ?? 'active',
          consentAt: new Date(),
          consentSource: 'test',
          // A pending subscriber got their confirmation email when they signed up.
          confirmationSentAt: (seed.status ?? 'active') === 'pending' ? new Date() : null,
        },
      }),
    ),
  );
  await subscribeToDefaultList(db, subscribers.map((subscriber) => subscriber.id));
  return subscribers;
}

/** Subscriptions to the default list for these subscribers, in the state their own status implies. */
export async function subscribeToDefaultList(db: Db, subscriberIds: string[]): Promise<void> {
  await db.$executeRaw`
    INSERT INTO subscriptions (subscriber_id, list_id, status, consent_at, consent_source, confirmed_at, unsubscribed_at)
    SELECT s.id, l.id,
      (CASE s.status WHEN 'pending' THEN 'pending' WHEN 'unsubscribed' THEN 'unsubscribed' ELSE 'active' END)::subscription_status,
      now(), 'test', CASE WHEN s.status NOT IN ('pending', 'unsubscribed') THEN now() END, CASE WHEN s.status = 'unsubscribed' THEN now() END
    FROM subscribers s CROSS JOIN lists l
    WHERE s.id = ANY(${subscriberIds}::uuid[]) AND l.is_default
    ON CONFLICT DO NOTHING`;
}

/** `count` active subscribers named reader-0 … reader-(count-1), on the default list. */
export async function seedAudience(db: Db, count: number): Promise<void> {
  await db.$executeRaw`
    WITH added AS (
      INSERT INTO subscribers (email, name, status, consent_at, consent_source)
      SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active', now(), 'test'
      FROM generate_series(0, ${count - 1}::int) AS n
      RETURNING id
    )
    INSERT INTO subscriptions (subscriber_id, list_id, status, consent_at, consent_source, confirmed_at)
    SELECT added.id, l.id, 'active', now(), 'test', now() FROM added CROSS JOIN lists l WHERE l.is_default`;
}

export const campaignBody = {
  subject: 'Hello {{name}}',
  body: '<h1>Issue 1</h1><p>Dear {{name}}, this goes to {{email}}.</p><p><a href="{{unsubscribe_url}}">Leave</a></p>',
};

/** POST /send as the admin. */
export function postSend(app: Express, body: object = campaignBody, headers: Record<string, string> = {}) {
  return request(app).post('/send').set('Authorization', `Bearer ${adminToken}`).set(headers).send(body);
}

/** An admin GET, POST or PATCH on the JSON API. */
export function admin(app: Express) {
  return {
    get: (path: string) => request(app).get(path).set('Authorization', `Bearer ${adminToken}`),
    post: (path: string) => request(app).post(path).set('Authorization', `Bearer ${adminToken}`),
    patch: (path: string) => request(app).patch(path).set('Authorization', `Bearer ${adminToken}`),
  };
}

/** How many of a campaign's deliveries are in each status, e.g. `{ sent: 2, failed: 1 }`. */
export async function deliveriesByStatus(db: Db, campaignId: string): Promise<Record<string, number>> {
  const groups = await db.delivery.groupBy({ by: ['status'], where: { campaignId }, _count: { _all: true } });
  return Object.fromEntries(groups.map((group) => [group.status, group._count._all]));
}

/** Waits until the worker has marked the campaign sent. */
export async function waitForCampaignSent(db: Db, campaignId: string, timeoutMs?: number): Promise<void> {
  await waitFor('the campaign sent', async () => (await db.campaign.findUnique({ where: { id: campaignId } }))?.status === 'sent', timeoutMs);
}
