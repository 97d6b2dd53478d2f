import { createHash } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { admin, postSend, seedSubscribers } from '../../../test/support/factories.js';
import { adminToken, useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

function erase(id: string) {
  return request(web.app).delete(`/subscribers/${id}`).set('Authorization', `Bearer ${adminToken}`);
}

describe('DELETE /subscribers/:id', () => {
  it('erases the person while their delivery history keeps counting, anonymously', async () => {
    const [ada, bob] = await seedSubscribers(web.db, [{ email: 'ada@example.com' }, { email: 'bob@example.com' }]);
    // An earlier campaign, sent to both.
    const earlier = (await postSend(web.app, { subject: 'Issue 1', body: '<p>1</p>' }).expect(202)).body.campaignId as string;
    await web.db.delivery.updateMany({ where: { campaignId: earlier }, data: { status: 'sent', sentAt: new Date(), attempts: 1 } });
    const adaEarlier = await web.db.delivery.findFirstOrThrow({ where: { campaignId: earlier, subscriberId: ada!.id } });
    await web.db.emailEvent.create({
      data: {
        dedupeKey: 'evt-ada-open',
        type: 'open',
        occurredAt: new Date('2026-03-01T10:00:00.000Z'),
        deliveryId: adaEarlier.id,
        subscriberId: ada!.id,
        payload: { event: 'open', email: 'ada@example.com', ip: '203.0.113.9', useragent: 'Mail/1.0', timestamp: 1772359200 },
      },
    });
    // An event tied to the delivery only (no subscriber resolved when it was stored) is hers too.
    await web.db.emailEvent.create({
      data: {
        dedupeKey: 'evt-ada-click',
        type: 'click',
        occurredAt: new Date('2026-03-01T10:05:00.000Z'),
        deliveryId: adaEarlier.id,
        payload: { event: 'click', email: 'ada@example.com', url: 'https://example.com/?u=ada' },
      },
    });
    await web.db.emailEvent.create({
      data: {
        dedupeKey: 'evt-bob-open',
        type: 'open',
        occurredAt: new Date('2026-03-01T11:00:00.000Z'),
        subscriberId: bob!.id,
        payload: { event: 'open', email: 'bob@example.com' },
      },
    });
    // A campaign still sending, with both deliveries queued.
    const current = (await postSend(web.app, { subject: 'Issue 2', body: '<p>2</p>' }).expect(202)).body.campaignId as string;

    await erase(ada!.id).expect(204);

    expect(await web.db.subscriber.findUnique({ where: { id: ada!.id } })).toBeNull();
    expect(await web.db.subscriber.count()).toBe(1);

    const history = await web.db.delivery.findUniqueOrThrow({ where: { id: adaEarlier.id } });
    expect(history).toMatchObject({ subscriberId: null, status: 'sent' });
    const earlierView = await admin(web.app).get(`/campaigns/${earlier}`).expect(200);
    expect(earlierView.body.counts.sent).toBe(2);
    expect(earlierView.body.total).toBe(2);
    expect((await admin(web.app).get(`/tasks/${adaEarlier.id}`).expect(200)).body.email).toBeNull();

    const currentDeliveries = await web.db.delivery.findMany({ where: { campaignId: current } });
    expect(currentDeliveries.filter((row) => row.subscriberId === null)).toEqual([
      expect.objectContaining({ status: 'skipped', lastError: 'subscriber erased' }),
    ]);
    expect(currentDeliveries.filter((row) => row.subscriberId === bob!.id)).toEqual([expect.objectContaining({ status: 'queued' })]);
    expect((await web.db.campaign.findUniqueOrThrow({ where: { id: current } })).status).toBe('sending');

    const events = await web.db.emailEvent.findMany({ orderBy: { occurredAt: 'asc' } });
    expect(events.map((event) => [event.dedupeKey, event.subscriberId, event.payload])).toEqual([
      ['evt-ada-open', null, { event: 'open', timestamp: 1772359200 }],
      // The link's digest stays for the reports (their rebuild from events); the link itself goes.
      ['evt-ada-click', null, { event: 'click', timestamp: 1772359500, url_hash: createHash('md5').update('https://example.com/?u=ada').digest('hex') }],
      ['evt-bob-open', bob!.id, { event: 'open', email: 'bob@example.com' }],
    ]);
    expect(JSON.stringify(events)).not.toContain('ada@example.com');
    expect(JSON.stringify(events)).not.toContain('u=ada');
  });

  it('deletes the malformed webhook events kept raw that carry the address, and no one else\'s', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com' }]);
    await web.db.malformedEmailEvent.createMany({
      data: [
        { raw: '{"event":"bounce","email":"ada@example.com"}', problems: { timestamp: 'Required' }, email: 'ada@example.com' },
        { raw: '{"event":"bounce","email":"bob@example.com"}', problems: { timestamp: 'Required' }, email: 'bob@example.com' },
      ],
    });
    await erase(ada!.id).expect(204);
    expect((await web.db.malformedEmailEvent.findMany()).map((row) => row.email)).toEqual(['bob@example.com']);
  });

  it('finishes a campaign whose only queued delivery was the erased person\'s', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com' }]);
    const campaignId = (await postSend(web.app).expect(202)).body.campaignId as string;
    await erase(ada!.id).expect(204);
    const campaign = await web.db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
    expect(campaign.status).toBe('sent');
    expect(campaign.finishedAt).toBeInstanceOf(Date);
    expect((await admin(web.app).get(`/campaigns/${campaignId}`).expect(200)).body.counts).toMatchObject({ skipped: 1, queued: 0 });
  });

  it('answers 404 for an unknown, malformed or already erased id', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com' }]);
    await erase('00000000-0000-4000-8000-000000000000').expect(404);
    await erase('not-a-uuid').expect(404);
    await erase(ada!.id).expect(204);
    await erase(ada!.id).expect(404);
    await admin(web.app).get(`/subscribers/${ada!.id}/export`).expect(404);
  });

  it('needs the admin token', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com' }]);
    await request(web.app).delete(`/subscribers/${ada!.id}`).expect(401);
    expect(await web.db.subscriber.count()).toBe(1);
  });
});
