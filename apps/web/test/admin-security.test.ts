import { Writable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { hashPassword } from '../src/team/passwords.js';
import { composeAndConfirm, csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { seedSubscribers } from '../../../test/support/factories.js';
import { adminEmail, adminPassword, adminToken, metricsToken, useWebHarness } from '../../../test/support/web.js';
import { checkAnswers } from '../../../test/support/api-description.js';

const web = useWebHarness();

/** The web app over the same deps, its log lines collected. */
function appWithLogs() {
  const lines: { level: number; msg: string; err?: { stack?: string } }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = checkAnswers(createApp({ ...web, logger: pino({ level: 'info' }, sink) }));
  return { app, lines, errors: () => lines.filter((line) => line.level >= 50) };
}

async function seedCampaignAndSubscriber() {
  const [subscriber] = await seedSubscribers(web.db, [{ email: 'ada@example.com', name: 'Ada' }]);
  const agent = await loggedInAgent(web.app);
  const location = await composeAndConfirm(agent, { subject: 'Hello', body: '<p>x</p>' });
  return { agent, campaignId: location.split('/').pop()!, subscriberId: subscriber!.id };
}

describe('admin sessions', () => {
  it('answer every admin page with 303 to the login page without a session', async () => {
    const { campaignId, subscriberId } = await seedCampaignAndSubscriber();
    const pages = [
      '/admin', '/admin/campaigns/new', `/admin/campaigns/${campaignId}`, `/admin/campaigns/${campaignId}/edit`,
      `/admin/campaigns/${campaignId}/review`, `/admin/campaigns/${campaignId}/progress`, '/admin/subscribers',
      '/admin/subscribers/new', '/admin/subscribers/import', '/admin/subscribers/export', `/admin/subscribers/${subscriberId}`,
      `/admin/subscribers/${subscriberId}/export`, `/admin/subscribers/${subscriberId}/erase`, '/admin/queues',
      '/admin/queues/api/queues', '/admin/no-such-page',
    ];
    for (const page of pages) {
      const res = await request(web.app).get(page);
      expect({ page, status: res.status, location: res.headers.location }).toEqual({ page, status: 303, location: '/admin/login' });
    }
  });

  it('refuse every admin form without its CSRF token, or with a wrong one, changing nothing', async () => {
    const { agent, campaignId, subscriberId } = await seedCampaignAndSubscriber();
    const before = { campaigns: await web.db.campaign.findMany(), subscribers: await web.db.subscriber.count(), deliveries: await web.db.delivery.count() };
    const forms: [string, Record<string, string>][] = [
      ['/admin/campaigns', { subject: 'S', body: 'B', intent: 'review' }],
      [`/admin/campaigns/${campaignId}/edit`, { subject: 'S', body: 'B' }],
      [`/admin/campaigns/${campaignId}/start`, {}],
      [`/admin/campaigns/${campaignId}/pause`, {}],
      [`/admin/campaigns/${campaignId}/resume`, {}],
      [`/admin/campaigns/${campaignId}/cancel`, {}],
      [`/admin/campaigns/${campaignId}/retry-failed`, {}],
      ['/admin/preview', { subject: 'S', body: 'B' }],
      ['/admin/subscribers', { email: 'new@example.com' }],
      [`/admin/subscribers/${subscriberId}/erase`, {}],
      ['/admin/logout', {}],
      ['/admin/login', { email: adminEmail, password: adminPassword }],
    ];
    for (const [path, fields] of forms) {
      for (const token of [undefined, 'forged-token']) {
        const res = await agent.post(path).type('form').send(token ? { ...fields, _csrf: token } : fields);
        expect({ path, token, status: res.status }).toEqual({ path, token, status: 403 });
      }
    }
    const upload = await agent.post('/admin/subscribers/import').attach('file', Buffer.from('email\nnew@example.com\n'), 'people.csv');
    expect(upload.status).toBe(403);
    expect({ campaigns: await web.db.campaign.findMany(), subscribers: await web.db.subscriber.count(), deliveries: await web.db.delivery.count() }).toEqual(before);
    await agent.get('/admin').expect(200);
  });

  it('refuse a session cookie copied before logout once the admin has logged out', async () => {
    const agent = await loggedInAgent(web.app);
    const page = await agent.get('/admin').expect(200);
    const cookies = (await agent.get('/admin/campaigns/new')).request.getHeader?.('cookie');
    const copied = typeof cookies === 'string' ? cookies : (await agent.jar.getCookies({ domain: '127.0.0.1', path: '/admin', secure: false, script: false })).map((cookie) => cookie.toValueString()).join('; ');
    expect(copied).toContain('herald_admin=');
    await request(web.app).get('/admin').set('Cookie', copied).expect(200);

    await agent.post('/admin/logout').type('form').send({ _csrf: csrfFrom(page.text) }).expect(303);
    await request(web.app).get('/admin').set('Cookie', copied).expect(303).expect('Location', '/admin/login');
    await request(web.app).post('/admin/campaigns').set('Cookie', copied).type('form').send({ subject: 'S', body: 'B' }).expect(401);
  });

  it('end at once when the user is disabled, and when their password changes', async () => {
    const agent = await loggedInAgent(web.app);
    await agent.get('/admin').expect(200);
    const owner = await web.db.user.findUniqueOrThrow({ where: { email: adminEmail } });
    // Another owner, so this one may be disabled (one owner always remains).
    await web.db.user.create({ data: { email: 'second-owner@herald.test', role: 'owner', passwordHash: owner.passwordHash } });
    await web.db.user.update({ where: { id: owner.id }, data: { disabledAt: new Date() } });
    await agent.get('/admin').expect(303).expect('Location', '/admin/login');
    await web.db.user.update({ where: { id: owner.id }, data: { disabledAt: null } });

    const again = await loggedInAgent(web.app);
    await again.get('/admin').expect(200);
    await web.db.user.update({ where: { id: owner.id }, data: { passwordHash: await hashPassword('a brand new password 123') } });
    await again.get('/admin').expect(303).expect('Location', '/admin/login');
  });
});

describe('login throttling', () => {
  it('answers the sixth wrong password in 15 minutes with 429, Retry-After and a page that says so, even with the right one', async () => {
    const { app, lines } = appWithLogs();
    const agent = request.agent(app);
    const page = await agent.get('/admin/login').expect(200);
    const csrf = csrfFrom(page.text);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const res = await agent.post('/admin/login').type('form').send({ _csrf: csrf, password: `guess ${attempt}` });
      expect(res.status).toBe(401);
    }
    const sixth = await agent.post('/admin/login').type('form').send({ _csrf: csrf, password: 'guess 6' }).expect(429);
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(800);
    expect(Number(sixth.headers['retry-after'])).toBeLessThanOrEqual(900);
    expect(sixth.text).toContain('Too many wrong attempts');
    await agent.post('/admin/login').type('form').send({ _csrf: csrf, password: adminPassword }).expect(429);
    await agent.get('/admin').expect(303);

    expect(lines.filter((line) => line.msg === 'admin login failed')).toHaveLength(5);
    const metrics = await request(app).get('/metrics').set('Authorization', `Bearer ${metricsToken}`).expect(200);
    expect(metrics.text).toMatch(/herald_auth_failures_total\{kind="login",outcome="wrong"\} [1-9]/);
    expect(metrics.text).toMatch(/herald_auth_failures_total\{kind="login",outcome="throttled"\} [1-9]/);
  });

  it('clears the count after a successful login', async () => {
    const agent = request.agent(web.app);
    const csrf = csrfFrom((await agent.get('/admin/login')).text);
    const email = adminEmail;
    for (let attempt = 1; attempt <= 4; attempt++) await agent.post('/admin/login').type('form').send({ _csrf: csrf, email, password: 'nope' }).expect(401);
    await agent.post('/admin/login').type('form').send({ _csrf: csrf, email, password: adminPassword }).expect(303);
    const again = request.agent(web.app);
    const csrf2 = csrfFrom((await again.get('/admin/login')).text);
    for (let attempt = 1; attempt <= 5; attempt++) await again.post('/admin/login').type('form').send({ _csrf: csrf2, email, password: 'nope' }).expect(401);
  });

  it('protects the API bearer token the same way, without counting requests that carry no token', async () => {
    for (let i = 0; i < 8; i++) await request(web.app).get('/campaigns').expect(401);
    await request(web.app).get('/campaigns').set('Authorization', `Bearer ${adminToken}`).expect(200);
    for (let attempt = 1; attempt <= 5; attempt++) {
      await request(web.app).get('/campaigns').set('Authorization', `Bearer wrong-${attempt}`).expect(401);
    }
    const refused = await request(web.app).get('/campaigns').set('Authorization', 'Bearer wrong-6').expect(429);
    expect(refused.body.error.code).toBe('too_many_attempts');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    await request(web.app).post('/send').set('Authorization', `Bearer ${adminToken}`).send({ subject: 's', body: 'b' }).expect(429);
    expect(await web.db.campaign.count()).toBe(0);
  });
});

describe('admin errors', () => {
  it('show an unknown admin address and a refused action inside the admin layout, with the way back', async () => {
    const { app, errors } = appWithLogs();
    const agent = await loggedInAgent(app);
    const missing = await agent.get('/admin/no-such-page').set('Accept', 'text/html').expect(404);
    expect(missing.text).toContain('class="admin-bar"');
    expect(missing.text).toContain('href="/admin">Back to campaigns');
    expect(missing.text).not.toContain('Go to the signup form');

    await seedSubscribers(web.db, [{ email: 'a@example.com' }]);
    const location = await composeAndConfirm(agent, { subject: 'Hi {{name}}', body: '<p>x</p>' });
    const page = await agent.get(location).expect(200);
    expect(page.text).toContain('<title>Hi ‹name› · Herald</title>');
    expect(page.text).toContain('<mark class="placeholder"');
    expect(page.text).not.toContain('{{name}}');
    const refused = await agent.post(`${location}/resume`).type('form').send({ _csrf: csrfFrom(page.text) }).set('Accept', 'text/html').expect(409);
    expect(refused.text).toContain('class="admin-bar"');
    expect(refused.text).toContain('The campaign is sending');
    const badId = await agent.get('/admin/campaigns/not-an-id').set('Accept', 'text/html').expect(404);
    expect(badId.text).toContain('class="admin-bar"');
    const badEncoding = await agent.get('/admin/campaigns/%E0%A4%A').set('Accept', 'text/html').expect(400);
    expect(badEncoding.text).toContain('class="admin-bar"');
    expect(errors()).toEqual([]);
  });

  it('send errors under the queue dashboard through the error handler and the admin layout, logging no stack', async () => {
    const { app, errors, lines } = appWithLogs();
    const agent = await loggedInAgent(app);
    for (const path of ['/admin/queues/queue/%ZZ', '/admin/queues/queue/campaigns/%E0%A4%A', '/admin/queues/api/queues/%ZZ/retry/failed', '/admin/queues/static/%ZZ']) {
      const res = await agent.get(path).set('Accept', 'text/html');
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(res.text).toContain('class="admin-bar"');
      expect(res.text).not.toMatch(/at .+\.js:\d+/);
      const json = await agent.get(path).set('Accept', 'application/json');
      expect(json.body.error.code).toBe('bad_request');
    }
    expect(errors()).toEqual([]);
    expect(lines.some((line) => line.err?.stack)).toBe(false);
    await agent.get('/admin/queues').expect(200);
  });
});
