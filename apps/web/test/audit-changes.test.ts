import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { admin } from '../../../test/support/factories.js';
import { adminEmail, adminPassword, adminToken, useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

/** The entries so far, oldest first, without the logins the pages' tests begin with. */
async function entries() {
  const rows = await web.db.auditEntry.findMany({ where: { action: { not: 'login.succeeded' } }, orderBy: { id: 'asc' } });
  return rows.map(({ actor, actorUserId, action, targetType, targetId, targetLabel, address, details }) => ({ actor, actorUserId, action, targetType, targetId, targetLabel, address, details }));
}

const remove = (path: string) => request(web.app).delete(path).set('Authorization', `Bearer ${adminToken}`);

type Agent = Awaited<ReturnType<typeof loggedInAgent>>;

/** Posts a form the way a browser does: the CSRF token from the page it is on. */
async function postForm(agent: Agent, page: string, action: string, fields: Record<string, string | string[]>, status: number) {
  const form = await agent.get(page).expect(200);
  return agent.post(action).type('form').send({ _csrf: csrfFrom(form.text), ...fields }).expect(status);
}

const pro = { attribute: 'plan', op: 'eq', value: 'pro' };
const free = { attribute: 'plan', op: 'eq', value: 'free' };

beforeEach(async () => {
  await web.db.$executeRaw`DELETE FROM segments`;
  await web.db.$executeRaw`DELETE FROM lists WHERE NOT is_default`;
});

describe('the audit log records list changes', () => {
  it('made with the API: created, changed (the fields), archived and deleted; a refused change records nothing', async () => {
    const created = await admin(web.app).post('/lists').send({ name: 'Product news', visibility: 'public' }).expect(201);
    const kept = await admin(web.app).post('/lists').send({ name: 'Kept', visibility: 'public' }).expect(201);
    // Refused: a bad body (422), an unknown list (404), a taken slug (409), the default list (409).
    await admin(web.app).patch(`/lists/${created.body.id}`).send({ visibility: 'secret' }).expect(422);
    await admin(web.app).patch('/lists/no-such-list').send({ name: 'Nope' }).expect(404);
    await admin(web.app).patch(`/lists/${created.body.id}`).send({ slug: kept.body.slug }).expect(409);
    const defaultList = await web.db.list.findFirstOrThrow({ where: { isDefault: true } });
    await remove(`/lists/${defaultList.id}`).expect(409);
    await remove('/lists/no-such-list').expect(404);
    await admin(web.app).patch(`/lists/${created.body.id}`).send({ name: 'Product updates', description: 'Now and then' }).expect(200);
    // Changing nothing records nothing.
    await admin(web.app).patch(`/lists/${created.body.id}`).send({ name: 'Product updates' }).expect(200);
    // A campaign went to this one: deleting it archives it.
    const campaign = await web.db.campaign.create({ data: { subject: 'To kept', html: '<p>x</p>' } });
    await web.db.campaignList.create({ data: { campaignId: campaign.id, listId: kept.body.id } });
    await remove(`/lists/${kept.body.id}`).expect(200);
    await remove(`/lists/${created.body.id}`).expect(204);

    const recorded = await entries();
    expect(recorded.map((entry) => [entry.action, entry.targetId, entry.targetLabel, entry.details])).toEqual([
      ['list.created', created.body.id, 'Product news', { slug: created.body.slug }],
      ['list.created', kept.body.id, 'Kept', { slug: kept.body.slug }],
      ['list.changed', created.body.id, 'Product updates', { fields: ['name', 'description'] }],
      ['list.archived', kept.body.id, 'Kept', {}],
      ['list.deleted', created.body.id, 'Product updates', {}],
    ]);
    expect(recorded.every((entry) => entry.actor === 'ADMIN_TOKEN' && entry.targetType === 'list' && entry.address)).toBe(true);
  });

  it('made on the pages, named by the user', async () => {
    const agent = await loggedInAgent(web.app);
    const fields = { name: 'Weekly', slug: '', description: '', visibility: 'public', doubleOptIn: 'yes', welcomeSubject: '', welcomeBody: '', welcomeFormat: 'markdown' };
    await postForm(agent, '/admin/lists/new', '/admin/lists', { ...fields, visibility: 'nope' }, 422);
    const created = await postForm(agent, '/admin/lists/new', '/admin/lists', fields, 303);
    const id = /\/admin\/lists\/([0-9a-f-]{36})/.exec(created.headers.location!)![1]!;
    await postForm(agent, `/admin/lists/${id}/edit`, `/admin/lists/${id}`, { ...fields, slug: 'weekly', visibility: 'private' }, 303);
    await postForm(agent, `/admin/lists/${id}`, `/admin/lists/${id}/delete`, {}, 303);

    const recorded = await entries();
    expect(recorded.map((entry) => [entry.actor, entry.action, entry.targetId, entry.details])).toEqual([
      [adminEmail, 'list.created', id, { slug: 'weekly' }],
      [adminEmail, 'list.changed', id, { fields: ['visibility'] }],
      [adminEmail, 'list.deleted', id, {}],
    ]);
    const owner = await web.db.user.findUniqueOrThrow({ where: { email: adminEmail } });
    expect(recorded.every((entry) => entry.actorUserId === owner.id)).toBe(true);
  });
});

describe('the audit log records segment changes', () => {
  it('made with the API; a refused change records nothing', async () => {
    await admin(web.app).post('/segments').send({ name: 'Bad', rules: { attribute: 'plan', op: 'nope', value: 1 } }).expect(422);
    const created = await admin(web.app).post('/segments').send({ name: 'Pro plan', rules: pro }).expect(201);
    await admin(web.app).patch(`/segments/${created.body.id}`).send({ rules: { nope: true } }).expect(422);
    await admin(web.app).patch('/segments/00000000-0000-4000-8000-000000000000').send({ name: 'Nobody' }).expect(404);
    await admin(web.app).patch(`/segments/${created.body.id}`).send({ rules: free }).expect(200);
    await admin(web.app).patch(`/segments/${created.body.id}`).send({ name: 'Free plan' }).expect(200);
    await remove('/segments/00000000-0000-4000-8000-000000000000').expect(404);
    await remove(`/segments/${created.body.id}`).expect(204);

    const recorded = await entries();
    expect(recorded.map((entry) => [entry.actor, entry.action, entry.targetType, entry.targetId, entry.targetLabel, entry.details])).toEqual([
      ['ADMIN_TOKEN', 'segment.created', 'segment', created.body.id, 'Pro plan', {}],
      ['ADMIN_TOKEN', 'segment.changed', 'segment', created.body.id, 'Pro plan', { fields: ['rules'] }],
      ['ADMIN_TOKEN', 'segment.changed', 'segment', created.body.id, 'Free plan', { fields: ['name'] }],
      ['ADMIN_TOKEN', 'segment.deleted', 'segment', created.body.id, 'Free plan', {}],
    ]);
  });

  it('made on the pages; a preview records nothing', async () => {
    const agent = await loggedInAgent(web.app);
    await postForm(agent, '/admin/segments/new', '/admin/segments', { name: 'Pro', match: 'all', json: '{"nope"' }, 422);
    await postForm(agent, '/admin/segments/new', '/admin/segments', { name: 'Pro', match: 'all', json: JSON.stringify(pro), intent: 'preview' }, 200);
    const created = await postForm(agent, '/admin/segments/new', '/admin/segments', { name: 'Pro', match: 'all', json: JSON.stringify(pro) }, 303);
    const id = /\/admin\/segments\/([0-9a-f-]{36})/.exec(created.headers.location!)![1]!;
    await postForm(agent, `/admin/segments/${id}`, `/admin/segments/${id}`, { name: 'Pro customers', match: 'all', json: JSON.stringify(pro) }, 303);
    await postForm(agent, `/admin/segments/${id}`, `/admin/segments/${id}/delete`, {}, 303);

    const recorded = await entries();
    expect(recorded.map((entry) => [entry.actor, entry.action, entry.targetId, entry.details])).toEqual([
      [adminEmail, 'segment.created', id, {}],
      [adminEmail, 'segment.changed', id, { fields: ['name'] }],
      [adminEmail, 'segment.deleted', id, {}],
    ]);
  });
});

describe('the audit log records webhook endpoint changes', () => {
  const url = 'https://hooks.example.com/services/T0/B0/receiver-token?key=also-secret';

  it('made with the API, never with the secret or the URL’s path; a refused change records nothing', async () => {
    await admin(web.app).post('/webhook-endpoints').send({ url, events: ['nope'] }).expect(422);
    const created = await admin(web.app).post('/webhook-endpoints').send({ url, events: ['subscriber.created'] }).expect(201);
    const id = created.body.id as string;
    await admin(web.app).patch(`/webhook-endpoints/${id}`).send({ events: [] }).expect(422);
    await admin(web.app).patch('/webhook-endpoints/00000000-0000-4000-8000-000000000000').send({ description: 'x' }).expect(404);
    await admin(web.app).patch(`/webhook-endpoints/${id}`).send({ description: 'CRM', events: ['subscriber.created', 'subscriber.confirmed'] }).expect(200);
    const tested = await admin(web.app).post(`/webhook-endpoints/${id}/test`).expect(202);
    await admin(web.app).post(`/webhook-endpoints/${id}/deliveries/${tested.body.deliveryId}/resend`).expect(202);
    await admin(web.app).patch(`/webhook-endpoints/${id}`).send({ enabled: false }).expect(200);
    // Disabled: a test event and a resend are refused, and disabling again changes nothing.
    await admin(web.app).post(`/webhook-endpoints/${id}/test`).expect(409);
    await admin(web.app).post(`/webhook-endpoints/${id}/deliveries/${tested.body.deliveryId}/resend`).expect(409);
    await admin(web.app).patch(`/webhook-endpoints/${id}`).send({ enabled: false }).expect(200);
    await admin(web.app).patch(`/webhook-endpoints/${id}`).send({ enabled: true, url: 'https://other.example.com/in' }).expect(200);
    await remove('/webhook-endpoints/00000000-0000-4000-8000-000000000000').expect(404);
    await remove(`/webhook-endpoints/${id}`).expect(204);

    const recorded = await entries();
    expect(recorded.map((entry) => [entry.action, entry.targetLabel, entry.details])).toEqual([
      ['webhook_endpoint.created', 'https://hooks.example.com', { events: ['subscriber.created'], enabled: true }],
      ['webhook_endpoint.changed', 'https://hooks.example.com', { fields: ['events', 'description'] }],
      ['webhook_endpoint.tested', 'https://hooks.example.com', { deliveryId: tested.body.deliveryId }],
      ['webhook_delivery.resent', 'https://hooks.example.com', { deliveryId: tested.body.deliveryId }],
      ['webhook_endpoint.disabled', 'https://hooks.example.com', {}],
      ['webhook_endpoint.changed', 'https://other.example.com', { fields: ['url'] }],
      ['webhook_endpoint.enabled', 'https://other.example.com', {}],
      ['webhook_endpoint.deleted', 'https://other.example.com', {}],
    ]);
    expect(recorded.every((entry) => entry.actor === 'ADMIN_TOKEN' && entry.targetType === 'webhook_endpoint' && entry.targetId === id)).toBe(true);
    const everything = JSON.stringify(await entries());
    expect(everything).not.toContain(created.body.secret);
    expect(everything).not.toContain('receiver-token');
    expect(everything).not.toContain('also-secret');
  });

  it('made on the pages', async () => {
    const agent = await loggedInAgent(web.app);
    await postForm(agent, '/admin/webhooks/new', '/admin/webhooks', { url: 'not a url', events: ['subscriber.created'] }, 422);
    const created = await postForm(agent, '/admin/webhooks/new', '/admin/webhooks', { url, description: '', events: ['subscriber.created'] }, 201);
    const endpoint = await web.db.webhookEndpoint.findFirstOrThrow();
    const id = endpoint.id;
    const page = `/admin/webhooks/${id}`;
    await postForm(agent, `${page}/edit`, page, { url, description: 'CRM', events: ['subscriber.created'] }, 303);
    await postForm(agent, page, `${page}/test`, {}, 303);
    const delivery = await web.db.webhookDelivery.findFirstOrThrow({ where: { endpointId: id } });
    await postForm(agent, page, `${page}/deliveries/${delivery.id}/resend`, {}, 303);
    await postForm(agent, page, `${page}/disable`, {}, 303);
    // Refused while disabled: the page says so and nothing is recorded.
    await postForm(agent, page, `${page}/test`, {}, 303);
    await postForm(agent, page, `${page}/deliveries/${delivery.id}/resend`, {}, 303);
    await postForm(agent, page, `${page}/enable`, {}, 303);
    await postForm(agent, page, `${page}/delete`, {}, 303);

    const recorded = await entries();
    expect(recorded.map((entry) => [entry.actor, entry.action, entry.targetId, entry.details])).toEqual([
      [adminEmail, 'webhook_endpoint.created', id, { events: ['subscriber.created'], enabled: true }],
      [adminEmail, 'webhook_endpoint.changed', id, { fields: ['description'] }],
      [adminEmail, 'webhook_endpoint.tested', id, { deliveryId: delivery.id }],
      [adminEmail, 'webhook_delivery.resent', id, { deliveryId: delivery.id }],
      [adminEmail, 'webhook_endpoint.disabled', id, {}],
      [adminEmail, 'webhook_endpoint.enabled', id, {}],
      [adminEmail, 'webhook_endpoint.deleted', id, {}],
    ]);
    expect(JSON.stringify(await entries())).not.toContain(endpoint.secret);
    expect(created.text).toContain(endpoint.secret);
  });
});

describe('the audit log records a password change', () => {
  it('on the account page, without the password; a refused one records nothing', async () => {
    const agent = await loggedInAgent(web.app);
    const newPassword = 'a brand new passphrase';
    await postForm(agent, '/admin/account', '/admin/account/password', { current: 'wrong password', password: newPassword, confirm: newPassword }, 422);
    await postForm(agent, '/admin/account', '/admin/account/password', { current: adminPassword, password: newPassword, confirm: 'different' }, 422);
    await postForm(agent, '/admin/account', '/admin/account/password', { current: adminPassword, password: newPassword, confirm: newPassword }, 303);

    const owner = await web.db.user.findUniqueOrThrow({ where: { email: adminEmail } });
    const recorded = await entries();
    expect(recorded.map((entry) => [entry.actor, entry.actorUserId, entry.action, entry.targetType, entry.targetId, entry.details])).toEqual([
      [adminEmail, owner.id, 'user.password_changed', 'user', owner.id, {}],
    ]);
    const everything = JSON.stringify(await entries());
    expect(everything).not.toContain(newPassword);
    expect(everything).not.toContain(adminPassword);
  });
});

describe('the audit page', () => {
  it('offers the new actions in its filter by name, and links what still exists', async () => {
    const list = await admin(web.app).post('/lists').send({ name: 'Linked list', visibility: 'public' }).expect(201);
    const agent = await loggedInAgent(web.app);
    const page = await agent.get('/admin/audit').expect(200);
    expect(page.text).toContain('<option value="list.created" >List created (list.created)</option>');
    expect(page.text).toContain('Webhook delivery sent again (webhook_delivery.resent)');
    expect(page.text).toContain('Password changed (user.password_changed)');
    expect(page.text).toContain(`href="/admin/lists/${list.body.id}"`);
    const filtered = await agent.get('/admin/audit?action=list.created').expect(200);
    expect(filtered.text).toContain('Linked list');
    expect((await admin(web.app).get('/audit?action=webhook_endpoint.tested').expect(200)).body.entries).toEqual([]);
  });
});
