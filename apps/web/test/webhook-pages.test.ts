import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { csrfFrom, loggedInAgent as logIn } from '../../../test/support/admin.js';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();
const loggedInAgent = () => logIn(web.app);
type Agent = Awaited<ReturnType<typeof loggedInAgent>>;

/** Fills in the new endpoint form as an admin does; returns the answer (the secret page on success). */
async function createThroughForm(agent: Agent, fields: Record<string, string | string[]>, status: number) {
  const form = await agent.get('/admin/webhooks/new').expect(200);
  return agent.post('/admin/webhooks').type('form').send({ _csrf: csrfFrom(form.text), ...fields }).expect(status);
}

async function createOne(agent: Agent) {
  const res = await createThroughForm(agent, { url: 'https://hooks.example.com/herald', description: 'CRM sync', events: ['subscriber.created', 'subscriber.confirmed'] }, 201);
  const endpoint = await web.db.webhookEndpoint.findFirstOrThrow();
  return { res, endpoint };
}

describe('webhook admin pages', () => {
  it('list the endpoints and link to a new one from the nav', async () => {
    const agent = await loggedInAgent();
    const page = await agent.get('/admin/webhooks').expect(200);
    expect(page.text).toContain('href="/admin/webhooks"');
    expect(page.text).toContain('href="/admin/webhooks/new"');
    expect(page.text).toContain('No endpoints yet');
    const form = await agent.get('/admin/webhooks/new').expect(200);
    expect(form.text).toContain('value="subscriber.suppressed"');
    expect(form.text).toContain('An address bounced or complained');
  });

  it('create an endpoint from the form and show its secret once, never on its page', async () => {
    const agent = await loggedInAgent();
    const { res, endpoint } = await createOne(agent);
    expect(endpoint).toMatchObject({ url: 'https://hooks.example.com/herald', description: 'CRM sync', eventTypes: ['subscriber.created', 'subscriber.confirmed'], enabled: true });
    expect(res.text).toContain(endpoint.secret);
    expect(res.text).toContain('Copy it now: it is not shown again.');
    expect(res.text).toContain(`href="/admin/webhooks/${endpoint.id}"`);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.location).toBeUndefined();

    const show = await agent.get(`/admin/webhooks/${endpoint.id}`).expect(200);
    expect(show.text).toContain('https://hooks.example.com/herald');
    expect(show.text).toContain('CRM sync');
    expect(show.text).not.toContain(endpoint.secret);
    expect(show.text).not.toContain('whsec_');
    const list = await agent.get('/admin/webhooks').expect(200);
    expect(list.text).toContain('2 event types');
    expect(list.text).not.toContain(endpoint.secret);
    const edit = await agent.get(`/admin/webhooks/${endpoint.id}/edit`).expect(200);
    expect(edit.text).not.toContain(endpoint.secret);
  });

  it('take a single event as a string', async () => {
    const agent = await loggedInAgent();
    await createThroughForm(agent, { url: 'https://hooks.example.com/one', events: 'campaign.sent' }, 201);
    expect((await web.db.webhookEndpoint.findFirstOrThrow()).eventTypes).toEqual(['campaign.sent']);
  });

  it('re-render the form with messages for a private address, an ftp URL, no events or an unknown one, creating nothing', async () => {
    const agent = await loggedInAgent();
    const privateAddress = await createThroughForm(agent, { url: 'http://10.0.0.1/hook', events: 'subscriber.created' }, 422);
    expect(privateAddress.text).toContain('id="url-error"');
    expect(privateAddress.text).toContain('value="http://10.0.0.1/hook"');
    expect(privateAddress.text).toMatch(/value="subscriber.created" checked/);
    const ftp = await createThroughForm(agent, { url: 'ftp://files.example.com/hook', events: 'subscriber.created' }, 422);
    expect(ftp.text).toContain('id="url-error"');
    const none = await createThroughForm(agent, { url: 'https://hooks.example.com/x' }, 422);
    expect(none.text).toContain('pick at least one event');
    const unknown = await createThroughForm(agent, { url: 'https://hooks.example.com/x', events: ['subscriber.created', 'nope'] }, 422);
    expect(unknown.text).toContain('is not a known event type');
    expect(await web.db.webhookEndpoint.count()).toBe(0);
  });

  it('edit the URL, description and events', async () => {
    const agent = await loggedInAgent();
    const { endpoint } = await createOne(agent);
    const form = await agent.get(`/admin/webhooks/${endpoint.id}/edit`).expect(200);
    expect(form.text).toContain('value="https://hooks.example.com/herald"');
    const bad = await agent.post(`/admin/webhooks/${endpoint.id}`).type('form').send({ _csrf: csrfFrom(form.text), url: 'http://127.0.0.1/', events: 'campaign.sent' }).expect(422);
    expect(bad.text).toContain('id="url-error"');
    await agent
      .post(`/admin/webhooks/${endpoint.id}`)
      .type('form')
      .send({ _csrf: csrfFrom(form.text), url: 'https://other.example.com/in', description: '', events: ['campaign.sent', 'campaign.paused'] })
      .expect(303)
      .expect('Location', `/admin/webhooks/${endpoint.id}?notice=saved`);
    expect(await web.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({
      url: 'https://other.example.com/in',
      description: null,
      eventTypes: ['campaign.sent', 'campaign.paused'],
      secret: endpoint.secret,
    });
  });

  it('disable and enable an endpoint, showing why it is disabled', async () => {
    const agent = await loggedInAgent();
    const { endpoint } = await createOne(agent);
    const page = await agent.get(`/admin/webhooks/${endpoint.id}`).expect(200);
    await agent.post(`/admin/webhooks/${endpoint.id}/disable`).type('form').send({ _csrf: csrfFrom(page.text) }).expect(303).expect('Location', `/admin/webhooks/${endpoint.id}?notice=disabled`);
    expect((await web.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).enabled).toBe(false);
    const disabled = await agent.get(`/admin/webhooks/${endpoint.id}?notice=disabled`).expect(200);
    expect(disabled.text).toContain('This endpoint is disabled');
    expect(disabled.text).toContain('Disabled by an admin.');
    expect(disabled.text).toContain(`action="/admin/webhooks/${endpoint.id}/enable"`);
    // A test event is refused while it is disabled.
    await agent.post(`/admin/webhooks/${endpoint.id}/test`).type('form').send({ _csrf: csrfFrom(page.text) }).expect(303).expect('Location', `/admin/webhooks/${endpoint.id}?notice=test-disabled`);
    expect(await web.db.webhookDelivery.count()).toBe(0);
    const list = await agent.get('/admin/webhooks').expect(200);
    expect(list.text).toContain('Disabled by an admin.');

    await agent.post(`/admin/webhooks/${endpoint.id}/enable`).type('form').send({ _csrf: csrfFrom(page.text) }).expect(303).expect('Location', `/admin/webhooks/${endpoint.id}?notice=enabled`);
    expect(await web.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({ enabled: true, disabledReason: null });
  });

  it('show an endpoint that is failing, and one disabled after its failures with the reason and an Enable button', async () => {
    const agent = await loggedInAgent();
    const { endpoint } = await createOne(agent);
    await web.db.$executeRaw`UPDATE webhook_endpoints SET failing_since = '2026-12-06T09:30:00Z' WHERE id = ${endpoint.id}::uuid`;
    const failing = await agent.get('/admin/webhooks').expect(200);
    expect(failing.text).toContain('status-pending">failing');
    expect(failing.text).toContain('2026-12-06 09:30 UTC');
    const reason = 'Disabled after every attempt failed for 1 day; the last: 503.';
    await web.db.$executeRaw`UPDATE webhook_endpoints SET enabled = false, disabled_at = now(), disabled_reason = ${reason} WHERE id = ${endpoint.id}::uuid`;
    const page = await agent.get(`/admin/webhooks/${endpoint.id}`).expect(200);
    expect(page.text).toContain('This endpoint is disabled');
    expect(page.text).toContain(reason);
    expect(page.text).toContain(`action="/admin/webhooks/${endpoint.id}/enable"`);
    expect(page.text).not.toContain(`action="/admin/webhooks/${endpoint.id}/test"`);
  });

  it('send a test event, list the delivery with its last attempt, and send it again', async () => {
    const agent = await loggedInAgent();
    const { endpoint } = await createOne(agent);
    const page = await agent.get(`/admin/webhooks/${endpoint.id}`).expect(200);
    expect(page.text).toContain('Nothing sent yet.');
    await agent.post(`/admin/webhooks/${endpoint.id}/test`).type('form').send({ _csrf: csrfFrom(page.text) }).expect(303).expect('Location', `/admin/webhooks/${endpoint.id}?notice=tested`);
    const delivery = await web.db.webhookDelivery.findFirstOrThrow({ where: { endpointId: endpoint.id } });
    expect(delivery.status).toBe('pending');
    await web.db.$executeRaw`UPDATE webhook_deliveries SET status = 'failed', attempts = 1 WHERE id = ${delivery.id}::uuid`;
    await web.db.$executeRaw`
      INSERT INTO webhook_attempts (delivery_id, duration_ms, status_code, error, response_excerpt)
      VALUES (${delivery.id}::uuid, 87, 500, NULL, '<h1>Internal Server Error</h1>')`;

    const shown = await agent.get(`/admin/webhooks/${endpoint.id}?notice=tested`).expect(200);
    expect(shown.text).toContain('A webhook.test event is on its way');
    expect(shown.text).toContain('webhook.test');
    expect(shown.text).toContain(delivery.eventId);
    expect(shown.text).toContain('HTTP 500');
    expect(shown.text).toContain('87 ms');
    expect(shown.text).toContain('&lt;h1&gt;Internal Server Error&lt;/h1&gt;');
    const resend = `/admin/webhooks/${endpoint.id}/deliveries/${delivery.id}/resend`;
    expect(shown.text).toContain(`action="${resend}"`);
    await agent.post(resend).type('form').send({ _csrf: csrfFrom(shown.text) }).expect(303).expect('Location', `/admin/webhooks/${endpoint.id}?notice=resent`);
    expect((await web.db.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).status).toBe('pending');
  });

  it('page through deliveries with a cursor', async () => {
    const agent = await loggedInAgent();
    const { endpoint } = await createOne(agent);
    await web.db.$executeRaw`
      WITH events AS (
        INSERT INTO webhook_events (type, data) SELECT 'webhook.test', '{}'::jsonb FROM generate_series(1, 55) RETURNING id)
      INSERT INTO webhook_deliveries (event_id, endpoint_id) SELECT id, ${endpoint.id}::uuid FROM events`;
    const first = await agent.get(`/admin/webhooks/${endpoint.id}`).expect(200);
    expect(first.text.match(/<tr>/g)?.length).toBe(50 + 1);
    const older = /href="(\/admin\/webhooks\/[^"?]+\?cursor=[^"]+)"/.exec(first.text)?.[1];
    expect(older).toBeDefined();
    const second = await agent.get(older!).expect(200);
    expect(second.text.match(/<tr>/g)?.length).toBe(5 + 1);
    await agent.get(`/admin/webhooks/${endpoint.id}?cursor=nope`).expect(404);
  });

  it('delete an endpoint with its deliveries', async () => {
    const agent = await loggedInAgent();
    const { endpoint } = await createOne(agent);
    const page = await agent.get(`/admin/webhooks/${endpoint.id}`).expect(200);
    await agent.post(`/admin/webhooks/${endpoint.id}/test`).type('form').send({ _csrf: csrfFrom(page.text) }).expect(303);
    await agent.post(`/admin/webhooks/${endpoint.id}/delete`).type('form').send({ _csrf: csrfFrom(page.text) }).expect(303).expect('Location', '/admin/webhooks?notice=deleted');
    expect(await web.db.webhookEndpoint.count()).toBe(0);
    expect(await web.db.webhookDelivery.count()).toBe(0);
    const list = await agent.get('/admin/webhooks?notice=deleted').expect(200);
    expect(list.text).toContain('The endpoint was deleted');
    await agent.get(`/admin/webhooks/${endpoint.id}`).expect(404);
  });

  it('refuse form posts without the CSRF token', async () => {
    const agent = await loggedInAgent();
    await agent.post('/admin/webhooks').type('form').send({ url: 'https://hooks.example.com/x', events: 'subscriber.created' }).expect(403);
    expect(await web.db.webhookEndpoint.count()).toBe(0);
    const { endpoint } = await createOne(agent);
    for (const action of ['disable', 'test', 'delete']) await agent.post(`/admin/webhooks/${endpoint.id}/${action}`).type('form').send({}).expect(403);
    await agent.post(`/admin/webhooks/${endpoint.id}`).type('form').send({ url: 'https://evil.example.com/', events: 'campaign.sent' }).expect(403);
    expect(await web.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({ enabled: true, url: 'https://hooks.example.com/herald' });
    expect(await web.db.webhookDelivery.count()).toBe(0);
  });

  it('answer 404 for malformed and unknown ids, and send visitors to the login page', async () => {
    const agent = await loggedInAgent();
    await agent.get('/admin/webhooks/not-a-uuid').expect(404);
    await agent.get('/admin/webhooks/00000000-0000-4000-8000-000000000000').expect(404);
    await agent.get('/admin/webhooks/00000000-0000-4000-8000-000000000000/edit').expect(404);
    const page = await agent.get('/admin/webhooks').expect(200);
    const csrf = csrfFrom(page.text);
    for (const path of ['enable', 'disable', 'test', 'delete', 'deliveries/00000000-0000-4000-8000-000000000000/resend']) {
      await agent.post(`/admin/webhooks/00000000-0000-4000-8000-000000000000/${path}`).type('form').send({ _csrf: csrf }).expect(404);
    }
    await agent.post('/admin/webhooks/x/delete').type('form').send({ _csrf: csrf }).expect(404);
    const { endpoint } = await createOne(agent);
    await agent.post(`/admin/webhooks/${endpoint.id}/deliveries/nope/resend`).type('form').send({ _csrf: csrf }).expect(404);

    await request(web.app).get('/admin/webhooks').expect(303).expect('Location', '/admin/login');
  });
});
