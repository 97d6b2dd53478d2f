/** The team's admin pages as forms: each action, its notice and audit entry, and who may use them. */
import { beforeEach, describe, expect, it } from 'vitest';
import { csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { makeUser } from '../../../test/support/team.js';
import { useWebHarness } from '../../../test/support/web.js';
import { ensureFirstOwner } from '../src/team/first-owner.js';

const web = useWebHarness();
type Agent = Awaited<ReturnType<typeof loggedInAgent>>;

async function post(agent: Agent, pagePath: string, action: string, fields: Record<string, string> = {}) {
  const page = await agent.get(pagePath).expect(200);
  return agent.post(action).type('form').send({ _csrf: csrfFrom(page.text), ...fields });
}

const actions = async () => (await web.db.auditEntry.findMany({ where: { action: { startsWith: 'user.' } }, orderBy: { id: 'asc' } })).map((entry) => entry.action);

beforeEach(async () => {
  await ensureFirstOwner(web.db, web.config);
});

describe('the team pages', () => {
  it('invite from the team page, then change the role, disable, enable, resend and remove, each with its notice', async () => {
    const agent = await loggedInAgent(web.app);
    const team = await agent.get('/admin/users').expect(200);
    expect(team.text).toContain('Writes and previews drafts');
    const invited = await post(agent, '/admin/users', '/admin/users', { email: 'Grace@Example.com', name: 'Grace', role: 'viewer' });
    expect(invited.status).toBe(303);
    const grace = await web.db.user.findUniqueOrThrow({ where: { email: 'grace@example.com' } });
    expect(invited.headers.location).toBe(`/admin/users/${grace.id}?notice=invited`);
    expect((await agent.get(invited.headers.location!).expect(200)).text).toContain('The invitation is on its way');

    const page = `/admin/users/${grace.id}`;
    expect((await post(agent, page, `${page}/role`, { role: 'editor' })).headers.location).toBe(`${page}?notice=role-changed`);
    expect((await post(agent, page, `${page}/disable`)).headers.location).toBe(`${page}?notice=disabled`);
    expect((await post(agent, page, `${page}/invitation`)).status).toBe(409);
    expect((await post(agent, page, `${page}/enable`)).headers.location).toBe(`${page}?notice=enabled`);
    expect((await post(agent, page, `${page}/invitation`)).headers.location).toBe(`${page}?notice=resent`);
    const confirm = await agent.get(`${page}/remove`).expect(200);
    expect(confirm.text).toContain('Remove grace@example.com?');
    expect((await post(agent, `${page}/remove`, `${page}/remove`)).headers.location).toBe('/admin/users?notice=removed');
    expect(await web.db.user.findUnique({ where: { id: grace.id } })).toBeNull();
    expect(await actions()).toEqual(['user.invited', 'user.role_changed', 'user.disabled', 'user.enabled', 'user.invited', 'user.removed']);
  });

  it('re-render the invite form with the field’s message for a bad or taken email, adding no one', async () => {
    const agent = await loggedInAgent(web.app);
    const bad = await post(agent, '/admin/users', '/admin/users', { email: 'not an address', role: 'viewer' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('must be an email address');
    const noRole = await post(agent, '/admin/users', '/admin/users', { email: 'x@example.com' });
    expect(noRole.status).toBe(422);
    const taken = await post(agent, '/admin/users', '/admin/users', { email: 'ADMIN@herald.test', role: 'viewer' });
    expect(taken.status).toBe(409);
    expect(taken.text).toContain('Someone on the team already has this email.');
    expect(await web.db.user.count()).toBe(1);
  });

  it('refuse to demote, disable or remove the last owner, saying why', async () => {
    const agent = await loggedInAgent(web.app);
    const owner = await web.db.user.findFirstOrThrow();
    const page = `/admin/users/${owner.id}`;
    for (const [action, fields] of [[`${page}/role`, { role: 'admin' }], [`${page}/disable`, {}], [`${page}/remove`, {}]] as const) {
      const refused = await post(agent, page, action, fields);
      expect(refused.status).toBe(409);
      expect(refused.text).toContain('At least one enabled owner with a password must remain');
    }
    expect(await web.db.user.findUniqueOrThrow({ where: { id: owner.id } })).toMatchObject({ role: 'owner', disabledAt: null });
    expect(await actions()).toEqual([]);
  });

  it('send an owner who demoted themselves to the admin home, which they can still see', async () => {
    await makeUser(web.db, 'owner');
    const agent = await loggedInAgent(web.app);
    const me = await web.db.user.findUniqueOrThrow({ where: { email: 'admin@herald.test' } });
    const demoted = await post(agent, `/admin/users/${me.id}`, `/admin/users/${me.id}/role`, { role: 'admin' });
    expect(demoted.headers.location).toBe('/admin');
    await agent.get('/admin').expect(200);
    await agent.get('/admin/users').expect(403);
  });

  it('refuse a form without its CSRF token', async () => {
    const agent = await loggedInAgent(web.app);
    await agent.post('/admin/users').type('form').send({ email: 'x@example.com', role: 'viewer' }).expect(403);
    expect(await web.db.user.count()).toBe(1);
  });

  it.each(['admin', 'editor', 'viewer'] as const)('are refused to the %s role, which sees no Team link', async (role) => {
    const member = await makeUser(web.db, role);
    const agent = await loggedInAgent(web.app, member.email, member.password);
    expect((await agent.get('/admin').expect(200)).text).not.toContain('href="/admin/users"');
    await agent.get('/admin/users').expect(403);
    await agent.get(`/admin/users/${member.user.id}`).expect(403);
    const home = await agent.get('/admin').expect(200);
    await agent.post(`/admin/users/${member.user.id}/role`).type('form').send({ _csrf: csrfFrom(home.text), role: 'owner' }).expect(403);
    expect((await web.db.user.findUniqueOrThrow({ where: { id: member.user.id } })).role).toBe(role);
  });
});
