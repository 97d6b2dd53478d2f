/**
 * Scenario 8: every admin route of the running web process — JSON API and pages, read from the
 * app's own router as the role-matrix test reads them — refused with no credentials, a wrong,
 * revoked or expired token or one of a disabled user, a dead session (logged out, or with a forged
 * signature) and, for pages, a missing CSRF token; each role's token and session refused exactly
 * where the role lacks the route's permission; the SendGrid webhook refuses forged signatures.
 * Nothing refused changes anything.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPassword } from '../../apps/web/src/team/passwords.js';
import { roleCan, roles } from '../../apps/web/src/team/roles.js';
import type { Role } from '../../apps/web/src/team/roles.js';
import { guardedRoutes, isPage, nonPublicRoutes, publicRouteProblems, readPermissionOnWrites, requestFor } from '../support/route-matrix.js';
import type { SeededIds } from '../support/route-matrix.js';
import { routeKey } from '../support/route-table.js';
import type { RouteEntry } from '../support/route-table.js';
import { signedWebhookHeaders } from '../support/sendgrid-webhook.js';
import { webRouteTable } from './support/web-routes.js';
import { adminPassword, adminToken, createFaultStack } from './support/harness.js';
import type { FaultStack } from './support/harness.js';
import { recordResult } from './support/results.js';

const webhookKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const forgerKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
let stack: FaultStack;
let campaignId = '';
let taskId = '';
let subscriberId = '';
let endpointId = '';
let table: RouteEntry[] = [];
let ownerEmail = '';
const ids: SeededIds = {};
const rolePassword = 'sweep role password 0123';
const roleTokens = {} as Record<Role, string>;
/** Tokens that must open nothing: each stands for an owner, so one let through would pass every check. */
const deadTokens: Record<string, string> = {};

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const newToken = () => `herald_${randomBytes(32).toString('base64url')}`;

/** A user and a token of theirs, made in the scenario's database as the web's own code would. */
async function addUserWithToken(email: string, role: Role, passwordHash: string): Promise<{ userId: string; token: string; tokenId: string }> {
  const user = await stack.db.query<{ id: string }>('INSERT INTO users (email, role, password_hash) VALUES ($1, $2, $3) RETURNING id', [email, role, passwordHash]);
  const userId = user.rows[0]!.id;
  const token = newToken();
  const row = await stack.db.query<{ id: string }>(
    'INSERT INTO api_tokens (user_id, name, role, token_hash, token_prefix) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [userId, `${role} sweep`, role, sha256(token), token.slice(0, 13)],
  );
  return { userId, token, tokenId: row.rows[0]!.id };
}

beforeAll(async () => {
  stack = await createFaultStack({ name: 'auth-sweep', webhookKey: webhookKey.publicKey });
  await stack.seedAudience(20);
  ({ campaignId } = await stack.sendCampaign('Held by the sweep'));
  const { rows } = await stack.db.query<{ id: string; subscriber_id: string }>('SELECT id, subscriber_id FROM deliveries WHERE campaign_id = $1 LIMIT 1', [campaignId]);
  taskId = rows[0]!.id;
  subscriberId = rows[0]!.subscriber_id;
  const endpoint = await stack.db.query<{ id: string }>(
    `INSERT INTO webhook_endpoints (url, event_types, secret) VALUES ('https://hooks.example.com/sweep', ARRAY['subscriber.created'], 'whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIz') RETURNING id`,
  );
  endpointId = endpoint.rows[0]!.id;
  Object.assign(ids, { campaigns: campaignId, tasks: taskId, subscribers: subscriberId, 'webhook-endpoints': endpointId, webhooks: endpointId });
  const list = await stack.db.query<{ id: string }>('SELECT id FROM lists WHERE is_default');
  ids.lists = list.rows[0]!.id;

  table = await webRouteTable({ databaseUrl: stack.databaseUrl, redisUrl: stack.redis.url });
  // The web made the first owner at boot; these join it. With more than one user, logging in takes an email.
  ownerEmail = (await stack.db.query<{ email: string }>("SELECT email FROM users WHERE role = 'owner'")).rows[0]!.email;
  const passwordHash = await hashPassword(rolePassword);
  for (const role of [...roles].reverse()) roleTokens[role] = (await addUserWithToken(`${role}@sweep.test`, role, passwordHash)).token;
  const revoked = await addUserWithToken('revoked@sweep.test', 'owner', passwordHash);
  await stack.db.query('UPDATE api_tokens SET revoked_at = now() WHERE id = $1', [revoked.tokenId]);
  deadTokens.revoked = revoked.token;
  const expired = await addUserWithToken('expired@sweep.test', 'owner', passwordHash);
  // The CHECK wants expires_at after created_at, so both go into the past.
  await stack.db.query("UPDATE api_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE id = $1", [expired.tokenId]);
  deadTokens.expired = expired.token;
  const leaver = await addUserWithToken('leaver@sweep.test', 'owner', passwordHash);
  await stack.db.query('UPDATE users SET disabled_at = now() WHERE id = $1', [leaver.userId]);
  deadTokens['disabled user'] = leaver.token;
  deadTokens.unknown = newToken();
});
afterAll(async () => {
  await stack?.close();
});

type Route = { method: string; path: string; body?: string; type?: string };

const json = 'application/json';
const form = 'application/x-www-form-urlencoded';
/**
 * Bodies that would do something if a refused request got through; other writes send `{}` (or
 * only the CSRF token). Only requests that must be refused carry them.
 */
const doingBodies: Record<string, { body: string; type: string }> = {
  'POST /send': { body: '{"subject":"Sweep","body":"<p>x</p>"}', type: json },
  'PATCH /campaigns/:id': { body: '{"subject":"Renamed by the sweep"}', type: json },
  'POST /subscribers/import': { body: 'email,name\nsweep@example.com,Sweep\n', type: 'text/csv' },
  'POST /webhook-endpoints': { body: '{"url":"https://hooks.example.com/x","events":["subscriber.created"]}', type: json },
  'PATCH /webhook-endpoints/:id': { body: '{"enabled":false}', type: json },
  'POST /admin/campaigns': { body: 'subject=Sweep&body=%3Cp%3Ex%3C%2Fp%3E', type: form },
  'POST /admin/webhooks': { body: 'url=https%3A%2F%2Fhooks.example.com%2Fy&events=subscriber.created', type: form },
  // An upload: a form body would be refused as the wrong type before its CSRF token is read.
  'POST /admin/subscribers/import': { body: 'email,name\nsweep-page@example.com,Sweep\n', type: 'multipart/form-data; boundary=sweep' },
};

/** A multipart upload of one CSV file, after the CSRF field when there is one (it is read first). */
function multipart(csv: string, csrf: string): string {
  const field = csrf ? `--sweep\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n` : '';
  return `${field}--sweep\r\nContent-Disposition: form-data; name="file"; filename="people.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n--sweep--\r\n`;
}

/**
 * The request the sweep sends for a route of the table. `refused`: it must not pass, so it names
 * the seeded rows and carries a body that would change them (see requestFor).
 */
function sweepRequest(entry: RouteEntry, { csrf = '', refused = true } = {}): Route {
  const { method, path } = requestFor(entry, ids, { seededForWrites: refused });
  if (method === 'GET' || method === 'HEAD') return { method, path };
  const doing = refused ? doingBodies[routeKey(entry)] : undefined;
  if (doing?.type.startsWith('multipart/')) return { method, path, body: multipart(doing.body, csrf), type: doing.type };
  if (isPage(entry)) {
    const fields = [doing?.body, csrf ? `_csrf=${encodeURIComponent(csrf)}` : undefined].filter(Boolean).join('&');
    return { method, path, body: fields, type: form };
  }
  if (method === 'DELETE') return { method, path };
  return { method, path, body: doing?.body ?? '{}', type: doing?.type ?? json };
}

const allApiRoutes = () => nonPublicRoutes(table).filter((entry) => !isPage(entry));
const allPageRoutes = () => nonPublicRoutes(table).filter(isPage);
const apiRoutes = () => allApiRoutes().map((entry) => sweepRequest(entry));
const pageRoutes = (csrf = '') => allPageRoutes().map((entry) => sweepRequest(entry, { csrf }));

type Jar = Map<string, string>;
const cookieHeader = (jar: Jar) => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
function remember(jar: Jar, res: Response): void {
  for (const cookie of res.headers.getSetCookie()) {
    const [pair] = cookie.split(';');
    const at = pair!.indexOf('=');
    jar.set(pair!.slice(0, at), pair!.slice(at + 1));
  }
}

async function call(route: Route, headers: Record<string, string>): Promise<Response> {
  const res = await fetch(`${stack.webUrl}${route.path}`, {
    method: route.method,
    headers: { ...(route.type ? { 'content-type': route.type } : {}), ...headers },
    body: route.body,
    redirect: 'manual',
  });
  await res.arrayBuffer();
  return res;
}

/** Logs in through the login form; returns the session cookies and a CSRF token of that session. */
async function logIn(email = ownerEmail, password = adminPassword): Promise<{ jar: Jar; csrf: string }> {
  const jar: Jar = new Map();
  const page = await fetch(`${stack.webUrl}/admin/login`, { redirect: 'manual' });
  remember(jar, page);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const login = await fetch(`${stack.webUrl}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
    body: `email=${encodeURIComponent(email)}&password=${encodeURIComponent(password)}&_csrf=${encodeURIComponent(csrf)}`,
    redirect: 'manual',
  });
  expect(login.status).toBe(303);
  remember(jar, login);
  const home = await fetch(`${stack.webUrl}/admin`, { headers: { cookie: cookieHeader(jar) }, redirect: 'manual' });
  remember(jar, home);
  expect(home.status).toBe(200);
  const token = /name="_csrf" value="([^"]+)"/.exec(await home.text())?.[1] ?? '';
  return { jar, csrf: token };
}

/** A refusal: 401/403 (429 once repeated bad credentials are throttled), or a redirect to the login page. */
function refused(res: Response): boolean {
  if (res.status === 401 || res.status === 403 || res.status === 429) return true;
  return (res.status === 302 || res.status === 303) && (res.headers.get('location') ?? '').startsWith('/admin/login');
}

async function snapshot() {
  const { rows } = await stack.db.query(`
    SELECT (SELECT count(*) FROM subscribers) AS subscribers, (SELECT max(updated_at) FROM subscribers) AS subscribers_changed,
           (SELECT count(*) FROM campaigns) AS campaigns, (SELECT max(updated_at) FROM campaigns) AS campaigns_changed,
           (SELECT string_agg(status::text, ',' ORDER BY id) FROM campaigns) AS campaign_states,
           (SELECT count(*) FROM deliveries) AS deliveries, (SELECT count(*) FROM email_events) AS events,
           (SELECT string_agg(id || ':' || enabled || ':' || updated_at, ',' ORDER BY id) FROM webhook_endpoints) AS webhook_endpoints,
           (SELECT count(*) FROM webhook_events) AS webhook_events,
           (SELECT string_agg(id || ':' || role || ':' || coalesce(disabled_at::text, ''), ',' ORDER BY id) FROM users) AS users,
           (SELECT string_agg(id || ':' || coalesce(revoked_at::text, ''), ',' ORDER BY id) FROM api_tokens) AS tokens`);
  return rows[0];
}

it('refuses every admin route without valid credentials, and forged webhook signatures', async () => {
  const started = Date.now();
  const before = await snapshot();
  const accepted: string[] = [];
  let attempts = 0;
  const expectRefused = async (what: string, route: Route, headers: Record<string, string>) => {
    attempts += 1;
    const res = await call(route, headers);
    if (!refused(res)) accepted.push(`${what}: ${route.method} ${route.path} -> ${res.status}`);
  };

  // The positive controls: the same requests with valid credentials are accepted (checked below on
  // a read-only route each), so a refusal here is the credentials', not a broken route's.
  expect((await call({ method: 'GET', path: '/campaigns' }, { authorization: `Bearer ${adminToken}` })).status).toBe(200);
  const session = await logIn();

  for (const route of apiRoutes()) {
    await expectRefused('no credentials', route, {});
    await expectRefused('wrong token', route, { authorization: `Bearer ${adminToken.slice(0, -1)}x` });
    await expectRefused('short token', route, { authorization: 'Bearer x' });
    await expectRefused('basic scheme', route, { authorization: `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}` });
    await expectRefused('admin session cookie', route, { cookie: cookieHeader(session.jar) });
  }
  for (const route of pageRoutes()) {
    await expectRefused('no session', route, {});
    await expectRefused('API token instead of a session', route, { authorization: `Bearer ${adminToken}` });
    const forged = new Map([...session.jar].map(([name, value]) => [name, name.endsWith('.sig') ? value.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) : value]));
    await expectRefused('session with a forged signature', route, { cookie: cookieHeader(forged) });
  }
  // The owner's session passes every permission check, so the CSRF check is what must refuse.
  for (const entry of allPageRoutes().filter((r) => r.method !== 'GET' && r.method !== 'USE')) {
    await expectRefused('no CSRF token', sweepRequest(entry), { cookie: cookieHeader(session.jar) });
    await expectRefused('wrong CSRF token', sweepRequest(entry, { csrf: 'forged' }), { cookie: cookieHeader(session.jar) });
  }
  const events = JSON.stringify([{ event: 'unsubscribe', email: 'reader-1@example.com', timestamp: Math.floor(Date.now() / 1000), sg_event_id: 'sweep-1' }]);
  const webhook = { method: 'POST', path: '/webhooks/sendgrid', body: events };
  const genuine = signedWebhookHeaders(events, webhookKey.privateKey);
  const forgeries: [string, Record<string, string>][] = [
    ['unsigned', { 'Content-Type': 'application/json' }],
    ['signed by another key', signedWebhookHeaders(events, forgerKey.privateKey)],
    ['signature of another body', signedWebhookHeaders(`${events} `, webhookKey.privateKey)],
    ['another timestamp', { ...genuine, 'X-Twilio-Email-Event-Webhook-Timestamp': String(Number(genuine['X-Twilio-Email-Event-Webhook-Timestamp']) + 1) }],
    ['garbage signature', { ...genuine, 'X-Twilio-Email-Event-Webhook-Signature': 'bm90IGEgc2lnbmF0dXJl' }],
  ];
  for (const [what, headers] of forgeries) await expectRefused(`webhook ${what}`, webhook, headers);

  const after = await snapshot();
  recordResult({
    scenario: 'auth-sweep',
    recipients: 0,
    received: 0,
    missing: 0,
    duplicates: 0,
    seconds: (Date.now() - started) / 1000,
    notes: `${attempts} requests without valid credentials, ${accepted.length} accepted`,
  });
  expect(accepted).toEqual([]);
  expect(after).toEqual(before);
  // The positive control for the webhook: the genuine signature is accepted.
  expect((await call(webhook, genuine)).status).toBeLessThan(300);
});

/** Logging out revokes the session: its cookie, replayed, opens nothing. */
it('refuses a logged-out session whose cookie is replayed', async () => {
  const before = await snapshot();
  const session = await logIn();
  const dead = new Map(session.jar);
  const logout = await call(
    { method: 'POST', path: '/admin/logout', body: `_csrf=${encodeURIComponent(session.csrf)}`, type: 'application/x-www-form-urlencoded' },
    { cookie: cookieHeader(session.jar) },
  );
  expect(logout.status).toBe(303);
  const accepted: string[] = [];
  for (const route of pageRoutes(session.csrf)) {
    const res = await call(route, { cookie: cookieHeader(dead) });
    if (!refused(res)) accepted.push(`${route.method} ${route.path} -> ${res.status}`);
  }
  expect(accepted).toEqual([]);
  expect(await snapshot()).toEqual(before);
});

let addressCount = 0;
/**
 * A client address of its own for each request (the web trusts X-Forwarded-For from loopback), so
 * the per-address throttle of wrong tokens, which the first scenario sets off, answers none of them:
 * each answer is the token check's own.
 */
const freshAddress = () => {
  addressCount += 1;
  return { 'x-forwarded-for': `10.77.${(addressCount >> 8) & 255}.${addressCount & 255}` };
};

it('reads every guarded route from the app, and no route is unguarded unless public on purpose', () => {
  expect(publicRouteProblems(table)).toEqual([]);
  expect(readPermissionOnWrites(table)).toEqual([]);
  expect(guardedRoutes(table).filter((entry) => !isPage(entry)).length).toBeGreaterThan(30);
  expect(guardedRoutes(table).filter(isPage).length).toBeGreaterThan(30);
});

it('refuses a revoked, an expired, an unknown token and one of a disabled user on every API route with 401', async () => {
  const before = await snapshot();
  const wrong: string[] = [];
  for (const entry of allApiRoutes()) {
    for (const [what, token] of Object.entries(deadTokens)) {
      const res = await call(sweepRequest(entry), { ...freshAddress(), authorization: `Bearer ${token}` });
      if (res.status !== 401) wrong.push(`${what} token: ${routeKey(entry)} -> ${res.status}`);
    }
  }
  expect(wrong).toEqual([]);
  expect(await snapshot()).toEqual(before);
});

/** 403 with the `forbidden` code: the permission check's refusal, not another one. */
async function forbidden(res: Response): Promise<boolean> {
  if (res.status !== 403) return false;
  const text = await res.text();
  return res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as { error?: { code?: string } }).error?.code === 'forbidden' : text.includes('class="admin-bar"');
}

async function callForRole(route: Route, headers: Record<string, string>): Promise<Response> {
  return fetch(`${stack.webUrl}${route.path}`, {
    method: route.method,
    headers: { ...(route.type ? { 'content-type': route.type } : {}), ...headers },
    body: route.body,
    redirect: 'manual',
  });
}

it('refuses each role exactly where it lacks the permission, by token and by session, changing nothing', async () => {
  const started = Date.now();
  const wrong: string[] = [];
  let requests = 0;
  const guarded = guardedRoutes(table);
  for (const role of roles) {
    const session = await logIn(`${role}@sweep.test`, rolePassword);
    const credentials = (entry: RouteEntry): Record<string, string> =>
      isPage(entry) ? { cookie: cookieHeader(session.jar), accept: 'text/html' } : { ...freshAddress(), authorization: `Bearer ${roleTokens[role]}` };
    const before = await snapshot();
    for (const entry of guarded.filter((r) => !roleCan(role, r.permission))) {
      requests += 1;
      const res = await callForRole(sweepRequest(entry, { csrf: session.csrf }), credentials(entry));
      if (!(await forbidden(res))) wrong.push(`${role}: ${routeKey(entry)} (${entry.permission}) -> ${res.status}, expected 403 forbidden`);
    }
    expect({ role, after: await snapshot() }).toEqual({ role, after: before });
    for (const entry of guarded.filter((r) => roleCan(role, r.permission))) {
      requests += 1;
      const res = await callForRole(sweepRequest(entry, { csrf: session.csrf, refused: false }), credentials(entry));
      await res.arrayBuffer();
      if (res.status === 401 || res.status === 403 || res.status >= 500) wrong.push(`${role}: ${routeKey(entry)} (${entry.permission}) -> ${res.status}, expected past the check`);
    }
  }
  recordResult({
    scenario: 'auth-sweep (roles)',
    recipients: 0,
    received: 0,
    missing: 0,
    duplicates: 0,
    seconds: (Date.now() - started) / 1000,
    notes: `${requests} requests by ${roles.length} roles over ${guarded.length} guarded routes, ${wrong.length} answered wrongly`,
  });
  expect(wrong).toEqual([]);
});
