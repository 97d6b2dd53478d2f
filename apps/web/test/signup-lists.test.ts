import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { useWebHarness } from '../../../test/support/web.js';
import { issueConfirmLink, seedList, subscriptionsByEmail, welcomeRowsOf } from './list-fixtures.js';

const web = useWebHarness({ SIGNUP_REDIRECT_ORIGINS: 'https://shop.example, http://localhost:8080/' });

beforeEach(async () => {
  await web.queues.confirmations.obliterate({ force: true });
});

async function personOf(email: string) {
  return web.db.subscriber.findUniqueOrThrow({ where: { email } });
}

describe('signing up to lists', () => {
  it('subscribes to two lists pending; one confirmation activates both, with one welcome row each, even confirmed twice', async () => {
    await seedList(web.db, { slug: 'weekly', name: 'Weekly digest', welcome: true });
    await seedList(web.db, { slug: 'product', name: 'Product updates', welcome: true });

    const res = await request(web.app).post('/register').send({ email: 'ada@example.com', lists: ['weekly', 'product'] }).expect(202);
    expect(res.body.message).toContain('Check your inbox');
    expect(await personOf('ada@example.com')).toMatchObject({ status: 'pending', consentSource: 'api' });
    expect(await subscriptionsByEmail(web.db, 'ada@example.com')).toEqual({ product: 'pending', weekly: 'pending' });
    expect(await welcomeRowsOf(web.db, 'ada@example.com')).toEqual([]);
    const jobs = await web.queues.confirmations.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((job) => job.data)).toEqual([{ subscriberId: (await personOf('ada@example.com')).id }]);

    const link = await issueConfirmLink(web.db, 'ada@example.com');
    // Both clicks at once, and a third after: one confirmation, one welcome row per list.
    const clicks = await Promise.all([request(web.app).post(link), request(web.app).post(link)]);
    expect(clicks.map((click) => click.status).sort()).toEqual([200, 200]);
    await request(web.app).post(link).expect(200).expect(/already subscribed/);
    expect(await personOf('ada@example.com')).toMatchObject({ status: 'active' });
    expect(await subscriptionsByEmail(web.db, 'ada@example.com')).toEqual({ product: 'active', weekly: 'active' });
    expect(await welcomeRowsOf(web.db, 'ada@example.com')).toEqual(['product', 'weekly']);
    const welcomeJobs = await web.queues.confirmations.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(welcomeJobs.filter((job) => job.name === 'send-welcome')).toHaveLength(2);
  });

  it('joins the default list when a signup names none', async () => {
    await seedList(web.db, { slug: 'weekly' });
    await request(web.app).post('/register').send({ email: 'plain@example.com' }).expect(202);
    expect(await subscriptionsByEmail(web.db, 'plain@example.com')).toEqual({ newsletter: 'pending' });
  });

  it('refuses a private, archived or unknown list in JSON with 422 naming it, writing nothing', async () => {
    await seedList(web.db, { slug: 'weekly' });
    await seedList(web.db, { slug: 'vip', visibility: 'private' });
    const archived = await seedList(web.db, { slug: 'old' });
    await web.db.$executeRaw`UPDATE lists SET archived_at = now() WHERE id = ${archived}::uuid`;

    for (const lists of [['weekly', 'vip'], ['old'], ['nope'], [archived]]) {
      const res = await request(web.app).post('/register').send({ email: 'sneaky@example.com', lists }).expect(422);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.fields.lists).toContain(lists.at(-1));
    }
    const bad = await request(web.app).post('/register').send({ email: 'sneaky@example.com', lists: 'weekly' }).expect(400);
    expect(bad.body.error.fields.lists).toBeDefined();
    await request(web.app).post('/register').send({ email: 'sneaky@example.com', lists: [42] }).expect(400);
    await request(web.app).post('/register').send({ email: 'sneaky@example.com', lists: ['we\u0000ekly'] }).expect(400);
    expect(await web.db.subscriber.count()).toBe(0);
    expect(await web.queues.confirmations.count()).toBe(0);
  });

  it('ignores a private or unknown list ticked on the form and joins the rest', async () => {
    await seedList(web.db, { slug: 'weekly' });
    await seedList(web.db, { slug: 'vip', visibility: 'private' });
    await request(web.app).post('/register').type('form').send('email=form%40example.com&lists=weekly&lists=vip&lists=nope').expect(200);
    expect(await subscriptionsByEmail(web.db, 'form@example.com')).toEqual({ weekly: 'pending' });
    // Only a private list: as if none was ticked, the default list.
    await request(web.app).post('/register').type('form').send('email=only-vip%40example.com&lists=vip').expect(200);
    expect(await subscriptionsByEmail(web.db, 'only-vip@example.com')).toEqual({ newsletter: 'pending' });
  });

  it('offers the public lists as checkboxes, the default one ticked, and never a private one', async () => {
    let page = await request(web.app).get('/').expect(200);
    expect(page.text).not.toContain('type="checkbox"');
    await seedList(web.db, { slug: 'weekly', name: 'Weekly digest', description: 'The week in one email' });
    await seedList(web.db, { slug: 'vip', name: 'VIP', visibility: 'private' });
    page = await request(web.app).get('/').expect(200);
    expect(page.text).toMatch(/name="lists" type="checkbox" value="newsletter" checked>/);
    expect(page.text).toMatch(/name="lists" type="checkbox" value="weekly">/);
    expect(page.text).toContain('The week in one email');
    expect(page.text).not.toContain('VIP');
  });

  it('makes a subscription to a list without double opt-in active at once, with its welcome email', async () => {
    await seedList(web.db, { slug: 'deals', doubleOptIn: false, welcome: true });
    const res = await request(web.app).post('/register').send({ email: 'fast@example.com', lists: ['deals'] }).expect(202);
    expect(res.body.message).toBe('Thanks! You are subscribed.');
    expect(await personOf('fast@example.com')).toMatchObject({ status: 'active' });
    expect(await subscriptionsByEmail(web.db, 'fast@example.com')).toEqual({ deals: 'active' });
    expect(await welcomeRowsOf(web.db, 'fast@example.com')).toEqual(['deals']);
    const jobs = await web.queues.confirmations.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((job) => job.name)).toEqual(['send-welcome']);
  });

  it('owes a confirmed person a confirmation for a new double opt-in list, and confirming it activates only that', async () => {
    await seedList(web.db, { slug: 'weekly', welcome: true });
    await request(web.app).post('/register').send({ email: 'known@example.com' }).expect(202);
    await request(web.app).post(await issueConfirmLink(web.db, 'known@example.com')).expect(200);
    await web.queues.confirmations.obliterate({ force: true });
    const before = await personOf('known@example.com');
    expect(before.status).toBe('active');

    // A stranger (or they) sign the confirmed address up to another list: it waits for the mailbox.
    await request(web.app).post('/register').send({ email: 'known@example.com', name: 'Renamed', lists: ['weekly'] }).expect(202);
    const after = await personOf('known@example.com');
    expect(after).toMatchObject({ status: 'active', name: null, confirmationSentAt: null });
    expect(await subscriptionsByEmail(web.db, 'known@example.com')).toEqual({ newsletter: 'active', weekly: 'pending' });
    const jobs = await web.queues.confirmations.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((job) => job.data)).toEqual([{ subscriberId: after.id }]);

    await request(web.app).post(await issueConfirmLink(web.db, 'known@example.com')).expect(200);
    expect(await subscriptionsByEmail(web.db, 'known@example.com')).toEqual({ newsletter: 'active', weekly: 'active' });
    expect(await welcomeRowsOf(web.db, 'known@example.com')).toEqual(['weekly']);
    expect((await personOf('known@example.com')).confirmedAt).toEqual(before.confirmedAt);
  });

  it('answers a signup the same whoever the address belongs to', async () => {
    await seedList(web.db, { slug: 'weekly' });
    await web.db.subscriber.create({ data: { email: 'gone@example.com', status: 'bounced' } });
    const answers = await Promise.all(
      ['new@example.com', 'gone@example.com'].map((email) => request(web.app).post('/register').send({ email, lists: ['weekly'] })),
    );
    expect(answers[0]!.status).toBe(answers[1]!.status);
    expect(answers[0]!.body).toEqual(answers[1]!.body);
    // A suppressed address gets no subscription from a signup.
    expect(await subscriptionsByEmail(web.db, 'gone@example.com')).toEqual({});
  });
});

describe('the form for one list, /l/:slug', () => {
  it('shows a form for a public list and 404 for a private or unknown one', async () => {
    await seedList(web.db, { slug: 'weekly', name: 'Weekly digest', description: 'The week in one email.' });
    await seedList(web.db, { slug: 'vip', visibility: 'private' });
    const page = await request(web.app).get('/l/weekly').expect(200);
    expect(page.text).toContain('<h1>Subscribe to Weekly digest</h1>');
    expect(page.text).toContain('<form method="post" action="/l/weekly"');
    expect(page.text).not.toContain('type="checkbox"');
    await request(web.app).get('/l/vip').expect(404);
    await request(web.app).get('/l/nope').expect(404);
    await request(web.app).get('/l/Bad%20Slug').expect(404);
    await request(web.app).post('/l/vip').type('form').send({ email: 'x@example.com' }).expect(404);
    expect(await web.db.subscriber.count()).toBe(0);
  });

  it('sends the person back to an allowed origin with 303, without a CSRF token or session', async () => {
    await seedList(web.db, { slug: 'weekly' });
    const res = await request(web.app)
      .post('/l/weekly')
      .set('Origin', 'https://shop.example')
      .type('form')
      .send({ email: 'embed@example.com', name: 'Em', redirect: 'https://shop.example/thanks?from=herald' })
      .expect(303);
    expect(res.headers.location).toBe('https://shop.example/thanks?from=herald');
    expect(await subscriptionsByEmail(web.db, 'embed@example.com')).toEqual({ weekly: 'pending' });
    expect(await personOf('embed@example.com')).toMatchObject({ name: 'Em', consentSource: 'form' });
    const local = await request(web.app).post('/l/weekly').type('form').send({ email: 'dev@example.com', redirect: 'http://localhost:8080/ok' }).expect(303);
    expect(local.headers.location).toBe('http://localhost:8080/ok');
  });

  it("shows Herald's own page for a redirect to any other origin", async () => {
    await seedList(web.db, { slug: 'weekly' });
    for (const redirect of [
      'https://evil.example/thanks',
      'https://shop.example.evil.example/',
      'https://user@shop.example/',
      '//shop.example/',
      'javascript:alert(1)',
      'http://shop.example/',
      '/admin',
    ]) {
      const res = await request(web.app).post('/l/weekly').type('form').send({ email: 'careful@example.com', redirect }).expect(200);
      expect(res.headers.location).toBeUndefined();
      expect(res.text).toContain('Check your inbox');
    }
    expect(await subscriptionsByEmail(web.db, 'careful@example.com')).toEqual({ weekly: 'pending' });
  });

  it('re-renders its own form on a bad address, keeping the redirect, and stores nothing', async () => {
    await seedList(web.db, { slug: 'weekly' });
    const res = await request(web.app).post('/l/weekly').type('form').send({ email: 'nope', redirect: 'https://shop.example/thanks' }).expect(400);
    expect(res.text).toContain('Enter a valid email address');
    expect(res.text).toContain('<input type="hidden" name="redirect" value="https://shop.example/thanks">');
    expect(await web.db.subscriber.count()).toBe(0);
  });
});
