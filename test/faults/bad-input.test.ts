/**
 * Scenario 7: a corpus of hostile requests against the running web process. Each must get a 4xx
 * with a JSON error body (API) or an error page (HTML), never a 5xx or a stack trace, and nothing
 * may be written to the database.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminToken, createFaultStack } from './support/harness.js';
import type { FaultStack } from './support/harness.js';
import { recordResult } from './support/results.js';

const webhookKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
let stack: FaultStack;
let taskId = '';

/** SendGrid's signature over the raw bytes, so even a body that is not UTF-8 reaches the parser. */
function signRaw(body: Buffer): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    'Content-Type': 'application/json',
    'X-Twilio-Email-Event-Webhook-Signature': sign('sha256', Buffer.concat([Buffer.from(timestamp), body]), webhookKey.privateKey).toString('base64'),
    'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
  };
}

type Case = { name: string; method: string; path: string; body?: string | Buffer; headers?: Record<string, string>; admin?: boolean };

const json = { 'content-type': 'application/json' };
const csv = { 'content-type': 'text/csv' };
const formType = { 'content-type': 'application/x-www-form-urlencoded' };
const deep = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const invalidUtf8 = Buffer.concat([Buffer.from('{"email":"a'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('@example.com","name":"x"}')]);
const uuid = '0190f5c2-0000-7000-8000-000000000000';

function corpus(): Case[] {
  const send = (name: string, body: string | Buffer, headers: Record<string, string> = json): Case => ({ name: `send: ${name}`, method: 'POST', path: '/send', body, headers, admin: true });
  const register = (name: string, body: string | Buffer, headers: Record<string, string> = json): Case => ({ name: `register: ${name}`, method: 'POST', path: '/register', body, headers });
  const importCsv = (name: string, body: string | Buffer, headers: Record<string, string> = csv): Case => ({ name: `import: ${name}`, method: 'POST', path: '/subscribers/import', body, headers, admin: true });
  const webhook = (name: string, body: string | Buffer, signed = true): Case => ({
    name: `webhook: ${name}`,
    method: 'POST',
    path: '/webhooks/sendgrid',
    body,
    headers: signed ? signRaw(Buffer.from(body)) : json,
  });
  return [
    register('malformed JSON', '{"email": "a@example.com",'),
    register('deeply nested JSON', deep(5_000)),
    register('deeply nested array', deepArray(5_000)),
    register('email as a number', '{"email": 42, "name": "x"}'),
    register('email as an array', '{"email": ["a@example.com"], "name": "x"}'),
    register('email as an object', '{"email": {"$gt": ""}}'),
    register('name as an object', '{"email": "obj@example.com", "name": {"first": "x"}}'),
    register('no email', '{"name": "x"}'),
    register('SQL-looking email', `{"email": "x' OR 1=1; DROP TABLE subscribers; --", "name": "x"}`),
    register('script tag as email', '{"email": "<script>alert(1)</script>", "name": "x"}'),
    register('CR/LF in the name', '{"email": "crlf@example.com", "name": "Eve\\r\\nBcc: all@example.com"}'),
    register('NUL in the name', '{"email": "nul@example.com", "name": "Eve\\u0000"}'),
    register('overlong name', JSON.stringify({ email: 'long@example.com', name: 'x'.repeat(10_000) })),
    register('overlong email', JSON.stringify({ email: `${'a'.repeat(300)}@example.com` })),
    register('oversize body', JSON.stringify({ email: 'big@example.com', name: 'x'.repeat(3_000_000) })),
    register('invalid UTF-8', invalidUtf8),
    register('JSON array', '[{"email": "arr@example.com"}]'),
    register('JSON null', 'null'),
    register('form without an email', 'name=x', formType),
    register('form with a script tag email', 'email=%3Cscript%3E&name=x', formType),
    send('malformed JSON', '{"subject": "x", "body": '),
    send('deeply nested JSON', deep(5_000)),
    send('subject as a number', '{"subject": 1, "body": "<p>x</p>"}'),
    send('body as an array', '{"subject": "x", "body": ["<p>x</p>"]}'),
    send('CR/LF in the subject', '{"subject": "Hi\\r\\nBcc: everyone@example.com", "body": "<p>x</p>"}'),
    send('empty subject', '{"subject": "", "body": "<p>x</p>"}'),
    send('blank subject', '{"subject": "   ", "body": "<p>x</p>"}'),
    send('missing body', '{"subject": "x"}'),
    send('unknown field', '{"subject": "x", "body": "<p>x</p>", "status": "sent"}'),
    send('sendAt in the past', '{"subject": "x", "body": "<p>x</p>", "sendAt": "2001-01-01T00:00:00Z"}'),
    send('sendAt not a date', `{"subject": "x", "body": "<p>x</p>", "sendAt": "'; DROP TABLE campaigns; --"}`),
    send('oversize body', JSON.stringify({ subject: 'x', body: 'x'.repeat(3_000_000) })),
    send('invalid UTF-8', Buffer.concat([Buffer.from('{"subject":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","body":"x"}')])),
    send('idempotency key with a line break', '{"subject": "x", "body": "<p>x</p>"}', { ...json, 'idempotency-key': 'a\tb' }),
    importCsv('a quote never closed', 'email,name\n"broken@example.com,Eve\nnext@example.com,x\n'),
    importCsv('no email column', 'name\nEve\n'),
    importCsv('invalid UTF-8', Buffer.concat([Buffer.from('email,name\n'), Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('@example.com,x\n')])),
    importCsv('JSON instead of CSV', '{"email": "json@example.com"}', json),
    importCsv('empty body', ''),
    { ...importCsv('unknown consent value', 'email,name\nconsent@example.com,x\n'), path: '/subscribers/import?consent=bogus' },
    webhook('unsigned events', '[{"event": "bounce", "email": "reader-1@example.com", "timestamp": 1}]', false),
    webhook('malformed JSON, signed', '[{"event": "bounce",'),
    webhook('not an array, signed', '{"event": "bounce", "email": "reader-1@example.com"}'),
    // A signed array whose events are nonsense (nested arrays, bytes that are not UTF-8) is answered
    // 2xx with nothing stored, on purpose: SendGrid retries a non-2xx batch for a day.
    { name: 'confirm: unknown token', method: 'POST', path: '/confirm/not-a-real-token-00000000000000000000000', body: '', headers: formType },
    { name: 'confirm: path traversal', method: 'GET', path: '/confirm/..%2F..%2F..%2Fetc%2Fpasswd' },
    { name: 'confirm: script tag token', method: 'GET', path: '/confirm/%3Cscript%3Ealert(1)%3C%2Fscript%3E' },
    { name: 'confirm: overlong token', method: 'POST', path: `/confirm/${'a'.repeat(5_000)}`, body: '', headers: formType },
    { name: 'unsubscribe: unknown token', method: 'POST', path: '/unsubscribe/not-a-real-token-000000000000000000', body: 'List-Unsubscribe=One-Click', headers: formType },
    { name: 'unsubscribe: path traversal', method: 'GET', path: '/unsubscribe/..%2F..%2Fadmin' },
    { name: 'unsubscribe: SQL-looking token', method: 'POST', path: "/unsubscribe/'%20OR%20'1'='1", body: '', headers: formType },
    { name: 'unsubscribe: malformed percent-encoding', method: 'GET', path: '/unsubscribe/%E0%A4%A' },
    { name: 'tasks: not a uuid', method: 'GET', path: '/tasks/not-a-uuid', admin: true },
    { name: 'tasks: unknown id', method: 'GET', path: `/tasks/${uuid}`, admin: true },
    { name: 'tasks: path traversal', method: 'GET', path: '/tasks/..%2F..%2Fcampaigns', admin: true },
    { name: 'tasks: SQL-looking id', method: 'GET', path: "/tasks/1'%20OR%20'1'='1", admin: true },
    { name: 'tasks: malformed percent-encoding', method: 'GET', path: '/tasks/%E0%A4%A', admin: true },
    { name: 'campaign action: unknown action', method: 'POST', path: () => `/campaigns/${uuid}/explode`, admin: true } as unknown as Case,
    { name: 'campaign tasks: bad status filter', method: 'GET', path: `/campaigns/${uuid}/tasks?status=';DROP`, admin: true },
    { name: 'subscriber erase: not a uuid', method: 'DELETE', path: '/subscribers/..%2F..', admin: true },
    // The client address behind TRUST_PROXY: a forged or malformed X-Forwarded-For changes nothing.
    register('X-Forwarded-For not an address', '{"email": "not-an-email"}', { ...json, 'x-forwarded-for': 'not-an-ip, <script>, ::::' }),
    register('X-Forwarded-For overlong', '{"email": "not-an-email"}', { ...json, 'x-forwarded-for': Array.from({ length: 500 }, (_, i) => `10.0.${i % 256}.1`).join(', ') }),
    { name: 'tasks: X-Forwarded-For with a port and brackets', method: 'GET', path: '/tasks/not-a-uuid', admin: true, headers: { 'x-forwarded-for': '[::1]:80, 1.2.3.4:5' } },
  ].map((c) => (typeof c.path === 'function' ? { ...c, path: (c.path as () => string)() } : c));
}

beforeAll(async () => {
  stack = await createFaultStack({ name: 'bad-input', webhookKey: webhookKey.publicKey });
  await stack.seedAudience(20);
  const { campaignId } = await stack.sendCampaign('A campaign that exists');
  const { rows } = await stack.db.query<{ id: string }>('SELECT id FROM deliveries WHERE campaign_id = $1 LIMIT 1', [campaignId]);
  taskId = rows[0]!.id;
});
afterAll(async () => {
  await stack?.close();
});

async function snapshot() {
  const { rows } = await stack.db.query(`
    SELECT (SELECT count(*) FROM subscribers) AS subscribers,
           (SELECT max(updated_at) FROM subscribers) AS subscribers_changed,
           (SELECT count(*) FROM campaigns) AS campaigns,
           (SELECT max(updated_at) FROM campaigns) AS campaigns_changed,
           (SELECT count(*) FROM deliveries) AS deliveries,
           (SELECT count(*) FROM email_events) AS events`);
  return rows[0];
}

it('answers every hostile request with a clear 4xx, never a 5xx or a stack trace, and writes nothing', async () => {
  const started = Date.now();
  const cases = corpus();
  expect(cases.length).toBeGreaterThanOrEqual(50);
  expect(taskId).not.toBe('');
  const before = await snapshot();
  const outcomes: { name: string; status: number; problem?: string }[] = [];
  for (const c of cases) {
    const res = await fetch(`${stack.webUrl}${c.path}`, {
      method: c.method,
      headers: { ...(c.admin ? { authorization: `Bearer ${adminToken}` } : {}), ...c.headers },
      body: c.body,
      redirect: 'manual',
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    let problem: string | undefined;
    if (res.status < 400 || res.status >= 500) problem = `status ${res.status}: ${text.slice(0, 200)}`;
    else if (/\bat .+\.(ts|js):\d+|node_modules|Error: /.test(text)) problem = 'stack trace in the body';
    else if (type.includes('application/json')) {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      if (typeof body.error?.code !== 'string' || typeof body.error?.message !== 'string') problem = `JSON without {error: {code, message}}: ${text.slice(0, 120)}`;
    } else if (type.includes('text/html')) {
      if (!/<h1|<title/i.test(text)) problem = 'HTML without an error page';
    } else problem = `unexpected content type ${type || '(none)'}`;
    outcomes.push({ name: c.name, status: res.status, ...(problem ? { problem } : {}) });
  }
  const after = await snapshot();
  const problems = outcomes.filter((o) => o.problem);
  recordResult({
    scenario: 'bad-input',
    recipients: 0,
    received: 0,
    missing: 0,
    duplicates: 0,
    seconds: (Date.now() - started) / 1000,
    notes: `${cases.length} hostile requests: ${outcomes.filter((o) => o.status >= 500).length} × 5xx, ${problems.length} problems; statuses ${[...new Set(outcomes.map((o) => o.status))].sort().join('/')}`,
  });
  expect(problems).toEqual([]);
  expect(after).toEqual(before);
});
