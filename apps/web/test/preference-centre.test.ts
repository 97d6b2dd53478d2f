import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { seedSubscribers } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';
import { defaultList, issueConfirmLink, seedList, subscriptionsByEmail, welcomeRowsOf } from './list-fixtures.js';

const web = useWebHarness({ NEWSLETTER_NAME: 'The Weekly Lantern' });

/** A person on the default list with the given statuses; returns them with their page's path. */
async function person(email: string, status: 'active' | 'pending' | 'unsubscribed' | 'bounced' = 'active', listStatus: 'active' | 'pending' | 'unsubscribed' = 'active') {
  const [row] = await seedSubscribers(web.db, [{ email, name: 'Ann', status }]);
  await web.db.$executeRaw`
    INSERT INTO subscriptions (subscriber_id, list_id, status, consent_at, consent_source, confirmed_at, unsubscribed_at)
    VALUES (${row!.id}::uuid, ${await defaultList(web.db)}::uuid, ${listStatus}::subscription_status, now(), 'form',
            CASE WHEN ${listStatus} = 'active' THEN now() END, CASE WHEN ${listStatus} = 'unsubscribed' THEN now() END)
    ON CONFLICT (subscriber_id, list_id) DO UPDATE SET status = EXCLUDED.status, confirmed_at = EXCLUDED.confirmed_at,
      unsubscribed_at = EXCLUDED.unsubscribed_at`;
  return { ...row!, page: `/preferences/${row!.unsubscribeToken}` };
}

async function snapshot() {
  const [subscribers, subscriptions, welcomes] = await Promise.all([
    web.db.$queryRaw`SELECT id, status::text, name, updated_at FROM subscribers ORDER BY id`,
    web.db.$queryRaw`SELECT subscriber_id, list_id, status::text, updated_at FROM subscriptions ORDER BY 1, 2`,
    web.db.$queryRaw`SELECT id FROM welcome_emails ORDER BY id`,
  ]);
  return { subscribers, subscriptions, welcomes };
}

describe('the preference centre', () => {
  it('shows public lists with their state and a private list only to its members, and a GET changes nothing', async () => {
    const weekly = await seedList(web.db, { slug: 'weekly', name: 'Weekly digest' });
    await seedList(web.db, { slug: 'vip', name: 'VIP circle', visibility: 'private' });
    await seedList(web.db, { slug: 'staff', name: 'Staff notes', visibility: 'private' });
    const ann = await person('ann@example.com');
    await web.db.$executeRaw`
      INSERT INTO subscriptions (subscriber_id, list_id, status, consent_at, consent_source, confirmed_at)
      SELECT ${ann.id}::uuid, id, 'active', now(), 'admin', now() FROM lists WHERE slug = 'vip'`;
    const before = await snapshot();

    const page = await request(web.app).get(ann.page).expect(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('<strong>ann@example.com</strong>');
    expect(page.text).toContain('Weekly digest');
    expect(page.text).toContain('VIP circle');
    expect(page.text).not.toContain('Staff notes');
    expect(page.text).toContain(`value="${weekly}">`);
    expect(page.text).toContain('value="Ann"');
    expect(page.text).toContain(`href="${ann.page}/data.json"`);
    expect(page.text).toContain('Unsubscribe from everything');
    await request(web.app).get(`${ann.page}/data.json`).expect(200).expect('content-disposition', /attachment/);
    expect(await snapshot()).toEqual(before);
  });

  it('joins a list at once with its welcome email, leaves another, and renames, in one POST', async () => {
    const weekly = await seedList(web.db, { slug: 'weekly', welcome: true });
    const newsletter = await defaultList(web.db);
    const ann = await person('ann@example.com');
    await request(web.app)
      .post(ann.page)
      .type('form')
      .send(`name=Ann+B&shown=${newsletter}&shown=${weekly}&lists=${weekly}`)
      .expect(200)
      .expect(/Your choices are saved/);
    expect(await subscriptionsByEmail(web.db, 'ann@example.com')).toEqual({ newsletter: 'unsubscribed', weekly: 'active' });
    expect(await welcomeRowsOf(web.db, 'ann@example.com')).toEqual(['weekly']);
    const [sub] = await web.db.$queryRaw<{ consent_source: string }[]>`
      SELECT consent_source FROM subscriptions WHERE list_id = ${weekly}::uuid`;
    expect(sub?.consent_source).toBe('preferences');
    expect(await web.db.subscriber.findUniqueOrThrow({ where: { id: ann.id } })).toMatchObject({ name: 'Ann B', status: 'active' });
    const jobs = await web.queues.confirmations.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((job) => job.name)).toContain('send-welcome');

    // The same choices again: nothing changes, no second welcome row.
    await request(web.app).post(ann.page).type('form').send(`name=Ann+B&shown=${newsletter}&shown=${weekly}&lists=${weekly}`).expect(200);
    expect(await welcomeRowsOf(web.db, 'ann@example.com')).toEqual(['weekly']);

    // A post without the name field keeps the name; an empty name field clears it.
    await request(web.app).post(ann.page).type('form').send(`shown=${newsletter}&shown=${weekly}&lists=${weekly}`).expect(200);
    expect(await web.db.subscriber.findUniqueOrThrow({ where: { id: ann.id } })).toMatchObject({ name: 'Ann B' });
    await request(web.app).post(ann.page).type('form').send(`name=&shown=${newsletter}&shown=${weekly}&lists=${weekly}`).expect(200);
    expect(await web.db.subscriber.findUniqueOrThrow({ where: { id: ann.id } })).toMatchObject({ name: null });
  });

  it('never joins a private list, and leaves alone the lists the page did not show', async () => {
    const vip = await seedList(web.db, { slug: 'vip', visibility: 'private' });
    const newsletter = await defaultList(web.db);
    const ann = await person('ann@example.com');
    await request(web.app).post(ann.page).type('form').send(`shown=${vip}&lists=${vip}&lists=${newsletter}`).expect(200);
    expect(await subscriptionsByEmail(web.db, 'ann@example.com')).toEqual({ newsletter: 'active' });
  });

  it('unsubscribes from everything, and joining a list afterwards makes the person active again', async () => {
    const weekly = await seedList(web.db, { slug: 'weekly' });
    const newsletter = await defaultList(web.db);
    const ann = await person('ann@example.com');
    await request(web.app).post(`${ann.page}/unsubscribe`).expect(200).expect(/unsubscribed from everything/);
    expect(await web.db.subscriber.findUniqueOrThrow({ where: { id: ann.id } })).toMatchObject({ status: 'unsubscribed' });
    expect(await subscriptionsByEmail(web.db, 'ann@example.com')).toEqual({ newsletter: 'unsubscribed' });

    await request(web.app).post(ann.page).type('form').send(`shown=${newsletter}&shown=${weekly}&lists=${weekly}`).expect(200);
    expect(await web.db.subscriber.findUniqueOrThrow({ where: { id: ann.id } })).toMatchObject({ status: 'active', consentSource: 'preferences' });
    expect(await subscriptionsByEmail(web.db, 'ann@example.com')).toEqual({ newsletter: 'unsubscribed', weekly: 'active' });
  });

  it('shows a bounced person their page but refuses a join, saying why, and changes nothing', async () => {
    const weekly = await seedList(web.db, { slug: 'weekly' });
    const bounced = await person('gone@example.com', 'bounced');
    const page = await request(web.app).get(bounced.page).expect(200);
    expect(page.text).toContain('could not be delivered');
    expect(page.text).toMatch(new RegExp(`value="${weekly}" disabled>`));
    const before = await snapshot();
    const refused = await request(web.app).post(bounced.page).type('form').send(`name=New&shown=${weekly}&lists=${weekly}`).expect(409);
    expect(refused.text).toContain('cannot join lists again');
    expect(await snapshot()).toEqual(before);
  });

  it('answers bad fields with 422 and unknown tokens with 404, changing nothing', async () => {
    const ann = await person('ann@example.com');
    const before = await snapshot();
    await request(web.app).post(ann.page).type('form').send('shown=not-a-uuid').expect(422);
    await request(web.app).post(ann.page).type('form').send({ name: 'Bad\u0007Name' }).expect(422);
    await request(web.app).post(ann.page).type('form').send({ name: 'x'.repeat(200) }).expect(422);
    await request(web.app).get(`/preferences/${'0'.repeat(64)}`).expect(404);
    await request(web.app).get('/preferences/nope').expect(404);
    await request(web.app).post(`/preferences/${'0'.repeat(64)}`).type('form').send('name=x').expect(404);
    await request(web.app).post(`/preferences/${'0'.repeat(64)}/unsubscribe`).expect(404);
    await request(web.app).get(`/preferences/${'0'.repeat(64)}/data.json`).expect(404);
    expect(await snapshot()).toEqual(before);
  });

  it('ends consistent when a save races the confirmation, run many times', async () => {
    const weekly = await seedList(web.db, { slug: 'weekly', welcome: true });
    const product = await seedList(web.db, { slug: 'product', welcome: true });
    const newsletter = await defaultList(web.db);
    for (let round = 0; round < 25; round += 1) {
      const email = `race-${round}@example.com`;
      await request(web.app).post('/register').send({ email, lists: ['weekly', 'product'] }).expect(202);
      const link = await issueConfirmLink(web.db, email);
      const { unsubscribeToken } = await web.db.subscriber.findUniqueOrThrow({ where: { email } });
      // The person keeps `weekly`, drops `product`, and confirms, at the same moment.
      const [confirm, save] = await Promise.all([
        request(web.app).post(link),
        request(web.app).post(`/preferences/${unsubscribeToken}`).type('form').send(`shown=${newsletter}&shown=${weekly}&shown=${product}&lists=${weekly}`),
      ]);
      expect(confirm.status).toBe(200);
      expect(save.status).toBe(200);
      // Whichever came first, the save's choice stands, the person is confirmed and active, and
      // each list they hold active got exactly one welcome row.
      expect(await web.db.subscriber.findUniqueOrThrow({ where: { email } })).toMatchObject({ status: 'active' });
      expect(await subscriptionsByEmail(web.db, email)).toEqual({ product: 'unsubscribed', weekly: 'active' });
      const welcomes = await welcomeRowsOf(web.db, email);
      expect(welcomes.filter((slug) => slug === 'weekly')).toEqual(['weekly']);
      expect(welcomes.filter((slug) => slug === 'product').length).toBeLessThanOrEqual(1);
    }
  });

  it('ends consistent when "unsubscribe from everything" races the confirmation', async () => {
    await seedList(web.db, { slug: 'weekly' });
    for (let round = 0; round < 25; round += 1) {
      const email = `leave-${round}@example.com`;
      await request(web.app).post('/register').send({ email, lists: ['weekly'] }).expect(202);
      const link = await issueConfirmLink(web.db, email);
      const { unsubscribeToken } = await web.db.subscriber.findUniqueOrThrow({ where: { email } });
      const [confirm, leave] = await Promise.all([request(web.app).post(link), request(web.app).post(`/preferences/${unsubscribeToken}/unsubscribe`)]);
      expect([200, 404]).toContain(confirm.status);
      expect(leave.status).toBe(200);
      // Either order ends with the person and every list left: never an active list of a person who left.
      expect(await web.db.subscriber.findUniqueOrThrow({ where: { email } })).toMatchObject({ status: 'unsubscribed' });
      expect(await subscriptionsByEmail(web.db, email)).toEqual({ weekly: 'unsubscribed' });
    }
  });
});
