import { createHash } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { adminEmail, adminPassword, useWebHarness } from '../../../test/support/web.js';
import { hashPassword } from '../src/team/passwords.js';
import type { Role } from '../src/team/roles.js';

const web = useWebHarness();

const password = 'a long enough password';

/** The first owner (made at the first login), then a user of the given role, logged in. */
async function logInAs(role: Role, email = `${role}@example.com`) {
  await loggedInAgent(web.app);
  await web.db.user.create({ data: { email, role, passwordHash: await hashPassword(password) } });
  return loggedInAgent(web.app, email, password);
}

type Agent = Awaited<ReturnType<typeof loggedInAgent>>;

/** Posts one of the account page's forms as a browser does, with the page's CSRF token; expects `status`. */
async function postForm(agent: Agent, path: string, fields: Record<string, string>, status: number) {
  const page = await agent.get('/admin/account').expect(200);
  return agent.post(path).type('form').send({ _csrf: csrfFrom(page.text), ...fields }).expect(status);
}

const tokenOf = (html: string) => /<code class="secret"[^>]*>(herald_[A-Za-z0-9_-]{43})<\/code>/.exec(html)?.[1];

describe('the account page', () => {
  it('shows who you are, your role and what it allows, and only roles up to yours for a token', async () => {
    const agent = await logInAs('editor');
    const page = await agent.get('/admin/account').expect(200);
    expect(page.text).toContain('editor@example.com');
    expect(page.text).toContain('Writes and previews drafts and sends tests');
    const options = [...page.text.matchAll(/<option value="(\w+)"/g)].map((m) => m[1]);
    expect(options).toEqual(['viewer', 'editor']);
  });

  it('is open to every role, and refuses everyone without a session', async () => {
    const agent = await logInAs('viewer');
    await agent.get('/admin/account').expect(200);
    await request(web.app).get('/admin/account').expect(303).expect('Location', '/admin/login');
  });

  it('changes the password, keeping this browser logged in and ending the other sessions', async () => {
    const agent = await loggedInAgent(web.app);
    const elsewhere = await loggedInAgent(web.app);
    const newPassword = 'an entirely new passphrase';

    for (const [fields, field] of [
      [{ current: 'not it at all', password: newPassword, confirm: newPassword }, 'current'],
      [{ current: adminPassword, password: 'short', confirm: 'short' }, 'password'],
      [{ current: adminPassword, password: newPassword, confirm: `${newPassword}!` }, 'confirm'],
      [{ current: '', password: newPassword, confirm: newPassword }, 'current'],
    ] as const) {
      const res = await postForm(agent, '/admin/account/password', fields, 422);
      expect(res.text, field).toContain(`id="password-${field}-error"`);
    }
    const before = await web.db.user.findUniqueOrThrow({ where: { email: adminEmail } });

    const changed = await postForm(agent, '/admin/account/password', { current: adminPassword, password: newPassword, confirm: newPassword }, 303);
    expect(changed.headers.location).toBe('/admin/account?notice=password');
    const after = await web.db.user.findUniqueOrThrow({ where: { email: adminEmail } });
    expect(after.passwordHash).not.toBe(before.passwordHash);
    expect(after.passwordHash).toMatch(/^\$argon2id\$/);

    expect((await agent.get('/admin/account?notice=password').expect(200)).text).toContain('Your password is changed.');
    await elsewhere.get('/admin/account').expect(303).expect('Location', '/admin/login');
    // The new password logs in (loggedInAgent expects the redirect to /admin).
    await loggedInAgent(web.app, adminEmail, newPassword);
  });

  it('creates a token, shows it once with no-store and a curl line, and revokes it', async () => {
    const agent = await logInAs('editor');
    const created = await postForm(agent, '/admin/account/tokens', { name: 'Reporting script', role: 'viewer', expires: '' }, 201);
    expect(created.headers['cache-control']).toBe('no-store');
    const token = tokenOf(created.text);
    expect(token).toBeDefined();
    expect(created.text).toContain(`curl -H "Authorization: Bearer ${token}" http://herald.test/campaigns`);

    const row = await web.db.apiToken.findFirstOrThrow();
    expect(row).toMatchObject({ name: 'Reporting script', role: 'viewer', expiresAt: null, tokenHash: createHash('sha256').update(token!).digest('hex') });
    await request(web.app).get('/campaigns').set('Authorization', `Bearer ${token}`).expect(200);

    // Listed afterwards, by its prefix only.
    const page = await agent.get('/admin/account').expect(200);
    expect(page.text).toContain('Reporting script');
    expect(page.text).toContain(row.tokenPrefix);
    expect(page.text).not.toContain(token);

    const revoked = await postForm(agent, `/admin/account/tokens/${row.id}/revoke`, {}, 303);
    expect(revoked.headers.location).toBe('/admin/account?notice=revoked');
    await request(web.app).get('/campaigns').set('Authorization', `Bearer ${token}`).expect(401);
    expect((await web.db.apiToken.findUniqueOrThrow({ where: { id: row.id } })).revokedAt).not.toBeNull();
    expect(await web.db.auditEntry.findMany({ where: { targetId: row.id }, orderBy: { id: 'asc' }, select: { action: true, actor: true } })).toEqual([
      { action: 'token.created', actor: 'editor@example.com' },
      { action: 'token.revoked', actor: 'editor@example.com' },
    ]);
  });

  it('refuses a role above yours, a past or far expiry and a missing name, keeping what was typed', async () => {
    const agent = await logInAs('editor');
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    for (const [fields, field] of [
      [{ name: 'x', role: 'admin', expires: '' }, 'role'],
      [{ name: 'x', role: 'root', expires: '' }, 'role'],
      [{ name: '', role: 'viewer', expires: '' }, 'name'],
      [{ name: 'x', role: 'viewer', expires: '2020-01-01' }, 'expires'],
      [{ name: 'x', role: 'viewer', expires: '2099-01-01' }, 'expires'],
      [{ name: 'x', role: 'viewer', expires: 'soon' }, 'expires'],
    ] as const) {
      const res = await postForm(agent, '/admin/account/tokens', fields, 422);
      expect(res.text, JSON.stringify(fields)).toContain(`id="token-${field}-error"`);
      if (fields.name) expect(res.text).toContain(`id="token-name" name="name" type="text" required maxlength="100" autocomplete="off" placeholder="Deploy pipeline" value="${fields.name}"`);
    }
    expect(await web.db.apiToken.count()).toBe(0);
    await postForm(agent, '/admin/account/tokens', { name: 'Short-lived', role: 'editor', expires: tomorrow }, 201);
    expect((await web.db.apiToken.findFirstOrThrow()).expiresAt?.toISOString()).toBe(`${tomorrow}T00:00:00.000Z`);
  });

  it('will not revoke someone else’s token from the page unless an owner asks', async () => {
    const editor = await logInAs('editor');
    await postForm(editor, '/admin/account/tokens', { name: 'mine', role: 'viewer', expires: '' }, 201);
    const row = await web.db.apiToken.findFirstOrThrow();
    await web.db.user.create({ data: { email: 'viewer@example.com', role: 'viewer', passwordHash: await hashPassword(password) } });
    const viewer = await loggedInAgent(web.app, 'viewer@example.com', password);
    await postForm(viewer, `/admin/account/tokens/${row.id}/revoke`, {}, 404);
    expect((await web.db.apiToken.findUniqueOrThrow({ where: { id: row.id } })).revokedAt).toBeNull();
  });

  it('refuses every form without its CSRF token, changing nothing', async () => {
    const agent = await loggedInAgent(web.app);
    const before = await web.db.user.findUniqueOrThrow({ where: { email: adminEmail } });
    await agent.post('/admin/account/password').type('form').send({ current: adminPassword, password: 'an entirely new passphrase', confirm: 'an entirely new passphrase' }).expect(403);
    await agent.post('/admin/account/tokens').type('form').send({ _csrf: 'forged', name: 'x', role: 'viewer', expires: '' }).expect(403);
    await postForm(agent, '/admin/account/tokens', { name: 'kept', role: 'viewer', expires: '' }, 201);
    const row = await web.db.apiToken.findFirstOrThrow();
    await agent.post(`/admin/account/tokens/${row.id}/revoke`).type('form').send({}).expect(403);
    expect((await web.db.user.findUniqueOrThrow({ where: { email: adminEmail } })).passwordHash).toBe(before.passwordHash);
    expect(await web.db.apiToken.count()).toBe(1);
    expect((await web.db.apiToken.findUniqueOrThrow({ where: { id: row.id } })).revokedAt).toBeNull();
  });
});
