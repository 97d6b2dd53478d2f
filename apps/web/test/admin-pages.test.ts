import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { composeAndConfirm, csrfFrom, loggedInAgent as logIn } from '../../../test/support/admin.js';
import { seedSubscribers } from '../../../test/support/factories.js';
import { adminPassword, useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();
const loggedInAgent = () => logIn(web.app);

describe('admin pages', () => {
  it('send visitors without a session to the login page and refuse their forms', async () => {
    await request(web.app).get('/admin').expect(303).expect('Location', '/admin/login');
    await request(web.app).get('/admin/queues').expect(303).expect('Location', '/admin/login');
    await request(web.app).post('/admin/campaigns').type('form').send({ subject: 'x', body: 'y' }).expect(401);
    expect(await web.db.campaign.count()).toBe(0);
  });

  it('refuse a wrong password and a login without its CSRF token', async () => {
    const agent = request.agent(web.app);
    const page = await agent.get('/admin/login').expect(200);
    const wrong = await agent.post('/admin/login').type('form').send({ _csrf: csrfFrom(page.text), password: 'guess' }).expect(401);
    expect(wrong.text).toContain('That email and password do not match.');
    await agent.post('/admin/login').type('form').send({ password: adminPassword }).expect(403);
    await agent.get('/admin').expect(303);
  });

  it('compose and send a campaign, then show its progress', async () => {
    await seedSubscribers(web.db, [{ email: 'a@example.com' }, { email: 'b@example.com' }]);
    const agent = await loggedInAgent();
    const location = await composeAndConfirm(agent, { subject: 'Autumn issue', body: '<p>Hi {{name}}</p>', text: '', sendAt: '' });
    const campaign = await web.db.campaign.findFirstOrThrow();
    expect(location).toBe(`/admin/campaigns/${campaign.id}`);
    expect(campaign).toMatchObject({ subject: 'Autumn issue', status: 'sending', recipientCount: 2 });
    expect(await web.queues.campaigns.count()).toBe(1);

    const page = await agent.get(location).expect(200);
    expect(page.text).toContain('Autumn issue');
    expect(page.text).toContain('2 recipients');
    const list = await agent.get('/admin').expect(200);
    expect(list.text).toContain(`href="/admin/campaigns/${campaign.id}"`);
  });

  it('re-render the compose form with messages on bad input, creating nothing', async () => {
    const agent = await loggedInAgent();
    const form = await agent.get('/admin/campaigns/new');
    const res = await agent
      .post('/admin/campaigns')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), subject: 'Line\r\nbreak', body: '', sendAt: '2001-01-01T10:00' })
      .expect(400);
    expect(res.text).toContain('subject must be one line');
    expect(res.text).toContain('body is required');
    expect(res.text).toContain('sendAt must be in the future');
    expect(await web.db.campaign.count()).toBe(0);
  });

  it('schedule a campaign for a UTC time given without a zone', async () => {
    await seedSubscribers(web.db, [{ email: 'a@example.com' }]);
    const agent = await loggedInAgent();
    const local = new Date(Date.now() + 30 * 24 * 60 * 60 * 1000).toISOString().slice(0, 16); // e.g. 2030-05-01T09:30
    await composeAndConfirm(agent, { subject: 'Later', body: '<p>x</p>', sendAt: local });
    expect(await web.db.campaign.findFirstOrThrow()).toMatchObject({ status: 'scheduled', sendAt: new Date(`${local}:00Z`) });
  });

  it('pause a campaign from its page only with the CSRF token', async () => {
    await seedSubscribers(web.db, [{ email: 'a@example.com' }]);
    const agent = await loggedInAgent();
    const location = await composeAndConfirm(agent, { subject: 'S', body: '<p>x</p>' });
    const page = await agent.get(location);
    await agent.post(`${location}/pause`).type('form').send({}).expect(403);
    expect((await web.db.campaign.findFirstOrThrow()).status).toBe('sending');
    await agent.post(`${location}/pause`).type('form').send({ _csrf: csrfFrom(page.text) }).expect(303);
    expect((await web.db.campaign.findFirstOrThrow()).status).toBe('paused');
  });

  it('show the read-only queue dashboard and log out', async () => {
    const agent = await loggedInAgent();
    const board = await agent.get('/admin/queues').expect(200);
    expect(board.text).toContain('Herald queues');
    const page = await agent.get('/admin');
    await agent.post('/admin/logout').type('form').send({ _csrf: csrfFrom(page.text) }).expect(303);
    await agent.get('/admin').expect(303).expect('Location', '/admin/login');
  });
});
