/**
 * Every guarded route of the app, read from its router (so routes added later are covered without
 * touching this file), against every role: refused with 403 exactly when the role lacks the route's
 * permission, passed on otherwise; and every route refused without valid credentials. Refused
 * requests change nothing.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Test } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { createApiToken } from '../src/team/api-tokens.js';
import { hashPassword } from '../src/team/passwords.js';
import { roleCan, roles } from '../src/team/roles.js';
import type { Role } from '../src/team/roles.js';
import { csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { campaignBody, postSend, seedSubscribers } from '../../../test/support/factories.js';
import { guardedRoutes, isPage, nonPublicRoutes, publicRouteProblems, readPermissionOnWrites, requestFor } from '../../../test/support/route-matrix.js';
import type { SeededIds } from '../../../test/support/route-matrix.js';
import { routeKey, routeTable } from '../../../test/support/route-table.js';
import type { RouteEntry } from '../../../test/support/route-table.js';
import { adminToken, createWebHarness } from '../../../test/support/web.js';
import type { WebHarness } from '../../../test/support/web.js';

type Agent = ReturnType<typeof request.agent>;
type Guarded = ReturnType<typeof guardedRoutes>[number];

const password = 'role matrix password 0123';
let web: WebHarness;
let table: RouteEntry[];
let guarded: Guarded[];
const ids: SeededIds = {};
const tokens = {} as Record<Role, string>;
const sessions = {} as Record<Role, { agent: Agent; csrf: string }>;
/** Tokens that must not work: a revoked one, an expired one, one whose user is disabled. */
const deadTokens: Record<string, string> = {};
let disabledSession: Agent;

async function makeUser(email: string, role: Role, passwordHash: string) {
  return web.db.user.create({ data: { email, role, passwordHash } });
}

beforeAll(async () => {
  // Not useWebHarness: its per-test truncation would empty the fixtures built once here.
  web = await createWebHarness();
  // The table of the app itself: web.app wraps it to check answers, which hides its router.
  table = routeTable(createApp(web));
  guarded = guardedRoutes(table);

  const passwordHash = await hashPassword(password);
  // The owner first: the users table refuses any change while no owner could log in.
  for (const role of [...roles].reverse()) {
    const user = await makeUser(`${role}@matrix.test`, role, passwordHash);
    tokens[role] = (await createApiToken(web.db, user.id, { name: `${role} token`, role })).token;
    const agent = await loggedInAgent(web.app, user.email, password);
    sessions[role] = { agent, csrf: csrfFrom((await agent.get('/admin').expect(200)).text) };
  }
  const admin = await web.db.user.findUniqueOrThrow({ where: { email: 'admin@matrix.test' } });
  const revoked = await createApiToken(web.db, admin.id, { name: 'revoked', role: 'admin' });
  await web.db.apiToken.update({ where: { id: revoked.row.id }, data: { revokedAt: new Date() } });
  deadTokens.revoked = revoked.token;
  const expired = await createApiToken(web.db, admin.id, { name: 'expired', role: 'admin' });
  // The table's CHECK wants expires_at after created_at, so both go into the past.
  await web.db.$executeRaw`UPDATE api_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE id = ${expired.row.id}::uuid`;
  deadTokens.expired = expired.token;
  const leaver = await makeUser('leaver@matrix.test', 'admin', passwordHash);
  deadTokens['disabled user'] = (await createApiToken(web.db, leaver.id, { name: 'leaver', role: 'admin' })).token;
  disabledSession = await loggedInAgent(web.app, leaver.email, password);
  await disabledSession.get('/admin').expect(200);
  await web.db.user.update({ where: { id: leaver.id }, data: { disabledAt: new Date() } });

  const [subscriber] = await seedSubscribers(web.db, [{ email: 'reader@example.com', name: 'Reader' }]);
  ids.subscribers = subscriber!.id;
  ids.campaigns = (await postSend(web.app, campaignBody).expect(202)).body.campaignId as string;
  ids.tasks = (await web.db.delivery.findFirst({ where: { campaignId: ids.campaigns } }))?.id;
  ids.lists = (await web.db.list.findFirstOrThrow({ where: { isDefault: true } })).id;
  const endpoint = await web.db.webhookEndpoint.create({
    data: { url: 'https://hooks.example.com/matrix', eventTypes: ['subscriber.created'], secret: 'whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIz' },
  });
  ids['webhook-endpoints'] = endpoint.id;
  ids.webhooks = endpoint.id;
});

afterAll(async () => {
  await web?.close();
});

/** What a refused request must not have changed. Tokens' last use is left out: checking a token writes it. */
async function snapshot() {
  return web.db.$queryRaw`
    SELECT (SELECT count(*) FROM campaigns)::int AS campaigns, (SELECT max(updated_at) FROM campaigns) AS campaigns_changed,
           (SELECT string_agg(status::text, ',' ORDER BY id) FROM campaigns) AS campaign_states,
           (SELECT count(*) FROM subscribers)::int AS subscribers, (SELECT max(updated_at) FROM subscribers) AS subscribers_changed,
           (SELECT count(*) FROM subscriptions)::int AS subscriptions, (SELECT count(*) FROM lists)::int AS lists,
           (SELECT count(*) FROM segments)::int AS segments, (SELECT count(*) FROM deliveries)::int AS deliveries,
           (SELECT count(*) FROM users)::int AS users, (SELECT max(updated_at) FROM users) AS users_changed,
           (SELECT count(*) FROM api_tokens)::int AS tokens, (SELECT string_agg(id || ':' || coalesce(revoked_at::text, ''), ',' ORDER BY id) FROM api_tokens) AS token_states,
           (SELECT string_agg(id || ':' || enabled || ':' || updated_at, ',' ORDER BY id) FROM webhook_endpoints) AS webhook_endpoints`;
}

/** Wrong tokens are counted per address and every request here comes from one: start each afresh. */
async function forgetFailedAttempts() {
  const keys = await web.redis.keys(`${web.config.queuePrefix}:auth-failures:*`);
  if (keys.length > 0) await web.redis.del(...keys);
}

/** A request for the route; `refused`: one that must not pass, so it may name the seeded rows. */
function send(client: Agent | ReturnType<typeof request>, route: RouteEntry, extra: Record<string, string> = {}, refused = true): Test {
  const { method, path } = requestFor(route, ids, { seededForWrites: refused });
  const test = (client as Agent)[method.toLowerCase() as 'get'](path);
  if (isPage(route)) {
    test.set('Accept', 'text/html');
    return method === 'GET' ? test : test.type('form').send(extra);
  }
  return method === 'GET' || method === 'DELETE' ? test : test.send({});
}

const apiRoutes = () => guarded.filter((route) => !isPage(route));
const pageRoutes = () => guarded.filter(isPage);
// The credential sweeps cover unguarded routes too, so such a route fails there as well.
const allApiRoutes = () => nonPublicRoutes(table).filter((route) => !isPage(route));
const allPageRoutes = () => nonPublicRoutes(table).filter(isPage);
const passedCheck = (status: number) => status !== 401 && status !== 403;

describe('the route table', () => {
  it('has a permission on every route that is not public on purpose, and every public route listed exists', () => {
    expect(apiRoutes().length).toBeGreaterThan(30);
    expect(pageRoutes().length).toBeGreaterThan(30);
    expect(publicRouteProblems(table)).toEqual([]);
  });

  it('gives no route that changes things a read permission, which every role has', () => {
    expect(readPermissionOnWrites(table)).toEqual([]);
  });
});

describe.each(roles)('the %s role', (role) => {
  it('is refused by the API exactly where it lacks the permission, changing nothing', async () => {
    const wrong: string[] = [];
    const before = await snapshot();
    for (const route of apiRoutes().filter((r) => !roleCan(role, r.permission))) {
      const res = await send(request(web.app), route).set('Authorization', `Bearer ${tokens[role]}`);
      if (res.status !== 403 || res.body?.error?.code !== 'forbidden') wrong.push(`${routeKey(route)} (${route.permission}) -> ${res.status}, expected 403 forbidden`);
    }
    expect(await snapshot()).toEqual(before);
    for (const route of apiRoutes().filter((r) => roleCan(role, r.permission))) {
      const res = await send(request(web.app), route, {}, false).set('Authorization', `Bearer ${tokens[role]}`);
      if (!passedCheck(res.status) || res.status >= 500) wrong.push(`${routeKey(route)} (${route.permission}) -> ${res.status}, expected past the check`);
    }
    expect(wrong).toEqual([]);
  });

  it('is refused by the admin pages exactly where it lacks the permission, inside the admin layout, changing nothing', async () => {
    const { agent, csrf } = sessions[role];
    const wrong: string[] = [];
    const before = await snapshot();
    for (const route of pageRoutes().filter((r) => !roleCan(role, r.permission))) {
      const res = await send(agent, route, { _csrf: csrf });
      const explained = res.text.includes('class="admin-bar"') && res.text.includes(`(${route.permission})`);
      if (res.status !== 403 || !explained) wrong.push(`${routeKey(route)} (${route.permission}) -> ${res.status}, expected the 403 page`);
    }
    expect(await snapshot()).toEqual(before);
    for (const route of pageRoutes().filter((r) => roleCan(role, r.permission))) {
      const res = await send(agent, route, { _csrf: csrf }, false);
      if (!passedCheck(res.status) || res.status >= 500) wrong.push(`${routeKey(route)} (${route.permission}) -> ${res.status}, expected past the check`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('without valid credentials', () => {
  it('every API route answers 401, changing nothing; ADMIN_TOKEN acts as an owner', async () => {
    const ownerToken = tokens.owner;
    const broken: Record<string, string | undefined> = {
      'no header': undefined,
      'empty bearer': 'Bearer',
      'another scheme': `Token ${ownerToken}`,
      'two tokens': `Bearer ${ownerToken} ${ownerToken}`,
      'wrong token': `Bearer herald_${randomBytes(32).toString('base64url')}`,
      'the owner token, altered': `Bearer ${ownerToken.slice(0, -1)}${ownerToken.endsWith('A') ? 'B' : 'A'}`,
      ...Object.fromEntries(Object.entries(deadTokens).map(([what, token]) => [`${what} token`, `Bearer ${token}`])),
    };
    const wrong: string[] = [];
    const before = await snapshot();
    for (const route of allApiRoutes()) {
      for (const [what, header] of Object.entries(broken)) {
        await forgetFailedAttempts();
        const test = send(request(web.app), route);
        const res = await (header === undefined ? test : test.set('Authorization', header));
        if (res.status !== 401 || res.body?.error?.code !== 'unauthorized') wrong.push(`${what}: ${routeKey(route)} -> ${res.status}`);
      }
    }
    expect(await snapshot()).toEqual(before);
    for (const route of apiRoutes()) {
      const res = await send(request(web.app), route, {}, false).set('Authorization', `Bearer ${adminToken}`);
      if (!passedCheck(res.status) || res.status >= 500) wrong.push(`ADMIN_TOKEN: ${routeKey(route)} -> ${res.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it('every admin page sends GET to the login page and refuses anything else with 401, without a session or a disabled user\'s', async () => {
    const wrong: string[] = [];
    const before = await snapshot();
    const clients: [string, () => Agent | ReturnType<typeof request>][] = [
      ['no session', () => request(web.app)],
      ['disabled user', () => disabledSession],
    ];
    for (const route of allPageRoutes()) {
      for (const [what, client] of clients) {
        const res = await send(client(), route);
        const toLogin = res.status === 303 && res.headers.location === '/admin/login';
        const expected = requestFor(route, ids).method === 'GET' ? toLogin : res.status === 401;
        if (!expected) wrong.push(`${what}: ${routeKey(route)} -> ${res.status} ${res.headers.location ?? ''}`);
      }
    }
    expect(await snapshot()).toEqual(before);
    expect(wrong).toEqual([]);
  });
});
