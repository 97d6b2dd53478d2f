import { describe, expect, it } from 'vitest';
import { csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { seedSubscribers } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

describe('the subscriber pages', () => {
  it('search by address or name, filter by status, count per status and page by key', async () => {
    await seedSubscribers(web.db, [
      { email: 'ada@example.com', name: 'Ada Lovelace' },
      { email: 'grace@example.com', name: 'Grace Hopper' },
      { email: 'alan@example.org', name: 'Alan', status: 'pending' },
      { email: 'gone@example.com', status: 'unsubscribed' },
    ]);
    const agent = await loggedInAgent(web.app);
    const all = await agent.get('/admin/subscribers').expect(200);
    expect(all.text).toContain('4 in all');
    expect(all.text).toContain('2 active');
    expect(all.text).toContain('1 pending');
    const byName = await agent.get('/admin/subscribers?q=hopper&status=').expect(200);
    expect(byName.text).toContain('grace@example.com');
    expect(byName.text).not.toContain('ada@example.com');
    const pending = await agent.get('/admin/subscribers?q=&status=pending').expect(200);
    expect(pending.text).toContain('alan@example.org');
    expect(pending.text).not.toContain('grace@example.com');
    const none = await agent.get('/admin/subscribers?q=%25').expect(200);
    expect(none.text).toContain('No subscriber matches');
    await agent.get('/admin/subscribers?status=nonsense').set('Accept', 'text/html').expect(400);

    await web.db.$executeRaw`
      INSERT INTO subscribers (email, status, consent_at, consent_source)
      SELECT 'bulk-' || n || '@example.net', 'active', now(), 'test' FROM generate_series(1, 60) AS n`;
    const first = await agent.get('/admin/subscribers?q=bulk-').expect(200);
    const next = /href="(\/admin\/subscribers\?[^"]*cursor=[^"]+)"/.exec(first.text)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toBeDefined();
    const second = await agent.get(next!).expect(200);
    const emails = (html: string) => [...html.matchAll(/>(bulk-\d+@example\.net)</g)].map((match) => match[1]);
    expect(emails(first.text)).toHaveLength(50);
    expect(emails(second.text)).toHaveLength(10);
    expect(new Set([...emails(first.text), ...emails(second.text)]).size).toBe(60);
  });

  it('show one person: consent record, status history, deliveries and SendGrid events', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com', name: 'Ada' }]);
    const campaign = await web.db.campaign.create({ data: { subject: 'Issue {{name}}', html: '<p>x</p>', status: 'sent', recipientCount: 1 } });
    const delivery = await web.db.delivery.create({ data: { campaignId: campaign.id, subscriberId: ada!.id, status: 'sent', sentAt: new Date() } });
    await web.db.emailEvent.create({ data: { dedupeKey: 'e1', type: 'delivered', occurredAt: new Date(), deliveryId: delivery.id, subscriberId: ada!.id, payload: { event: 'delivered', response: '250 OK' } } });
    const agent = await loggedInAgent(web.app);
    const page = await agent.get(`/admin/subscribers/${ada!.id}`).expect(200);
    expect(page.text).toContain('Consent given (test)');
    expect(page.text).toContain(`href="/admin/campaigns/${campaign.id}"`);
    expect(page.text).toContain('<mark class="placeholder"');
    expect(page.text).toContain('250 OK');
    await agent.get('/admin/subscribers/00000000-0000-0000-0000-000000000000').set('Accept', 'text/html').expect(404);
  });

  it('add a subscriber by hand, with a confirmation email or already active', async () => {
    const agent = await loggedInAgent(web.app);
    const form = await agent.get('/admin/subscribers/new').expect(200);
    const csrf = csrfFrom(form.text);
    const pending = await agent.post('/admin/subscribers').type('form').send({ _csrf: csrf, email: 'New@Example.com', name: 'New', confirm: 'yes' }).expect(303);
    const created = await web.db.subscriber.findUniqueOrThrow({ where: { email: 'new@example.com' } });
    expect(pending.headers.location).toBe(`/admin/subscribers/${created.id}`);
    expect(created).toMatchObject({ status: 'pending', consentSource: 'admin' });
    expect(await web.queues.confirmations.count()).toBe(1);

    await agent.post('/admin/subscribers').type('form').send({ _csrf: csrf, email: 'known@example.com' }).expect(303);
    expect(await web.db.subscriber.findUniqueOrThrow({ where: { email: 'known@example.com' } })).toMatchObject({ status: 'active', consentSource: 'admin' });
    expect(await web.queues.confirmations.count()).toBe(1);

    const again = await agent.post('/admin/subscribers').type('form').send({ _csrf: csrf, email: 'known@example.com' }).expect(409);
    expect(again.text).toContain('already on the list (active)');
    const invalid = await agent.post('/admin/subscribers').type('form').send({ _csrf: csrf, email: 'nope' }).expect(400);
    expect(invalid.text).toContain('valid email address');
    expect(await web.db.subscriber.count()).toBe(2);
  });

  it('import a CSV uploaded through the form and render the report', async () => {
    await seedSubscribers(web.db, [{ email: 'old@example.com', status: 'pending' }]);
    const agent = await loggedInAgent(web.app);
    const form = await agent.get('/admin/subscribers/import').expect(200);
    const csv = 'email,name\nfresh@example.com,Fresh\nold@example.com,Old\nnot-an-address,X\nfresh@example.com,Again\n';
    const res = await agent
      .post('/admin/subscribers/import')
      .field('_csrf', csrfFrom(form.text))
      .field('consent', 'confirmed')
      .attach('file', Buffer.from(csv), { filename: 'people.csv', contentType: 'text/csv' })
      .expect(200);
    expect(res.text).toContain('data-report="imported">1<');
    expect(res.text).toContain('data-report="updated">1<');
    expect(res.text).toContain('data-report="skipped">1<');
    expect(res.text).toContain('data-report="invalid">1<');
    expect(res.text).toMatch(/<td class="num">4<\/td><td>[^<]+<\/td>/);
    expect(await web.db.subscriber.findUniqueOrThrow({ where: { email: 'fresh@example.com' } })).toMatchObject({ status: 'active', name: 'Fresh' });

    const broken = await agent
      .post('/admin/subscribers/import')
      .field('_csrf', csrfFrom(form.text))
      .attach('file', Buffer.from('name\nAda\n'), { filename: 'bad.csv', contentType: 'text/csv' })
      .expect(400);
    expect(broken.text).toContain('class="admin-bar"');
    expect(broken.text).toContain('email');
    const empty = await agent.post('/admin/subscribers/import').field('_csrf', csrfFrom(form.text)).attach('file', Buffer.alloc(0), { filename: '' }).expect(400);
    expect(empty.text).toContain('Choose a CSV file');
    expect(await web.db.subscriber.count()).toBe(2);
  });

  it('import a CSV into the list picked on the form, with its other columns as attributes; a list gone meanwhile refuses the file', async () => {
    const weekly = await web.db.list.create({ data: { name: 'Weekly digest', slug: 'weekly-import' } });
    const agent = await loggedInAgent(web.app);
    const form = await agent.get('/admin/subscribers/import?list=weekly-import').expect(200);
    expect(form.text).toMatch(new RegExp(`<option value="${weekly.id}" selected>Weekly digest</option>`));
    const csv = 'email,name,plan\npicked@example.com,Picked,pro\n';
    await agent
      .post('/admin/subscribers/import')
      .field('_csrf', csrfFrom(form.text))
      .field('list', weekly.id)
      .field('consent', 'confirmed')
      .attach('file', Buffer.from(csv), { filename: 'people.csv', contentType: 'text/csv' })
      .expect(200);
    const picked = await web.db.subscriber.findUniqueOrThrow({ where: { email: 'picked@example.com' }, include: { subscriptions: true } });
    expect(picked.attributes).toEqual({ plan: 'pro' });
    expect(picked.subscriptions.map((sub) => [sub.listId, sub.status, sub.consentSource])).toEqual([[weekly.id, 'active', 'import']]);

    await web.db.list.update({ where: { id: weekly.id }, data: { archivedAt: new Date() } });
    const refused = await agent
      .post('/admin/subscribers/import')
      .field('_csrf', csrfFrom(form.text))
      .field('list', weekly.id)
      .attach('file', Buffer.from('email\nlate@example.com\n'), { filename: 'late.csv', contentType: 'text/csv' })
      .expect(409);
    expect(refused.text).toContain('archived');
    expect(refused.text).not.toContain('Weekly digest</option>');
    expect(await web.db.subscriber.findUnique({ where: { email: 'late@example.com' } })).toBeNull();
  });

  it('export everyone as CSV and one person as JSON', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com', name: 'Ada' }]);
    const agent = await loggedInAgent(web.app);
    const csv = await agent.get('/admin/subscribers/export').expect(200).expect('Content-Type', /text\/csv/);
    expect(csv.text).toContain('ada@example.com');
    const json = await agent.get(`/admin/subscribers/${ada!.id}/export`).expect(200);
    expect(json.body.subscriber.email).toBe('ada@example.com');
  });

  it('erase a person only after a confirmation step that says what is kept', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com' }]);
    const campaign = await web.db.campaign.create({ data: { subject: 'S', html: '<p>x</p>', status: 'sent', recipientCount: 1 } });
    await web.db.delivery.create({ data: { campaignId: campaign.id, subscriberId: ada!.id, status: 'sent', sentAt: new Date() } });
    const agent = await loggedInAgent(web.app);
    const confirm = await agent.get(`/admin/subscribers/${ada!.id}/erase`).expect(200);
    expect(confirm.text).toContain('Kept, anonymous');
    expect(await web.db.subscriber.count()).toBe(1);
    const done = await agent.post(`/admin/subscribers/${ada!.id}/erase`).type('form').send({ _csrf: csrfFrom(confirm.text) }).expect(303);
    expect(done.headers.location).toBe('/admin/subscribers?notice=erased');
    expect(await web.db.subscriber.count()).toBe(0);
    expect(await web.db.delivery.findFirstOrThrow()).toMatchObject({ subscriberId: null, status: 'sent' });
    expect((await agent.get(done.headers.location!)).text).toContain('The subscriber was erased.');
    await agent.post(`/admin/subscribers/${ada!.id}/erase`).type('form').send({ _csrf: csrfFrom(confirm.text) }).set('Accept', 'text/html').expect(404);
  });
});
