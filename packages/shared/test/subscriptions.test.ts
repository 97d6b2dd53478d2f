import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  activatePendingSubscriptions,
  defaultListId,
  findLists,
  queueWelcomeEmails,
  subscribe,
  unsubscribeFromEverything,
  unsubscribeFromLists,
} from '../src/subscriptions.js';
import { finishCampaignIfDone, finishCampaigns } from '../src/campaign-state.js';
import type { Db } from '../src/db.js';
import { createTestDatabase, truncateAll } from '../../../test/support/database.js';
import { seedSubscribers } from '../../../test/support/factories.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database.drop());
beforeEach(() => truncateAll(db));

async function makeList(slug: string, extra: { welcomeSubject?: string; visibility?: 'public' | 'private' } = {}) {
  return db.list.create({
    data: {
      name: slug,
      slug,
      visibility: extra.visibility ?? 'public',
      welcomeSubject: extra.welcomeSubject ?? null,
      welcomeBody: extra.welcomeSubject ? 'Welcome aboard.' : null,
    },
  });
}

async function statusOf(subscriberId: string, listId: string) {
  const row = await db.subscription.findUnique({ where: { subscriberId_listId: { subscriberId, listId } } });
  return row?.status ?? null;
}

describe('subscriptions', () => {
  it('finds lists by id or slug in the order given and leaves out unknown and archived ones', async () => {
    const weekly = await makeList('weekly');
    const gone = await makeList('gone');
    await db.list.update({ where: { id: gone.id }, data: { archivedAt: new Date() } });
    const found = await findLists(db, ['newsletter', weekly.id, 'nope', 'gone']);
    expect(found.map((list) => list.ref)).toEqual(['newsletter', weekly.id]);
    expect(found[0]!.id).toBe(await defaultListId(db));
  });

  it('makes one subscription per person and list however many add it at once', async () => {
    const [reader] = await seedSubscribers(db, [{ email: 'reader@example.com' }]);
    const list = await makeList('weekly');
    const results = await Promise.all(
      Array.from({ length: 8 }, () => subscribe(db, [reader!.id], [list.id], { status: 'active', source: 'admin' })),
    );
    expect(await db.subscription.count({ where: { listId: list.id } })).toBe(1);
    // Each call saw the row as it was before its own statement, so several may report it newly
    // active; the welcome email's unique row is what keeps that to one email.
    expect(results.flat().length).toBeGreaterThanOrEqual(1);
  });

  it('a pending signup does not demote an active subscription, and brings an unsubscribed one back to pending', async () => {
    const [reader] = await seedSubscribers(db, [{ email: 'reader@example.com' }]);
    const [a, b] = [await makeList('a'), await makeList('b')];
    await subscribe(db, [reader!.id], [a.id], { status: 'active', source: 'admin' });
    await subscribe(db, [reader!.id], [b.id], { status: 'active', source: 'admin' });
    await db.$transaction((tx) => unsubscribeFromLists(tx, reader!.id, [b.id]));
    const activated = await subscribe(db, [reader!.id], [a.id, b.id], { status: 'pending', source: 'form' });
    expect(activated).toEqual([]);
    expect(await statusOf(reader!.id, a.id)).toBe('active');
    expect(await statusOf(reader!.id, b.id)).toBe('pending');
    const confirmed = await activatePendingSubscriptions(db, [reader!.id]);
    expect(confirmed).toEqual([{ subscriberId: reader!.id, listId: b.id }]);
    expect(await statusOf(reader!.id, b.id)).toBe('active');
  });

  it('queues one welcome email per subscription, only for lists that have one', async () => {
    const [reader] = await seedSubscribers(db, [{ email: 'reader@example.com' }]);
    const [welcoming, quiet] = [await makeList('welcoming', { welcomeSubject: 'Welcome' }), await makeList('quiet')];
    const pairs = [
      { subscriberId: reader!.id, listId: welcoming.id },
      { subscriberId: reader!.id, listId: quiet.id },
    ];
    expect(await queueWelcomeEmails(db, pairs)).toHaveLength(1);
    expect(await queueWelcomeEmails(db, pairs)).toHaveLength(0);
    expect(await db.welcomeEmail.count()).toBe(1);
  });

  it('leaving a list skips the queued deliveries of campaigns that no longer reach the person, and only those', async () => {
    const [reader] = await seedSubscribers(db, [{ email: 'reader@example.com' }]);
    const [a, b] = [await makeList('a'), await makeList('b')];
    await subscribe(db, [reader!.id], [a.id, b.id], { status: 'active', source: 'admin' });
    const toA = await db.campaign.create({ data: { subject: 'A', html: '<p>a</p>', status: 'sending', lists: { create: [{ listId: a.id }] } } });
    const toBoth = await db.campaign.create({
      data: { subject: 'AB', html: '<p>ab</p>', status: 'sending', lists: { create: [{ listId: a.id }, { listId: b.id, position: 1 }] } },
    });
    const other = await seedSubscribers(db, [{ email: 'other@example.com' }]);
    await db.delivery.createMany({
      data: [
        { campaignId: toA.id, subscriberId: reader!.id },
        { campaignId: toBoth.id, subscriberId: reader!.id },
        { campaignId: toA.id, subscriberId: other[0]!.id },
      ],
    });
    expect((await db.$transaction((tx) => unsubscribeFromLists(tx, reader!.id, [a.id]))).changed).toBe(1);
    const mine = await db.delivery.findMany({ where: { subscriberId: reader!.id }, select: { campaignId: true, status: true } });
    expect(Object.fromEntries(mine.map((d) => [d.campaignId, d.status]))).toEqual({ [toA.id]: 'skipped', [toBoth.id]: 'queued' });
    expect(await statusOf(reader!.id, b.id)).toBe('active');
    // Idempotent: leaving again changes nothing.
    expect((await db.$transaction((tx) => unsubscribeFromLists(tx, reader!.id, [a.id]))).changed).toBe(0);
  });

  it('finishes a campaign whose last send commits while an unsubscribe skips its other delivery', async () => {
    const [reader, other] = await seedSubscribers(db, [{ email: 'reader@example.com' }, { email: 'other@example.com' }]);
    const list = await makeList('a');
    await subscribe(db, [reader!.id, other!.id], [list.id], { status: 'active', source: 'admin' });
    const campaign = await db.campaign.create({ data: { subject: 'A', html: '<p>a</p>', status: 'sending', lists: { create: [{ listId: list.id }] } } });
    await db.delivery.createMany({
      data: [
        { campaignId: campaign.id, subscriberId: reader!.id },
        { campaignId: campaign.id, subscriberId: other!.id, status: 'sending', claimedAt: new Date(), claimToken: 'send/1' },
      ],
    });
    // The worst interleaving: the unsubscribe's transaction skips the reader's delivery, then the
    // other delivery is sent and committed, and its check cannot see the uncommitted skip.
    const { touchedCampaigns } = await db.$transaction(async (tx) => {
      const left = await unsubscribeFromLists(tx, reader!.id, [list.id]);
      await db.delivery.updateMany({ where: { campaignId: campaign.id, subscriberId: other!.id }, data: { status: 'sent', sentAt: new Date() } });
      expect(await finishCampaignIfDone(db, campaign.id)).toBe(false);
      return left;
    });
    expect(touchedCampaigns).toEqual([campaign.id]);
    // Checked after the commit, as every caller does, it sees both.
    await finishCampaigns(db, touchedCampaigns);
    expect((await db.campaign.findUniqueOrThrow({ where: { id: campaign.id } })).status).toBe('sent');
  });

  it('unsubscribing from everything leaves every list and stops the person', async () => {
    const [reader] = await seedSubscribers(db, [{ email: 'reader@example.com' }]);
    const [a, b] = [await makeList('a'), await makeList('b')];
    await subscribe(db, [reader!.id], [a.id, b.id], { status: 'active', source: 'admin' });
    expect(await unsubscribeFromEverything(db, reader!.id)).toBe(true);
    expect(await statusOf(reader!.id, a.id)).toBe('unsubscribed');
    expect(await statusOf(reader!.id, b.id)).toBe('unsubscribed');
    expect((await db.subscriber.findUniqueOrThrow({ where: { id: reader!.id } })).status).toBe('unsubscribed');
    expect(await unsubscribeFromEverything(db, reader!.id)).toBe(false);
  });
});
