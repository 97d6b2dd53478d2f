import { createHash } from 'node:crypto';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { adminToken, useWebHarness } from '../../../test/support/web.js';
import { createApiToken } from '../src/team/api-tokens.js';
import { hashPassword } from '../src/team/passwords.js';
import type { Role } from '../src/team/roles.js';

const web = useWebHarness();

// One owner who can log in must always remain (a trigger says so), so the users demoted or
// disabled here are never the last.
beforeEach(async () => {
  await makeUser('first-owner@example.com', 'owner');
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function makeUser(email: string, role: Role) {
  return web.db.user.create({ data: { email, role, passwordHash: await hashPassword('a long enough password') } });
}

/** A user of the given role and a token of theirs with the same role, made as the account page does. */
async function userWithToken(email: string, role: Role, tokenRole: Role = role) {
  const user = await makeUser(email, role);
  const { row, token } = await createApiToken(web.db, user.id, { name: 'setup', role: tokenRole });
  return { user, token, tokenId: row.id };
}

const inAYear = () => new Date(Date.now() + 365 * 86_400_000).toISOString();

describe('personal API tokens', () => {
  it('shows a new token once, keeps only its SHA-256, and lets it be used as a bearer token', async () => {
    const { user, token } = await userWithToken('ada@example.com', 'admin');
    const expiresAt = inAYear();
    const res = await request(web.app).post('/tokens').set(bearer(token)).send({ name: '  deploy pipeline ', role: 'editor', expiresAt }).expect(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ name: 'deploy pipeline', role: 'editor', expiresAt, revokedAt: null, lastUsedAt: null });
    expect(res.body.token).toMatch(/^herald_[A-Za-z0-9_-]{43}$/);
    expect(res.body.prefix).toBe(res.body.token.slice(0, 13));

    const row = await web.db.apiToken.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row.userId).toBe(user.id);
    expect(row.tokenHash).toBe(createHash('sha256').update(res.body.token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(res.body.token.slice(7));

    // Used: an editor reads campaigns, and its use is recorded.
    await request(web.app).get('/campaigns').set(bearer(res.body.token)).expect(200);
    const used = await web.db.apiToken.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(used.lastUsedAt).not.toBeNull();
    expect(used.lastUsedFrom).toMatch(/127\.0\.0\.1/);

    // Listed, never with the token itself.
    const list = await request(web.app).get('/tokens').set(bearer(res.body.token)).expect(200);
    expect(list.body.tokens.map((t: { name: string }) => t.name)).toEqual(['deploy pipeline', 'setup']);
    expect(JSON.stringify(list.body)).not.toContain(res.body.token);
    expect(list.body.tokens[0].lastUsedAt).not.toBeNull();

    const audit = await web.db.auditEntry.findFirstOrThrow({ where: { action: 'token.created' } });
    expect(audit).toMatchObject({ actorUserId: user.id, targetType: 'token', targetId: res.body.id, targetLabel: 'deploy pipeline', actor: 'ada@example.com (token setup)' });
  });

  it('lists only the caller’s own tokens, in use first and revoked after', async () => {
    const { token, user } = await userWithToken('ada@example.com', 'editor');
    const old = await createApiToken(web.db, user.id, { name: 'old', role: 'viewer' });
    await web.db.apiToken.update({ where: { id: old.row.id }, data: { revokedAt: new Date() } });
    await createApiToken(web.db, user.id, { name: 'newer', role: 'viewer' });
    await userWithToken('grace@example.com', 'owner');
    const res = await request(web.app).get('/tokens').set(bearer(token)).expect(200);
    expect(res.body.tokens.map((t: { name: string; revokedAt: string | null }) => [t.name, t.revokedAt !== null])).toEqual([
      ['newer', false],
      ['setup', false],
      ['old', true],
    ]);
  });

  it('revokes a token so that it is refused at once, keeping it listed and audited', async () => {
    const { token, tokenId } = await userWithToken('ada@example.com', 'editor');
    const other = await request(web.app).post('/tokens').set(bearer(token)).send({ name: 'laptop', role: 'viewer' }).expect(201);
    await request(web.app).get('/campaigns').set(bearer(other.body.token)).expect(200);

    await request(web.app).delete(`/tokens/${other.body.id}`).set(bearer(token)).expect(204);
    await request(web.app).get('/campaigns').set(bearer(other.body.token)).expect(401);
    // Revoking again changes nothing and records nothing more.
    await request(web.app).delete(`/tokens/${other.body.id}`).set(bearer(token)).expect(204);

    const list = await request(web.app).get('/tokens').set(bearer(token)).expect(200);
    expect(list.body.tokens.map((t: { id: string; revokedAt: string | null }) => [t.id, t.revokedAt !== null])).toEqual([
      [tokenId, false],
      [other.body.id, true],
    ]);
    const entries = await web.db.auditEntry.findMany({ where: { action: 'token.revoked' } });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ targetId: other.body.id, targetLabel: 'laptop' });

    // A token can revoke itself.
    await request(web.app).delete(`/tokens/${tokenId}`).set(bearer(token)).expect(204);
    await request(web.app).get('/tokens').set(bearer(token)).expect(401);
  });

  it('answers 404 for someone else’s token or an unknown one, but lets an owner revoke anyone’s', async () => {
    const ada = await userWithToken('ada@example.com', 'admin');
    const grace = await userWithToken('grace@example.com', 'editor');
    const owner = await userWithToken('owner@example.com', 'owner');

    await request(web.app).delete(`/tokens/${grace.tokenId}`).set(bearer(ada.token)).expect(404);
    await request(web.app).delete('/tokens/00000000-0000-4000-8000-000000000000').set(bearer(ada.token)).expect(404);
    await request(web.app).delete('/tokens/not-an-id').set(bearer(ada.token)).expect(404);
    await request(web.app).get('/campaigns').set(bearer(grace.token)).expect(200);

    await request(web.app).delete(`/tokens/${grace.tokenId}`).set(bearer(owner.token)).expect(204);
    await request(web.app).get('/campaigns').set(bearer(grace.token)).expect(401);
    // ADMIN_TOKEN is the owner's too.
    await request(web.app).delete(`/tokens/${ada.tokenId}`).set(bearer(adminToken)).expect(204);
    await request(web.app).get('/campaigns').set(bearer(ada.token)).expect(401);
  });

  it('refuses an expired token and the tokens of a disabled user', async () => {
    const ada = await userWithToken('ada@example.com', 'editor');
    const grace = await userWithToken('grace@example.com', 'editor');
    await request(web.app).get('/campaigns').set(bearer(ada.token)).expect(200);
    // The check allows no expiry before creation, so the clock is moved for both.
    await web.db.$executeRaw`UPDATE api_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE id = ${ada.tokenId}::uuid`;
    await request(web.app).get('/campaigns').set(bearer(ada.token)).expect(401);

    await request(web.app).get('/campaigns').set(bearer(grace.token)).expect(200);
    await web.db.user.update({ where: { id: grace.user.id }, data: { disabledAt: new Date() } });
    await request(web.app).get('/campaigns').set(bearer(grace.token)).expect(401);
  });

  it('refuses a role above the caller’s with 403, creating nothing', async () => {
    const { token } = await userWithToken('ada@example.com', 'editor');
    const res = await request(web.app).post('/tokens').set(bearer(token)).send({ name: 'too much', role: 'admin' }).expect(403);
    expect(res.body.error.code).toBe('forbidden');
    // A token below its user's role cannot mint one above itself either.
    const owner = await userWithToken('owner@example.com', 'owner', 'viewer');
    await request(web.app).post('/tokens').set(bearer(owner.token)).send({ name: 'escalate', role: 'editor' }).expect(403);
    await request(web.app).post('/tokens').set(bearer(owner.token)).send({ name: 'same', role: 'viewer' }).expect(201);
    expect(await web.db.apiToken.count()).toBe(3);
  });

  it('acts with the lower of the token’s role and the user’s current role once the user is demoted', async () => {
    const { user, token } = await userWithToken('ada@example.com', 'admin');
    await request(web.app).get('/audit').set(bearer(token)).expect(200);
    await web.db.user.update({ where: { id: user.id }, data: { role: 'viewer' } });
    await request(web.app).get('/audit').set(bearer(token)).expect(403);
    await request(web.app).get('/campaigns').set(bearer(token)).expect(200);
    // And the ceiling for new tokens follows.
    await request(web.app).post('/tokens').set(bearer(token)).send({ name: 'x', role: 'editor' }).expect(403);
  });

  it('answers bad bodies with 4xx naming the field, creating nothing', async () => {
    const { token } = await userWithToken('ada@example.com', 'owner');
    const post = (body: unknown) => request(web.app).post('/tokens').set(bearer(token)).send(body as object);
    const past = new Date(Date.now() - 60_000).toISOString();
    const tooFar = new Date(Date.now() + 6 * 365 * 86_400_000).toISOString();
    for (const [body, field] of [
      [{ role: 'viewer' }, 'name'],
      [{ name: '   ', role: 'viewer' }, 'name'],
      [{ name: 'x'.repeat(101), role: 'viewer' }, 'name'],
      [{ name: 'ok', role: 'superuser' }, 'role'],
      [{ name: 'ok' }, 'role'],
      [{ name: 'ok', role: 'viewer', expiresAt: past }, 'expiresAt'],
      [{ name: 'ok', role: 'viewer', expiresAt: tooFar }, 'expiresAt'],
      [{ name: 'ok', role: 'viewer', expiresAt: 'tomorrow' }, 'expiresAt'],
      [{ name: 'ok', role: 'viewer', userId: 'someone' }, 'userId'],
    ] as const) {
      const res = await post(body).expect(422);
      expect(res.body.error.fields, JSON.stringify(body)).toHaveProperty(field);
    }
    await post('[1,2]').type('json').expect(422);
    await request(web.app).post('/tokens').set(bearer(token)).type('json').send('{"name":').expect(400);
    await request(web.app).post('/tokens').set(bearer(token)).type('form').send('name=x&role=viewer').expect(415);
    expect(await web.db.apiToken.count()).toBe(1);
    expect(await web.db.auditEntry.count({ where: { action: 'token.created' } })).toBe(0);
  });

  it('answers 409 to ADMIN_TOKEN, which belongs to no user, and 401 without a token', async () => {
    const res = await request(web.app).post('/tokens').set(bearer(adminToken)).send({ name: 'bootstrap', role: 'owner' }).expect(409);
    expect(res.body.error.message).toMatch(/belongs to no user/);
    await request(web.app).get('/tokens').set(bearer(adminToken)).expect(409);
    await request(web.app).get('/tokens').expect(401);
    expect(await web.db.apiToken.count()).toBe(0);
  });
});
