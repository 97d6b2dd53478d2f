import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { admin, seedSubscribers } from '../../../test/support/factories.js';
import { adminToken, useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

const put = (path: string) => request(web.app).put(path).set('Authorization', `Bearer ${adminToken}`);
const del = (path: string) => request(web.app).delete(path).set('Authorization', `Bearer ${adminToken}`);

function createList(body: object) {
  return admin(web.app).post('/lists').send(body);
}

describe('lists API', () => {
  it('creates a list with a slug from its name and answers it with its id and counts', async () => {
    const res = await createList({ name: 'Weekly Digest (EN)', visibility: 'public', welcome: { subject: 'Welcome', body: 'Hello {{name}}' } }).expect(201);
    expect(res.body).toMatchObject({
      name: 'Weekly Digest (EN)',
      slug: 'weekly-digest-en',
      visibility: 'public',
      doubleOptIn: true,
      isDefault: false,
      welcome: { subject: 'Welcome', body: 'Hello {{name}}', format: 'markdown' },
      counts: { pending: 0, active: 0, unsubscribed: 0 },
    });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.location).toBe(`/lists/${res.body.id}`);
    // A derived slug that is taken gets a suffix; a chosen one is refused.
    expect((await createList({ name: 'Weekly digest: EN', visibility: 'private' }).expect(201)).body.slug).toBe('weekly-digest-en-2');
    const taken = await createList({ name: 'Other', slug: 'weekly-digest-en', visibility: 'public' }).expect(409);
    expect(taken.body.error.fields).toEqual({ slug: 'is taken' });
  });

  it('refuses bad fields with 422 naming them, and writes nothing', async () => {
    const res = await createList({ name: ' ', slug: 'Not A Slug', visibility: 'secret', welcome: { subject: 'a\nb' }, extra: 1 }).expect(422);
    expect(Object.keys(res.body.error.fields).sort()).toEqual(['extra', 'name', 'slug', 'visibility', 'welcome.body', 'welcome.subject'].sort());
    await createList({ name: 'Nul\u0000', visibility: 'public' }).expect(422);
    await createList({ name: 'Lone \ud800', visibility: 'public' }).expect(422);
    expect(await web.db.list.count()).toBe(1);
  });

  it('gets, edits and lists lists by id or slug', async () => {
    const { body: list } = await createList({ name: 'Product updates', visibility: 'public' }).expect(201);
    expect((await admin(web.app).get('/lists/product-updates').expect(200)).body.id).toBe(list.id);
    const edited = await admin(web.app)
      .patch(`/lists/${list.id}`)
      .send({ name: 'Product news', description: 'Once a month', doubleOptIn: false, welcome: { subject: 'Hi', body: '<p>Hi</p>', format: 'html' } })
      .expect(200);
    expect(edited.body).toMatchObject({ name: 'Product news', slug: 'product-updates', description: 'Once a month', doubleOptIn: false, welcome: { format: 'html' } });
    expect((await admin(web.app).patch('/lists/product-updates').send({ welcome: null, description: null }).expect(200)).body).toMatchObject({ welcome: null, description: null });
    await admin(web.app).patch('/lists/product-updates').send({ slug: 'newsletter' }).expect(409);
    await admin(web.app).patch('/lists/product-updates').send({}).expect(422);
    await admin(web.app).get('/lists/nope').expect(404);
    const all = await admin(web.app).get('/lists').expect(200);
    expect(all.body.lists.map((row: { slug: string }) => row.slug)).toEqual(['newsletter', 'product-updates']);
  });

  it('deletes an unused list, archives one a campaign went to, and keeps the default list', async () => {
    const { body: unused } = await createList({ name: 'Unused', visibility: 'public' }).expect(201);
    await del(`/lists/${unused.id}`).expect(204);
    await admin(web.app).get(`/lists/${unused.id}`).expect(404);

    const { body: used } = await createList({ name: 'Used', visibility: 'public' }).expect(201);
    const campaign = await web.db.campaign.create({ data: { subject: 'S', html: '<p>x</p>' } });
    await web.db.campaignList.create({ data: { campaignId: campaign.id, listId: used.id } });
    const archived = await del('/lists/used').expect(200);
    expect(archived.body.archivedAt).not.toBeNull();
    expect((await admin(web.app).get('/lists').expect(200)).body.lists.map((row: { slug: string }) => row.slug)).toEqual(['newsletter']);
    expect((await admin(web.app).get('/lists?archived=include').expect(200)).body.lists).toHaveLength(2);
    await admin(web.app).patch('/lists/used').send({ name: 'Again' }).expect(409);

    const refused = await del('/lists/newsletter').expect(409);
    expect(refused.body.error.code).toBe('invalid_state');
  });
});

describe('subscriptions API', () => {
  it('adds a person to a list once, queues the welcome email once, and counts them', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com' }]);
    const { body: list } = await createList({ name: 'Weekly', visibility: 'public', welcome: { subject: 'Welcome', body: 'Hi' } }).expect(201);
    // Two admins at once: one subscription, one welcome email.
    const [first, second] = await Promise.all([put(`/subscribers/${ada!.id}/lists/${list.id}`), put(`/subscribers/${ada!.id}/lists/weekly`)]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(first.body).toMatchObject({ listId: list.id, slug: 'weekly', status: 'active', consentSource: 'api' });
    expect(await web.db.subscription.count({ where: { listId: list.id } })).toBe(1);
    expect(await web.db.welcomeEmail.count({ where: { listId: list.id } })).toBe(1);
    expect((await admin(web.app).get('/lists/weekly').expect(200)).body.counts).toEqual({ pending: 0, active: 1, unsubscribed: 0 });

    const left = await del(`/subscribers/${ada!.id}/lists/weekly`).expect(200);
    expect(left.body).toMatchObject({ status: 'unsubscribed' });
    expect(left.body.unsubscribedAt).not.toBeNull();
    // Back again: active with a new consent record, and still one welcome email ever.
    expect((await put(`/subscribers/${ada!.id}/lists/weekly`).expect(200)).body.status).toBe('active');
    expect(await web.db.welcomeEmail.count({ where: { listId: list.id } })).toBe(1);
  });

  it('gives an unconfirmed person a pending subscription and refuses suppressed people', async () => {
    const [pending, bounced] = await seedSubscribers(web.db, [{ email: 'p@example.com', status: 'pending' }, { email: 'b@example.com', status: 'bounced' }]);
    await createList({ name: 'Weekly', visibility: 'public', welcome: { subject: 'Welcome', body: 'Hi' } }).expect(201);
    expect((await put(`/subscribers/${pending!.id}/lists/weekly`).expect(200)).body.status).toBe('pending');
    expect(await web.db.welcomeEmail.count()).toBe(0);
    expect((await put(`/subscribers/${bounced!.id}/lists/weekly`).expect(409)).body.error.code).toBe('invalid_state');
    await put(`/subscribers/${pending!.id}/lists/nope`).expect(404);
    await put('/subscribers/00000000-0000-0000-0000-000000000001/lists/weekly').expect(404);
    await del(`/subscribers/${bounced!.id}/lists/weekly`).expect(404);
  });

  it('skips a queued delivery of a running campaign once the person left its only list', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com' }]);
    const { body: list } = await createList({ name: 'Weekly', visibility: 'public' }).expect(201);
    await put(`/subscribers/${ada!.id}/lists/weekly`).expect(200);
    const campaign = await web.db.campaign.create({ data: { subject: 'S', html: '<p>x</p>', status: 'sending', recipientCount: 1 } });
    await web.db.campaignList.create({ data: { campaignId: campaign.id, listId: list.id } });
    const delivery = await web.db.delivery.create({ data: { campaignId: campaign.id, subscriberId: ada!.id } });
    await del(`/subscribers/${ada!.id}/lists/weekly`).expect(200);
    expect((await web.db.delivery.findUniqueOrThrow({ where: { id: delivery.id } })).status).toBe('skipped');
  });

  it('lists a list’s subscribers by subscription status, a page at a time', async () => {
    const people = await seedSubscribers(web.db, [{ email: 'a@example.com' }, { email: 'b@example.com' }, { email: 'c@example.com' }]);
    await createList({ name: 'Weekly', visibility: 'public' }).expect(201);
    for (const person of people) await put(`/subscribers/${person.id}/lists/weekly`).expect(200);
    await del(`/subscribers/${people[1]!.id}/lists/weekly`).expect(200);
    const active = await admin(web.app).get('/lists/weekly/subscribers?status=active').expect(200);
    expect(active.body.subscribers.map((row: { email: string }) => row.email).sort()).toEqual(['a@example.com', 'c@example.com']);
    expect(active.body.subscribers[0].subscription).toMatchObject({ status: 'active', consentSource: 'api' });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await admin(web.app).get(`/lists/weekly/subscribers?limit=1${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      seen.push(...res.body.subscribers.map((row: { email: string }) => row.email));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
    await admin(web.app).get('/lists/weekly/subscribers?status=bounced').expect(400);
  });

  it('filters GET /subscribers by list and subscription status, and refuses an unknown list', async () => {
    const [a, b] = await seedSubscribers(web.db, [{ email: 'a@example.com' }, { email: 'b@example.com' }, { email: 'c@example.com' }]);
    await createList({ name: 'Weekly', visibility: 'public' }).expect(201);
    await put(`/subscribers/${a!.id}/lists/weekly`).expect(200);
    await put(`/subscribers/${b!.id}/lists/weekly`).expect(200);
    await del(`/subscribers/${b!.id}/lists/weekly`).expect(200);
    const emails = async (query: string) => (await admin(web.app).get(`/subscribers?${query}`).expect(200)).body.subscribers.map((row: { email: string }) => row.email).sort();
    expect(await emails('list=weekly')).toEqual(['a@example.com', 'b@example.com']);
    expect(await emails('list=weekly&subscription=active')).toEqual(['a@example.com']);
    expect((await admin(web.app).get('/subscribers?list=nope').expect(400)).body.error.fields).toEqual({ list: 'no list with that id or slug' });
  });
});

describe('PATCH /subscribers/:id', () => {
  it('sets and removes attributes, merging with what the person has, and renames', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com' }]);
    await admin(web.app).patch(`/subscribers/${ada!.id}`).send({ attributes: { plan: 'pro', seats: 3, trial: false } }).expect(200);
    const res = await admin(web.app).patch(`/subscribers/${ada!.id}`).send({ name: 'Ada L.', attributes: { seats: null, country: 'DE' } }).expect(200);
    expect(res.body).toMatchObject({ name: 'Ada L.', attributes: { plan: 'pro', trial: false, country: 'DE' } });
    expect(res.body.attributes).not.toHaveProperty('seats');
    const full = await admin(web.app).get(`/subscribers/${ada!.id}`).expect(200);
    expect(full.body.subscriptions.map((row: { slug: string }) => row.slug)).toEqual(['newsletter']);
  });

  it('refuses bad keys and values with 422 naming the key, and changes nothing', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com' }]);
    const patch = (body: object) => admin(web.app).patch(`/subscribers/${ada!.id}`).send(body);
    expect((await patch({ attributes: { "plan'; DROP TABLE subscribers; --": 'x' } }).expect(422)).body.error.fields).toHaveProperty(["attributes.plan'; DROP TABLE subscribers; --"]);
    expect((await patch({ attributes: { plan: 'a\u0000b' } }).expect(422)).body.error.fields).toEqual({ 'attributes.plan': 'attribute plan must not contain NUL characters or invalid Unicode' });
    expect((await patch({ attributes: { plan: '\udc00' } }).expect(422)).body.error.fields).toHaveProperty(['attributes.plan']);
    expect((await patch({ attributes: { plan: { nested: true } } }).expect(422)).body.error.fields).toEqual({ 'attributes.plan': 'attribute plan must be a string, number or boolean' });
    expect((await patch({ attributes: { plan: 'x'.repeat(1001) } }).expect(422)).body.error.fields).toHaveProperty(['attributes.plan']);
    await patch({ attributes: ['a'] }).expect(422);
    await patch({ attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 1])) }).expect(422);
    // Each value fits; together with what the person holds they pass 8 KiB.
    await patch({ attributes: Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`k${i}`, 'x'.repeat(1000)])) }).expect(200);
    expect((await patch({ attributes: { k7: 'y'.repeat(1000), k8: 'z'.repeat(1000) } }).expect(422)).body.error.fields).toEqual({ attributes: 'attributes take at most 8 KiB' });
    await patch({ email: 'other@example.com' }).expect(422);
    const stored = await web.db.subscriber.findUniqueOrThrow({ where: { id: ada!.id } });
    expect(Object.keys(stored.attributes as object)).toHaveLength(7);
    await admin(web.app).patch('/subscribers/00000000-0000-0000-0000-000000000001').send({ name: 'x' }).expect(404);
  });
});
