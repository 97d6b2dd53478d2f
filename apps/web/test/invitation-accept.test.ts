/**
 * Taking up an invitation: the link's page, choosing a password, and the refusals (a link used
 * twice, expired, replaced, wrong, or for a disabled user). The token is made here as the worker
 * makes it, and only its SHA-256 stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { csrfFrom } from '../../../test/support/admin.js';
import { useWebHarness } from '../../../test/support/web.js';
import { ensureFirstOwner } from '../src/team/first-owner.js';
import { passwordMatches } from '../src/team/passwords.js';

const web = useWebHarness({ NEWSLETTER_NAME: 'The Weekly Herald' });
const newPassword = 'a brand new password for me';

/** An invited user whose invitation the worker has emailed: returns the link's token. */
async function invited(role: 'viewer' | 'editor' | 'admin' | 'owner' = 'editor', expiresInMs = 60 * 60 * 1000) {
  const token = randomBytes(32).toString('base64url');
  const user = await web.db.user.create({
    data: {
      email: `invited-${role}@example.com`,
      name: 'Grace',
      role,
      invitedAt: new Date(),
      inviteTokenHash: createHash('sha256').update(token).digest('hex'),
      inviteExpiresAt: new Date(Date.now() + expiresInMs),
    },
  });
  return { token, user, path: `/admin/invitations/${token}` };
}

async function submit(agent: ReturnType<typeof request.agent>, path: string, fields: Record<string, string>) {
  const page = await agent.get(path).expect(200);
  return agent.post(path).type('form').send({ _csrf: csrfFrom(page.text), ...fields });
}

beforeEach(async () => {
  await ensureFirstOwner(web.db, web.config);
});

describe('an invitation link', () => {
  it('shows who joins what, as which role, with a name and two password fields', async () => {
    const { path } = await invited('editor');
    const page = await request(web.app).get(path).expect(200);
    expect(page.text).toContain('Join The Weekly Herald as an editor');
    expect(page.text).toContain('invited-editor@example.com');
    expect(page.text).toContain('name="password"');
    expect(page.text).toContain('name="passwordAgain"');
    expect(page.text).toContain('value="Grace"');
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('sets the password, records the join, logs in and lands on /admin as the new role', async () => {
    const { path, user } = await invited('viewer');
    const agent = request.agent(web.app);
    const joined = await submit(agent, path, { name: 'Grace Hopper', password: newPassword, passwordAgain: newPassword });
    expect(joined.status).toBe(303);
    expect(joined.headers.location).toBe('/admin');
    const row = await web.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row).toMatchObject({ name: 'Grace Hopper', inviteTokenHash: null, inviteExpiresAt: null });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await passwordMatches(row.passwordHash, newPassword)).toBe(true);
    const entry = await web.db.auditEntry.findFirstOrThrow({ where: { action: 'user.joined' } });
    expect(entry).toMatchObject({ actorUserId: user.id, targetId: user.id, details: { role: 'viewer' } });

    const home = await agent.get('/admin').expect(200);
    expect(home.text).toContain('invited-viewer@example.com');
    // A viewer: no team link, and the team page refused.
    expect(home.text).not.toContain('href="/admin/users"');
    await agent.get('/admin/users').expect(403);
    // The password works at the login page too.
    const again = request.agent(web.app);
    const login = await again.get('/admin/login').expect(200);
    await again.post('/admin/login').type('form').send({ _csrf: csrfFrom(login.text), email: 'invited-viewer@example.com', password: newPassword }).expect(303).expect('Location', '/admin');
  });

  it('refuses a link used twice', async () => {
    const { path, token } = await invited();
    // Two browsers with the page open: the first to submit joins, the second is refused.
    const first = request.agent(web.app);
    const second = request.agent(web.app);
    const firstCsrf = csrfFrom((await first.get(path).expect(200)).text);
    const secondCsrf = csrfFrom((await second.get(path).expect(200)).text);
    await first.post(path).type('form').send({ _csrf: firstCsrf, name: 'G', password: newPassword, passwordAgain: newPassword }).expect(303);
    const refused = await second.post(path).type('form').send({ _csrf: secondCsrf, name: 'Mallory', password: 'another long password', passwordAgain: 'another long password' });
    expect(refused.status).toBe(404);
    expect(refused.text).toContain('This invitation link does not work');
    await request(web.app).get(`/admin/invitations/${token}`).expect(404);
    const row = await web.db.user.findFirstOrThrow({ where: { email: 'invited-editor@example.com' } });
    expect(row.name).toBe('G');
    expect(await passwordMatches(row.passwordHash, newPassword)).toBe(true);
  });

  it('refuses an expired link with 410, and sets no password', async () => {
    const { path, user } = await invited('editor', 60_000);
    const agent = request.agent(web.app);
    const page = await agent.get(path).expect(200);
    await web.db.user.update({ where: { id: user.id }, data: { inviteExpiresAt: new Date(Date.now() - 1000) } });
    const late = await agent.post(path).type('form').send({ _csrf: csrfFrom(page.text), name: 'G', password: newPassword, passwordAgain: newPassword });
    expect(late.status).toBe(410);
    expect(late.text).toContain('This invitation has expired');
    const shown = await request(web.app).get(path).expect(410);
    expect(shown.text).toContain('Ask an owner');
    expect((await web.db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).toBeNull();
  });

  it('refuses a wrong or malformed token with 404', async () => {
    await invited();
    for (const token of [randomBytes(32).toString('base64url'), 'short', 'x'.repeat(500)]) {
      const page = await request(web.app).get(`/admin/invitations/${token}`).expect(404);
      expect(page.text).toContain('This invitation link does not work');
    }
  });

  it('refuses the link of a user disabled since, and one replaced by a resend', async () => {
    const { path, user } = await invited();
    await web.db.user.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
    await request(web.app).get(path).expect(404);
    await web.db.user.update({ where: { id: user.id }, data: { disabledAt: null, inviteTokenHash: null, inviteExpiresAt: null } });
    await request(web.app).get(path).expect(404);
  });

  it('re-renders with the message for a password too short or two that differ, and changes nothing', async () => {
    const { path, user } = await invited();
    const agent = request.agent(web.app);
    const short = await submit(agent, path, { name: 'Grace', password: 'too short', passwordAgain: 'too short' });
    expect(short.status).toBe(422);
    expect(short.text).toContain('must be at least 12 characters');
    expect(short.text).toContain('Join');
    const differ = await submit(agent, path, { name: 'Grace', password: newPassword, passwordAgain: `${newPassword}!` });
    expect(differ.status).toBe(422);
    expect(differ.text).toContain('the two passwords differ');
    const row = await web.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.passwordHash).toBeNull();
    expect(row.inviteTokenHash).not.toBeNull();
  });

  it('refuses a submission without the CSRF token', async () => {
    const { path, user } = await invited();
    const agent = request.agent(web.app);
    await agent.get(path).expect(200);
    const refused = await agent.post(path).type('form').send({ name: 'G', password: newPassword, passwordAgain: newPassword });
    expect(refused.status).toBe(403);
    expect((await web.db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).toBeNull();
  });
});
