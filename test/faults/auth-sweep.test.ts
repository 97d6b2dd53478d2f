/**
 * Scenario 8: every admin route of the running web process — JSON API and pages — refused with no
 * credentials, a wrong token, a dead session (logged out, or with a forged signature) and, for
 * pages, a missing CSRF token; the SendGrid webhook refuses forged signatures. Nothing changes.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signedWebhookHeaders } from '../support/sendgrid-webhook.js';
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
});
afterAll(async () => {
  await stack?.close();
});

type Route = { method: string; path: string; body?: string; type?: string };

function apiRoutes(): Route[] {
  const json = 'application/json';
  return [
    { method: 'POST', path: '/send', body: '{"subject":"Sweep","body":"<p>x</p>"}', type: json },
    { method: 'GET', path: `/tasks/${taskId}` },
    { method: 'GET', path: '/campaigns' },
    { method: 'GET', path: `/campaigns/${campaignId}` },
    { method: 'PATCH', path: `/campaigns/${campaignId}`, body: '{"subject":"Renamed by the sweep"}', type: json },
    { method: 'GET', path: `/campaigns/${campaignId}/tasks` },
    ...['pause', 'resume', 'cancel', 'retry-failed'].map((action) => ({ method: 'POST', path: `/campaigns/${campaignId}/${action}` })),
    { method: 'GET', path: '/subscribers' },
    { method: 'POST', path: '/subscribers/import', body: 'email,name\nsweep@example.com,Sweep\n', type: 'text/csv' },
    { method: 'GET', path: '/subscribers/export' },
    { method: 'GET', path: `/subscribers/${subscriberId}/export` },
    { method: 'DELETE', path: `/subscribers/${subscriberId}` },
    { method: 'GET', path: '/webhook-endpoints' },
    { method: 'POST', path: '/webhook-endpoints', body: '{"url":"https://hooks.example.com/x","events":["subscriber.created"]}', type: json },
    { method: 'GET', path: `/webhook-endpoints/${endpointId}` },
    { method: 'PATCH', path: `/webhook-endpoints/${endpointId}`, body: '{"enabled":false}', type: json },
    { method: 'DELETE', path: `/webhook-endpoints/${endpointId}` },
    { method: 'POST', path: `/webhook-endpoints/${endpointId}/test` },
    { method: 'GET', path: `/webhook-endpoints/${endpointId}/deliveries` },
  ];
}

function pageRoutes(csrf = ''): Route[] {
  const form = 'application/x-www-form-urlencoded';
  const token = csrf ? `&_csrf=${encodeURIComponent(csrf)}` : '';
  return [
    { method: 'GET', path: '/admin' },
    { method: 'GET', path: '/admin/campaigns/new' },
    { method: 'GET', path: `/admin/campaigns/${campaignId}` },
    { method: 'GET', path: '/admin/queues' },
    { method: 'POST', path: '/admin/campaigns', body: `subject=Sweep&body=%3Cp%3Ex%3C%2Fp%3E${token}`, type: form },
    ...['pause', 'cancel'].map((action) => ({ method: 'POST', path: `/admin/campaigns/${campaignId}/${action}`, body: token.slice(1), type: form })),
    { method: 'GET', path: '/admin/webhooks' },
    { method: 'GET', path: `/admin/webhooks/${endpointId}` },
    { method: 'POST', path: '/admin/webhooks', body: `url=https%3A%2F%2Fhooks.example.com%2Fy&events=subscriber.created${token}`, type: form },
    ...['disable', 'test', 'delete'].map((action) => ({ method: 'POST', path: `/admin/webhooks/${endpointId}/${action}`, body: token.slice(1), type: form })),
  ];
}

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
async function logIn(): Promise<{ jar: Jar; csrf: string }> {
  const jar: Jar = new Map();
  const page = await fetch(`${stack.webUrl}/admin/login`, { redirect: 'manual' });
  remember(jar, page);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const login = await fetch(`${stack.webUrl}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
    body: `password=${encodeURIComponent(adminPassword)}&_csrf=${encodeURIComponent(csrf)}`,
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
           (SELECT count(*) FROM webhook_events) AS webhook_events`);
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
  for (const route of pageRoutes().filter((r) => r.method === 'POST')) {
    await expectRefused('no CSRF token', route, { cookie: cookieHeader(session.jar) });
    await expectRefused('wrong CSRF token', { ...route, body: `${route.body ?? ''}&_csrf=forged` }, { cookie: cookieHeader(session.jar) });
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
