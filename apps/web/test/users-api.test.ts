/**
 * The team API: inviting (a user with no password and an invitation job), listing, changing roles,
 * disabling (which stops the user's session and tokens on their next request), removing, resending,
 * and the one rule the database keeps: an owner who can log in always remains.
 */
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { invitationJobId, jobs } from '@herald/shared';
import { loggedInAgent } from '../../../test/support/admin.js';
import { makeUser } from '../../../test/support/team.js';
import { adminToken, useWebHarness } from '../../../test/support/web.js';
import { ensureFirstOwner } from '../src/team/first-owner.js';

const web = useWebHarness();
const api = (token = adminToken) => ({
  get: (path: string) => request(web.app).get(path).set('Authorization', `Bearer ${token}`),
  post: (path: string, body?: object) => {
    const req = request(web.app).post(path).set('Authorization', `Bearer ${token}`);
    return body === undefined ? req : req.send(body);
  },
  patch: (path: string, body: object | string) => request(web.app).patch(path).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(body),
  delete: (path: string) => request(web.app).delete(path).set('Authorization', `Bearer ${token}`),
});

const firstOwner = () => web.db.user.findFirstOrThrow({ where: { role: 'owner' }, orderBy: { createdAt: 'asc' } });

async function invite(body: object = { email: 'Grace@Example.com', name: 'Grace', role: 'editor' }) {
  return (await api().post('/users', body).expect(201)).body as { id: string; email: string };
}

async function invitationJob(userId: string) {
  const queued = await web.queues.confirmations.getJobs(['waiting', 'delayed', 'prioritized']);
  return queued.filter((job) => job.name === jobs.sendInvitation.name && (job.data as { userId: string }).userId === userId);
}

const auditActions = async () => (await web.db.auditEntry.findMany({ orderBy: { id: 'asc' } })).map((entry) => entry.action);

beforeEach(async () => {
  // The boot does this in production: a team always has its first owner.
  await ensureFirstOwner(web.db, web.config);
});

describe('inviting', () => {
  it('makes an invited user without a password and enqueues their invitation email', async () => {
    const created = await api().post('/users', { email: '  Grace@Example.com ', name: 'Grace', role: 'editor' }).expect(201);
    expect(created.body).toMatchObject({ email: 'grace@example.com', name: 'Grace', role: 'editor', status: 'invited', lastLoginAt: null });
    const row = await web.db.user.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.passwordHash).toBeNull();
    expect(row.invitedAt).not.toBeNull();
    expect(row.inviteTokenHash).toBeNull();
    const [job, ...others] = await invitationJob(row.id);
    expect(others).toHaveLength(0);
    expect(job!.id).toBe(invitationJobId(row.id, row.invitedAt!));
    expect(job!.data).toEqual({ userId: row.id });
    const entry = await web.db.auditEntry.findFirstOrThrow({ where: { action: 'user.invited' } });
    expect(entry).toMatchObject({ actor: 'ADMIN_TOKEN', targetType: 'user', targetId: row.id, targetLabel: 'grace@example.com' });
  });

  it('answers 409 for an email already on the team, whatever its case, and adds no one', async () => {
    await invite();
    const taken = await api().post('/users', { email: 'GRACE@example.com', role: 'viewer' }).expect(409);
    expect(taken.body.error.code).toBe('conflict');
    const owner = await firstOwner();
    await api().post('/users', { email: owner.email, role: 'viewer' }).expect(409);
    expect(await web.db.user.count()).toBe(2);
  });

  it.each([
    ['no email', { role: 'editor' }, 'email'],
    ['a malformed email', { email: 'not-an-address', role: 'editor' }, 'email'],
    ['an unknown role', { email: 'x@example.com', role: 'superuser' }, 'role'],
    ['no role', { email: 'x@example.com' }, 'role'],
    ['a name too long', { email: 'x@example.com', role: 'viewer', name: 'n'.repeat(201) }, 'name'],
    ['an unknown field', { email: 'x@example.com', role: 'viewer', password: 'sneaky' }, 'password'],
  ])('refuses %s with 422 naming the field, and changes nothing', async (_what, body, field) => {
    const refused = await api().post('/users', body).expect(422);
    expect(refused.body.error.code).toBe('invalid_request');
    expect(Object.keys(refused.body.error.fields)).toContain(field);
    expect(await web.db.user.count()).toBe(1);
  });

  it('refuses a body that is not JSON, and changes nothing', async () => {
    await api().post('/users').set('Content-Type', 'application/json').send('{"email":').expect(400);
    await api().post('/users').type('form').send({ email: 'x@example.com', role: 'viewer' }).expect(415);
    expect(await web.db.user.count()).toBe(1);
  });
});

describe('the team', () => {
  it('lists everyone with their status, owners first', async () => {
    const grace = await invite();
    const { user: viewer } = await makeUser(web.db, 'viewer', 'ann@example.com');
    await web.db.user.update({ where: { id: viewer.id }, data: { disabledAt: new Date() } });
    const listed = await api().get('/users').expect(200);
    const owner = await firstOwner();
    expect(listed.body.users.map((user: { email: string; status: string }) => [user.email, user.status])).toEqual([
      [owner.email, 'active'],
      ['grace@example.com', 'invited'],
      ['ann@example.com', 'disabled'],
    ]);
    expect(listed.body.users[1]).toMatchObject({ id: grace.id, role: 'editor', name: 'Grace' });
  });
});

describe('changing a user', () => {
  it('changes the role and records it', async () => {
    const { user } = await makeUser(web.db, 'viewer');
    const changed = await api().patch(`/users/${user.id}`, { role: 'admin' }).expect(200);
    expect(changed.body).toMatchObject({ id: user.id, role: 'admin', status: 'active' });
    const entry = await web.db.auditEntry.findFirstOrThrow({ where: { action: 'user.role_changed' } });
    expect(entry.details).toEqual({ from: 'viewer', to: 'admin' });
  });

  it('disabling stops an open session and an API token on their next request; enabling lets both back', async () => {
    const { user, token, email, password } = await makeUser(web.db, 'admin');
    const agent = await loggedInAgent(web.app, email, password);
    await agent.get('/admin/campaigns').expect(200);
    await api(token).get('/campaigns').expect(200);

    const disabled = await api().patch(`/users/${user.id}`, { disabled: true }).expect(200);
    expect(disabled.body.status).toBe('disabled');
    await agent.get('/admin/campaigns').expect(303).expect('Location', '/admin/login');
    await api(token).get('/campaigns').expect(401);
    expect(await auditActions()).toContain('user.disabled');

    await api().patch(`/users/${user.id}`, { disabled: false }).expect(200);
    await agent.get('/admin/campaigns').expect(200);
    await api(token).get('/campaigns').expect(200);
    expect(await auditActions()).toContain('user.enabled');
  });

  it.each([
    ['an empty body', {}],
    ['an unknown role', { role: 'root' }],
    ['a non-boolean disabled', { disabled: 'yes' }],
    ['an unknown field', { email: 'new@example.com' }],
  ])('refuses %s with 422 and changes nothing', async (_what, body) => {
    const { user } = await makeUser(web.db, 'viewer');
    const refused = await api().patch(`/users/${user.id}`, body).expect(422);
    expect(refused.body.error.code).toBe('invalid_request');
    expect(await web.db.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ role: 'viewer', disabledAt: null, email: user.email });
  });

  it('answers 404 for an unknown or malformed id', async () => {
    await api().patch('/users/00000000-0000-4000-8000-000000000000', { role: 'viewer' }).expect(404);
    await api().patch('/users/nope', { role: 'viewer' }).expect(404);
    await api().delete('/users/00000000-0000-4000-8000-000000000000').expect(404);
    await api().post('/users/00000000-0000-4000-8000-000000000000/invitation').expect(404);
  });
});

describe('the last owner', () => {
  it('cannot be demoted, disabled or removed: 409 with the reason, and nothing changes', async () => {
    const owner = await firstOwner();
    for (const attempt of [
      () => api().patch(`/users/${owner.id}`, { role: 'admin' }),
      () => api().patch(`/users/${owner.id}`, { disabled: true }),
      () => api().delete(`/users/${owner.id}`),
    ]) {
      const refused = await attempt().expect(409);
      expect(refused.body.error).toEqual({ code: 'invalid_state', message: expect.stringContaining('At least one enabled owner') });
    }
    expect(await web.db.user.findUniqueOrThrow({ where: { id: owner.id } })).toMatchObject({ role: 'owner', disabledAt: null });
    expect(await auditActions()).toEqual([]);
  });

  it('can be demoted once another owner can log in, but an invited owner does not count', async () => {
    const owner = await firstOwner();
    await invite({ email: 'future-owner@example.com', role: 'owner' });
    await api().patch(`/users/${owner.id}`, { role: 'admin' }).expect(409);
    await makeUser(web.db, 'owner');
    await api().patch(`/users/${owner.id}`, { role: 'admin' }).expect(200);
  });
});

describe('removing', () => {
  it('removes the user with their tokens and keeps the audit entries', async () => {
    const { user, token } = await makeUser(web.db, 'editor');
    await api().delete(`/users/${user.id}`).expect(204);
    expect(await web.db.user.findUnique({ where: { id: user.id } })).toBeNull();
    expect(await web.db.apiToken.count({ where: { userId: user.id } })).toBe(0);
    await api(token).get('/campaigns').expect(401);
    const entry = await web.db.auditEntry.findFirstOrThrow({ where: { action: 'user.removed' } });
    expect(entry).toMatchObject({ targetId: user.id, targetLabel: user.email });
  });
});

describe('resending an invitation', () => {
  it('enqueues a new job and clears the emailed token, so the old link stops working', async () => {
    const grace = await invite();
    await web.db.user.update({ where: { id: grace.id }, data: { inviteTokenHash: 'a'.repeat(64), inviteExpiresAt: new Date(Date.now() + 60_000) } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await api().post(`/users/${grace.id}/invitation`).expect(202);
    const row = await web.db.user.findUniqueOrThrow({ where: { id: grace.id } });
    expect(row).toMatchObject({ inviteTokenHash: null, inviteExpiresAt: null });
    const queued = await invitationJob(grace.id);
    expect(queued.map((job) => job.id).sort()).toContain(invitationJobId(grace.id, row.invitedAt!));
    expect(queued).toHaveLength(2);
  });

  it('answers 409 for someone who joined, or is disabled', async () => {
    const { user } = await makeUser(web.db, 'viewer');
    await api().post(`/users/${user.id}/invitation`).expect(409);
    const grace = await invite();
    await api().patch(`/users/${grace.id}`, { disabled: true }).expect(200);
    await api().post(`/users/${grace.id}/invitation`).expect(409);
  });
});

describe('roles other than owner', () => {
  it.each(['viewer', 'editor', 'admin'] as const)('%s gets 403 on every team route, and nothing changes', async (role) => {
    const { token } = await makeUser(web.db, role);
    const { user: target } = await makeUser(web.db, 'viewer');
    const as = api(token);
    for (const answer of await Promise.all([
      as.get('/users'),
      as.post('/users', { email: 'sneak@example.com', role: 'owner' }),
      as.patch(`/users/${target.id}`, { role: 'owner' }),
      as.patch(`/users/${target.id}`, { disabled: true }),
      as.delete(`/users/${target.id}`),
      as.post(`/users/${target.id}/invitation`),
    ])) {
      expect(answer.status).toBe(403);
      expect(answer.body.error.code).toBe('forbidden');
    }
    expect(await web.db.user.findUniqueOrThrow({ where: { id: target.id } })).toMatchObject({ role: 'viewer', disabledAt: null });
    expect(await web.db.user.count({ where: { email: 'sneak@example.com' } })).toBe(0);
    expect(await auditActions()).toEqual([]);
  });

  it('an owner’s own token manages the team', async () => {
    const { token } = await makeUser(web.db, 'owner');
    await api(token).get('/users').expect(200);
    await api(token).post('/users', { email: 'by-token@example.com', role: 'viewer' }).expect(201);
    const entry = await web.db.auditEntry.findFirstOrThrow({ where: { action: 'user.invited' } });
    expect(entry.actor).toMatch(/^owner-\d+@herald\.test \(token tests\)$/);
  });
});

describe('two owners at the same moment', () => {
  it.each(['remove', 'disable', 'demote'] as const)('each trying to %s the other leave exactly one owner, every time', async (how) => {
    for (let round = 0; round < 5; round++) {
      await web.db.$executeRawUnsafe('TRUNCATE audit_entries, api_tokens, users CASCADE');
      const a = await makeUser(web.db, 'owner');
      const b = await makeUser(web.db, 'owner');
      const act = (actor: typeof a, target: typeof b) =>
        how === 'remove' ? api(actor.token).delete(`/users/${target.user.id}`) : api(actor.token).patch(`/users/${target.user.id}`, how === 'disable' ? { disabled: true } : { role: 'admin' });
      const answers = await Promise.all([act(a, b), act(b, a)]);
      const statuses = answers.map((answer) => answer.status).sort();
      // One wins. The other is refused: 409 when its check ran after the win, or 401 when the win
      // had already removed or disabled its own user (and so its token) before it was authenticated.
      expect(statuses).toHaveLength(2);
      expect(statuses[0]).toBe(how === 'remove' ? 204 : 200);
      expect([401, 409]).toContain(statuses[1]);
      const owners = await web.db.user.count({ where: { role: 'owner', disabledAt: null, passwordHash: { not: null } } });
      expect(owners).toBe(1);
    }
  });
});
