import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { subscribe } from '@herald/shared';
import { fanOut } from '../src/handlers/fan-out.js';
import { sendEmail } from '../src/handlers/send-email.js';
import { admin, deliveriesByStatus, postSend, seedSubscribers, waitForCampaignSent } from '../../../test/support/factories.js';
import { useStack, jobContext } from '../../../test/support/stack.js';

const stack = useStack();

async function createList(slug: string, name = slug[0]!.toUpperCase() + slug.slice(1)): Promise<string> {
  const [row] = await stack.web.db.$queryRaw<{ id: string }[]>`INSERT INTO lists (name, slug) VALUES (${name}, ${slug}) RETURNING id`;
  return row!.id;
}

/** Active people, each on the lists given (and on no other, the default list included). */
async function people(seeds: { email: string; lists: string[]; attributes?: Record<string, unknown> }[]) {
  const rows = await seedSubscribers(stack.web.db, seeds.map(({ email }) => ({ email })));
  await stack.web.db.$executeRaw`DELETE FROM subscriptions WHERE subscriber_id = ANY(${rows.map((row) => row.id)}::uuid[])`;
  for (const [index, seed] of seeds.entries()) {
    await subscribe(stack.web.db, [rows[index]!.id], seed.lists, { status: 'active', source: 'admin' });
    if (seed.attributes) await stack.web.db.subscriber.update({ where: { id: rows[index]!.id }, data: { attributes: seed.attributes as object } });
  }
  return rows;
}

const body = { subject: 'Issue for {{name}}', body: '<p>Hello {{name}}</p>' };

describe('sending to lists and a segment', () => {
  it('reaches each person once on two overlapping lists, and records the lists in order', async () => {
    const weekly = await createList('weekly');
    const product = await createList('product', 'Product updates');
    await people([
      { email: 'both@example.com', lists: [weekly, product] },
      { email: 'weekly@example.com', lists: [weekly] },
      { email: 'product@example.com', lists: [product] },
      { email: 'neither@example.com', lists: [] },
    ]);
    const res = await postSend(stack.web.app, { ...body, lists: ['product', weekly] }).expect(202);
    expect(res.body.recipients).toBe(3);
    expect(res.body.tasks).toHaveLength(3);

    const campaign = await admin(stack.web.app).get(`/campaigns/${res.body.campaignId}`).expect(200);
    expect(campaign.body.lists.map((list: { slug: string }) => list.slug)).toEqual(['product', 'weekly']);
    expect(campaign.body.segment).toBeNull();

    await stack.startWorker();
    await waitForCampaignSent(stack.web.db, res.body.campaignId);
    const recipients = stack.sink.inbox.list().map((message) => message.recipients[0]).sort();
    expect(recipients).toEqual(['both@example.com', 'product@example.com', 'weekly@example.com']);
    // The first list names the List-Id.
    const message = stack.sink.inbox.findByRecipient('both@example.com')[0]!;
    const headers = message.request.personalizations[0]?.headers ?? message.request.headers ?? {};
    expect(headers['List-Id']).toBe('"Product updates" <product.herald.test>');
  });

  it('narrows the lists to a saved segment or inline rules, and leaves out suppressed people', async () => {
    const weekly = await createList('weekly');
    const [, , bounced] = await people([
      { email: 'pro@example.com', lists: [weekly], attributes: { plan: 'pro' } },
      { email: 'free@example.com', lists: [weekly], attributes: { plan: 'free' } },
      { email: 'bounced@example.com', lists: [weekly], attributes: { plan: 'pro' } },
    ]);
    await stack.web.db.subscriber.update({ where: { id: bounced!.id }, data: { status: 'bounced' } });
    const [segment] = await stack.web.db.$queryRaw<{ id: string }[]>`
      INSERT INTO segments (name, rules) VALUES ('Pro', ${JSON.stringify({ attribute: 'plan', op: 'eq', value: 'pro' })}::jsonb) RETURNING id`;

    const saved = await postSend(stack.web.app, { ...body, lists: ['weekly'], segment: segment!.id }).expect(202);
    expect(saved.body.recipients).toBe(1);
    const inline = await postSend(stack.web.app, { ...body, lists: ['weekly'], segment: { not: { attribute: 'plan', op: 'eq', value: 'pro' } } }).expect(202);
    expect(inline.body.recipients).toBe(1);

    const emails = async (campaignId: string) =>
      (await stack.web.db.$queryRaw<{ email: string }[]>`
        SELECT s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = ${campaignId}::uuid ORDER BY s.email`).map((row) => row.email);
    expect(await emails(saved.body.campaignId)).toEqual(['pro@example.com']);
    expect(await emails(inline.body.campaignId)).toEqual(['free@example.com']);
    const shown = await admin(stack.web.app).get(`/campaigns/${inline.body.campaignId}`).expect(200);
    expect(shown.body.segment).toEqual({ rules: { not: { attribute: 'plan', op: 'eq', value: 'pro' } } });
    const named = await admin(stack.web.app).get(`/campaigns/${saved.body.campaignId}`).expect(200);
    expect(named.body.segment).toEqual({ id: segment!.id, name: 'Pro' });
  });

  it('refuses unknown and archived lists, unknown segments and bad rules with 422 naming the field, writing nothing', async () => {
    const archived = await createList('old');
    await stack.web.db.$executeRaw`UPDATE lists SET archived_at = now() WHERE id = ${archived}::uuid`;
    const cases: [object, string][] = [
      [{ lists: ['newsletter', 'nope'] }, 'lists.1'],
      [{ lists: ['old'] }, 'lists.0'],
      [{ segment: '00000000-0000-4000-8000-000000000000' }, 'segment'],
      [{ segment: { attribute: 'plan', op: 'like', value: 'x' } }, 'segment.op'],
      [{ segment: { list: 'missing' } }, 'segment.list'],
    ];
    for (const [audience, field] of cases) {
      const res = await postSend(stack.web.app, { ...body, ...audience }).expect(422);
      expect(res.body.error.code).toBe('invalid_request');
      expect(Object.keys(res.body.error.fields)).toEqual([field]);
    }
    await postSend(stack.web.app, { ...body, lists: [] }).expect(400);
    await postSend(stack.web.app, { ...body, segment: 'DROP TABLE lists' }).expect(400);
    expect(await stack.web.db.campaign.count()).toBe(0);
    expect(await stack.web.db.campaignList.count()).toBe(0);
  });

  it('hashes the audience into the idempotency key', async () => {
    await createList('weekly');
    await postSend(stack.web.app, { ...body, lists: ['weekly'] }, { 'Idempotency-Key': 'audience-1' }).expect(202);
    const again = await postSend(stack.web.app, { ...body, lists: ['weekly'] }, { 'Idempotency-Key': 'audience-1' }).expect(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    await postSend(stack.web.app, { ...body, lists: ['newsletter'] }, { 'Idempotency-Key': 'audience-1' }).expect(422);
  });

  it('edits a scheduled campaign\'s lists and segment, which it takes when it starts', async () => {
    const weekly = await createList('weekly');
    await people([
      { email: 'a@example.com', lists: [weekly], attributes: { plan: 'pro' } },
      { email: 'b@example.com', lists: [weekly] },
    ]);
    const sendAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await postSend(stack.web.app, { ...body, sendAt }).expect(202);
    await admin(stack.web.app).patch(`/campaigns/${res.body.campaignId}`).send({ lists: ['nope'] }).expect(422);
    const edited = await admin(stack.web.app).patch(`/campaigns/${res.body.campaignId}`).send({ lists: ['weekly'], segment: { attribute: 'plan', op: 'exists' } }).expect(200);
    expect(edited.body.lists.map((list: { slug: string }) => list.slug)).toEqual(['weekly']);
    // Lists alone keep the segment.
    await admin(stack.web.app).patch(`/campaigns/${res.body.campaignId}`).send({ lists: ['weekly', 'newsletter'] }).expect(200);
    await stack.web.db.campaign.update({ where: { id: res.body.campaignId }, data: { sendAt: new Date(Date.now() - 1000) } });
    const { startScheduledCampaign } = await import('@herald/shared');
    expect(await startScheduledCampaign(stack.web.db, res.body.campaignId)).toBe(1);
  });
});

describe('unsubscribing from a campaign\'s lists', () => {
  it('one-click leaves the campaign\'s lists only, idempotently, and the other list stays active', async () => {
    const a = await createList('alpha');
    const b = await createList('beta');
    const [reader] = await people([{ email: 'reader@example.com', lists: [a, b] }]);
    const res = await postSend(stack.web.app, { ...body, lists: ['alpha'] }).expect(202);
    const url = `/unsubscribe/${reader!.unsubscribeToken}/c/${res.body.campaignId}`;

    const page = await request(stack.web.app).get(url).expect(200);
    expect(page.text).toContain('Alpha');
    expect(page.text).toContain(`action="${url}"`);
    expect(page.text).toContain(`href="/preferences/${reader!.unsubscribeToken}"`);
    expect(page.text).toContain('Unsubscribe from everything');
    // A GET changes nothing.
    expect(await stack.web.db.subscription.findMany({ where: { subscriberId: reader!.id, status: 'active' } })).toHaveLength(2);

    for (let i = 0; i < 2; i++) {
      await request(stack.web.app).post(url).type('form').send('List-Unsubscribe=One-Click').expect(200);
    }
    const subscriptions = await stack.web.db.subscription.findMany({ where: { subscriberId: reader!.id } });
    expect(Object.fromEntries(subscriptions.map((sub) => [sub.listId, sub.status]))).toEqual({ [a]: 'unsubscribed', [b]: 'active' });
    expect((await stack.web.db.subscriber.findUniqueOrThrow({ where: { id: reader!.id } })).status).toBe('active');
    // Its queued delivery is skipped, never sent.
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ skipped: 1 });
    await request(stack.web.app).post(`/unsubscribe/${'0'.repeat(64)}/c/${res.body.campaignId}`).expect(404);
  });

  it('a delivery still queued for a person who left every list of the campaign is never sent, even when they join one again before the send', async () => {
    const a = await createList('alpha');
    const b = await createList('beta');
    const [leaver, stayer] = await people([
      { email: 'leaver@example.com', lists: [a] },
      { email: 'stayer@example.com', lists: [a, b] },
    ]);
    const res = await postSend(stack.web.app, { ...body, lists: ['alpha', 'beta'] }).expect(202);
    const deps = stack.workerDeps();
    await fanOut({ campaignId: res.body.campaignId }, jobContext(deps), deps);
    for (const person of [leaver!, stayer!]) {
      await request(stack.web.app).post(`/unsubscribe/${person.unsubscribeToken}/c/${res.body.campaignId}`).send('List-Unsubscribe=One-Click').expect(200);
    }
    // Both left every list of the campaign; one joins beta again before the send: the skip stands.
    await subscribe(stack.web.db, [stayer!.id], [b], { status: 'active', source: 'preferences' });
    const deliveries = await stack.web.db.delivery.findMany({ where: { campaignId: res.body.campaignId } });
    for (const delivery of deliveries) await sendEmail({ deliveryId: delivery.id }, jobContext(deps), deps);
    expect(stack.sink.inbox.findByRecipient('leaver@example.com')).toHaveLength(0);
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ skipped: 2 });
  });

  it('a one-click racing the send: the person gets at most what was already in flight', async () => {
    const a = await createList('alpha');
    const readers = await people(Array.from({ length: 40 }, (_, n) => ({ email: `r${n}@example.com`, lists: [a] })));
    const res = await postSend(stack.web.app, { ...body, lists: ['alpha'] }).expect(202);
    await stack.startWorker();
    await Promise.all(
      readers.map((reader) => request(stack.web.app).post(`/unsubscribe/${reader.unsubscribeToken}/c/${res.body.campaignId}`).send('List-Unsubscribe=One-Click').expect(200)),
    );
    await waitForCampaignSent(stack.web.db, res.body.campaignId);
    const counts = await deliveriesByStatus(stack.web.db, res.body.campaignId);
    expect((counts.sent ?? 0) + (counts.skipped ?? 0)).toBe(40);
    // Every email that went out was claimed before its person left; nobody got two.
    const inbox = stack.sink.inbox.list().map((message) => message.recipients[0]);
    expect(new Set(inbox).size).toBe(inbox.length);
    expect(inbox.length).toBe(counts.sent ?? 0);
    const skipped = await stack.web.db.$queryRaw<{ email: string }[]>`
      SELECT s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = ${res.body.campaignId}::uuid AND d.status = 'skipped'`;
    for (const row of skipped) expect(inbox).not.toContain(row.email);
  });
});

describe('attributes in emails', () => {
  it('substitutes {{attributes.KEY}} HTML-escaped, never evaluated, an absent key empty', async () => {
    await people([
      { email: 'ann@example.com', lists: [], attributes: { city: '<b>Köln</b> & "Co"', visits: 3, pro: true } },
      { email: 'bob@example.com', lists: [] },
    ]);
    await stack.web.db.$executeRaw`INSERT INTO subscriptions (subscriber_id, list_id, status, confirmed_at) SELECT s.id, l.id, 'active', now() FROM subscribers s, lists l WHERE l.is_default`;
    const res = await postSend(stack.web.app, {
      subject: 'News for {{attributes.city}}',
      body: '<p>City: [{{attributes.city}}] visits: [{{ attributes.visits }}] pro: [{{attributes.pro}}] none: [{{attributes.missing}}] {{attributes.constructor}} <%= 1 + 1 %></p>',
    }).expect(202);
    await stack.startWorker();
    await waitForCampaignSent(stack.web.db, res.body.campaignId);
    const ann = stack.sink.inbox.findByRecipient('ann@example.com')[0]!;
    expect(ann.subject).toBe('News for <b>Köln</b> & "Co"');
    expect(ann.html).toContain('City: [&lt;b&gt;Köln&lt;/b&gt; &amp; &quot;Co&quot;] visits: [3] pro: [true] none: []  <%= 1 + 1 %>');
    expect(ann.text).toContain('City: [<b>Köln</b> & "Co"] visits: [3]');
    const bob = stack.sink.inbox.findByRecipient('bob@example.com')[0]!;
    expect(bob.subject).toBe('News for ');
    expect(bob.html).toContain('City: [] visits: [] pro: [] none: []');
  });
});
