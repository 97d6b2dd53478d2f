import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { seedSubscribers } from '../../../test/support/factories.js';
import { deleteKeys } from '../../../test/support/redis.js';
import { adminEmail, adminPassword, adminToken, useWebHarness } from '../../../test/support/web.js';
import { hashPassword } from '../src/team/passwords.js';

const web = useWebHarness();

async function loginForm() {
  const agent = request.agent(web.app);
  const page = await agent.get('/admin/login').expect(200);
  return { agent, page, csrf: csrfFrom(page.text) };
}

describe('an installation upgraded from one shared password', () => {
  it('logs in with ADMIN_PASSWORD as the owner the login makes, named on the page until then', async () => {
    // What an upgrade leaves: people and campaigns, and no user yet.
    await seedSubscribers(web.db, [{ email: 'reader@example.com' }]);
    expect(await web.db.user.count()).toBe(0);
    const { agent, page, csrf } = await loginForm();
    expect(page.text).toContain(adminEmail);
    await agent.post('/admin/login').type('form').send({ _csrf: csrf, email: adminEmail, password: adminPassword }).expect(303).expect('Location', '/admin');
    const [owner, ...others] = await web.db.user.findMany();
    expect(others).toEqual([]);
    expect(owner).toMatchObject({ email: adminEmail, role: 'owner', disabledAt: null });
    expect(owner!.passwordHash).toMatch(/^\$argon2id\$/);
    expect(owner!.lastLoginAt).not.toBeNull();
    // The session names its user; the hint is gone once someone has logged in.
    expect((await agent.get('/admin').expect(200)).text).toContain(`${adminEmail} · owner`);
    expect((await request(web.app).get('/admin/login').expect(200)).text).not.toContain('First login');
  });

  it('keeps ADMIN_TOKEN working as the owner, before and after the first login', async () => {
    await request(web.app).get('/campaigns').set('Authorization', `Bearer ${adminToken}`).expect(200);
    await request(web.app).get('/webhook-endpoints').set('Authorization', `Bearer ${adminToken}`).expect(200);
    expect(await web.db.user.count()).toBe(0);
    await loggedInAgent(web.app);
    await request(web.app).get('/webhook-endpoints').set('Authorization', `Bearer ${adminToken}`).expect(200);
  });

  it('reads ADMIN_PASSWORD only while there is no user: afterwards the password is the owner’s own', async () => {
    await web.db.user.create({ data: { email: 'first@example.com', role: 'owner', passwordHash: await hashPassword('her own password 123') } });
    const { agent, csrf } = await loginForm();
    await agent.post('/admin/login').type('form').send({ _csrf: csrf, email: adminEmail, password: adminPassword }).expect(401);
    await agent.post('/admin/login').type('form').send({ _csrf: csrf, email: 'First@Example.com', password: 'her own password 123' }).expect(303);
    expect(await web.db.user.count()).toBe(1);
  });
});

describe('the per-account login lock', () => {
  it('locks an account after five wrong passwords, whatever the address, and leaves other accounts alone', async () => {
    await loggedInAgent(web.app);
    await web.db.user.create({ data: { email: 'editor@example.com', role: 'editor', passwordHash: await hashPassword('the editor password') } });
    const { agent, csrf } = await loginForm();
    for (let attempt = 1; attempt <= 5; attempt++) {
      await agent.post('/admin/login').type('form').send({ _csrf: csrf, email: adminEmail, password: `guess ${attempt}` }).expect(401);
      // Each guess as if from a new address: the per-address throttle never fills.
      await deleteKeys(`${web.config.queuePrefix}:auth-failures`);
    }
    const locked = await agent.post('/admin/login').type('form').send({ _csrf: csrf, email: adminEmail, password: adminPassword }).expect(429);
    expect(locked.text).toContain('Too many wrong passwords for this account');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
    await agent.post('/admin/login').type('form').send({ _csrf: csrf, email: 'editor@example.com', password: 'the editor password' }).expect(303);

    const failed = await web.db.auditEntry.findMany({ where: { action: 'login.failed' }, orderBy: { id: 'asc' } });
    expect(failed).toHaveLength(6);
    expect(failed.every((entry) => entry.actor === adminEmail && entry.address)).toBe(true);
    expect(failed.at(-1)!.details).toEqual({ reason: 'locked' });
    // The lock ends with its window.
    await web.db.user.update({ where: { email: adminEmail }, data: { failedLoginsSince: new Date(Date.now() - 16 * 60 * 1000) } });
    const later = await loginForm();
    await later.agent.post('/admin/login').type('form').send({ _csrf: later.csrf, email: adminEmail, password: adminPassword }).expect(303);
    expect((await web.db.user.findUniqueOrThrow({ where: { email: adminEmail } })).failedLogins).toBe(0);
  });

  it('answers an unknown email, a disabled user and an invitation not taken up as a wrong password', async () => {
    await loggedInAgent(web.app);
    const hash = await hashPassword('a disabled password');
    await web.db.user.create({ data: { email: 'gone@example.com', role: 'admin', passwordHash: hash, disabledAt: new Date() } });
    await web.db.user.create({ data: { email: 'invited@example.com', role: 'viewer', invitedAt: new Date() } });
    const { agent, csrf } = await loginForm();
    for (const [email, password] of [['nobody@example.com', adminPassword], ['gone@example.com', 'a disabled password'], ['invited@example.com', '']]) {
      const res = await agent.post('/admin/login').type('form').send({ _csrf: csrf, email, password }).expect(401);
      expect(res.text).toContain('That email and password do not match.');
    }
  });

  it('gives a new session id at login, so a session fixed before it is worth nothing', async () => {
    const { agent, page, csrf } = await loginForm();
    const sessionCookie = (res: request.Response) =>
      ([res.headers['set-cookie'] ?? []].flat() as string[]).find((c) => c.startsWith('herald_admin='))?.split(';')[0]!.slice('herald_admin='.length);
    const before = sessionCookie(page);
    const after = sessionCookie(await agent.post('/admin/login').type('form').send({ _csrf: csrf, email: adminEmail, password: adminPassword }).expect(303));
    expect(before).toBeDefined();
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const sid = (value: string) => JSON.parse(Buffer.from(value, 'base64').toString()).sid as string;
    expect(sid(after!)).not.toBe(sid(before!));
  });
});
