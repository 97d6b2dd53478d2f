import { Client } from '@sendgrid/client';
import { MailService, type MailDataRequired } from '@sendgrid/mail';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMailSink } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { FaultSettings } from '../src/faults.js';
import type { ReceivedMessage } from '../src/inbox.js';
import type { SendGridErrorBody } from '../src/sendgrid-error.js';
import { startMailSink, type RunningMailSink } from '../src/start.js';

const API_KEY = 'SG.mail-sink-test-key';
const INVALID_GRANT = 'The provided authorization grant is invalid, expired, or revoked';

let sink: RunningMailSink;

beforeAll(async () => {
  sink = await startMailSink({ apiKey: API_KEY });
});
afterEach(() => sink.reset());
afterAll(() => sink.close());

function createMailer(apiKey = API_KEY): MailService {
  const client = new Client();
  client.setApiKey(apiKey);
  // setApiKey resets baseUrl to production, so the sink's URL must be set after it.
  client.setDefaultRequest('baseUrl', sink.url);
  const mailer = new MailService();
  mailer.setClient(client);
  return mailer;
}

function buildEmail(overrides: Partial<MailDataRequired> = {}): MailDataRequired {
  return {
    from: { email: 'news@herald.test', name: 'Herald' },
    personalizations: [{ to: [{ email: 'reader@example.com' }], customArgs: { herald_delivery: 'dlv_1' } }],
    subject: 'Issue #1',
    text: 'Hello reader',
    html: '<p>Hello reader</p>',
    ...overrides,
  } as MailDataRequired;
}

function buildRawBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    from: { email: 'news@herald.test' },
    personalizations: [{ to: [{ email: 'reader@example.com' }] }],
    subject: 'Issue #1',
    content: [{ type: 'text/plain', value: 'Hello' }],
    ...overrides,
  };
}

function postMailSend(body: string | object, apiKey: string | null = API_KEY): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
  return fetch(`${sink.url}/v3/mail/send`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function readJson<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

async function getJson<T>(path: string): Promise<T> {
  return readJson<T>(await fetch(`${sink.url}${path}`));
}

/** Resolves with whatever the promise rejects with, and fails the test if it resolves. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the client's errors are loosely typed; tests read their fields
async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('POST /v3/mail/send through the real @sendgrid/mail client', () => {
  it('accepts a valid send with 202, an X-Message-Id and an inbox entry', async () => {
    const [response] = await createMailer().send(buildEmail());

    expect(response.statusCode).toBe(202);
    expect(response.body).toBe('');
    const messageId = response.headers['x-message-id'];
    expect(messageId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const [message, ...others] = sink.inbox.list();
    expect(others).toHaveLength(0);
    expect(message).toMatchObject({
      id: messageId,
      recipients: ['reader@example.com'],
      from: 'news@herald.test',
      subject: 'Issue #1',
      text: 'Hello reader',
      html: '<p>Hello reader</p>',
      customArgs: { herald_delivery: 'dlv_1' },
    });
    expect(message?.request.personalizations[0]).toEqual({
      to: [{ email: 'reader@example.com' }],
      custom_args: { herald_delivery: 'dlv_1' },
    });
    expect(sink.inbox.findByRecipient('READER@example.com').map((m) => m.id)).toEqual([messageId]);
    expect(sink.stats.get()).toEqual({ requests: 1, byStatus: { 202: 1 }, byRecipient: { 'reader@example.com': 1 }, messages: 1, recipients: 1 });
  });

  it('gives every request its own message id', async () => {
    const mailer = createMailer();
    const [[first], [second]] = await Promise.all([mailer.send(buildEmail()), mailer.send(buildEmail())]);
    expect(first.headers['x-message-id']).not.toBe(second.headers['x-message-id']);
    expect(sink.inbox.list()).toHaveLength(2);
  });

  it('rejects a wrong key with 401 in SendGrid error shape and stores nothing', async () => {
    const error = await rejectionOf(createMailer('SG.wrong-key').send(buildEmail()));

    expect(error.code).toBe(401);
    expect(error.response.body).toEqual({ errors: [{ message: INVALID_GRANT, field: null, help: null }] });
    expect(sink.inbox.list()).toHaveLength(0);
    expect(sink.stats.get().byStatus).toEqual({ 401: 1 });
  });

  it('rejects a request without an Authorization header with 401', async () => {
    const response = await postMailSend(buildRawBody(), null);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ errors: [{ message: INVALID_GRANT, field: null, help: null }] });
  });

  it('answers 401 for the right key while the revokedKey fault is on', async () => {
    sink.faults.update({ revokedKey: true });
    const error = await rejectionOf(createMailer().send(buildEmail()));
    expect(error.code).toBe(401);
    expect(error.response.body.errors[0].message).toBe(INVALID_GRANT);
  });
});

describe('validation', () => {
  it.each([
    ['an empty content value', 'content.0.value', { content: [{ type: 'text/plain', value: '' }] }],
    ['no content', 'content', { content: [] }],
    ['an empty content type', 'content.0.type', { content: [{ type: '', value: 'x' }] }],
    ['html before text', 'content', { content: [{ type: 'text/html', value: '<p>x</p>' }, { type: 'text/plain', value: 'x' }] }],
    ['no from', 'from.email', { from: undefined }],
    ['an invalid from address', 'from.email', { from: { email: 'not-an-address' } }],
    ['no personalizations', 'personalizations', { personalizations: [] }],
    ['a personalization without to', 'personalizations.0.to', { personalizations: [{ cc: [{ email: 'a@example.com' }] }] }],
    ['an invalid recipient', 'personalizations.0.to.0.email', { personalizations: [{ to: [{ email: 'reader@' }] }] }],
    ['no subject', 'subject', { subject: undefined }],
    ['a reserved header', 'headers.reply-to', { headers: { 'reply-to': 'x@example.com' } }],
    ['a reserved personalization header', 'personalizations.0.headers.From', { personalizations: [{ to: [{ email: 'a@example.com' }], headers: { From: 'x' } }] }],
    ['a non-string custom arg', 'custom_args.attempt', { custom_args: { attempt: 3 } }],
    ['eleven categories', 'categories', { categories: Array.from({ length: 11 }, (_, i) => `c${i}`) }],
  ])('refuses %s with 400 naming field %s', async (_name, field, overrides) => {
    const response = await postMailSend(buildRawBody(overrides));

    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body).toEqual({ errors: [{ message: expect.any(String), field, help: null }] });
    expect(sink.inbox.list()).toHaveLength(0);
  });

  it('reports every problem of a payload at once', async () => {
    const response = await postMailSend({ personalizations: [{ to: [{ email: 'reader@example.com' }] }] });
    const body = await readJson<SendGridErrorBody>(response);
    expect(body.errors.map((error) => error.field)).toEqual(['from.email', 'subject', 'content']);
  });

  it('accepts a payload without a top-level subject when every personalization has one', async () => {
    const response = await postMailSend(
      buildRawBody({ subject: undefined, personalizations: [{ to: [{ email: 'a@example.com' }], subject: 'Hi A' }] }),
    );
    expect(response.status).toBe(202);
    expect(sink.inbox.list()[0]?.subject).toBe('Hi A');
  });

  it('answers 200 and stores nothing in sandbox mode', async () => {
    const response = await postMailSend(buildRawBody({ mail_settings: { sandbox_mode: { enable: true } } }));
    expect(response.status).toBe(200);
    expect(sink.inbox.list()).toHaveLength(0);
  });

  it('answers malformed JSON with 400 in SendGrid error shape, without a stack trace', async () => {
    const response = await postMailSend('{"from": ');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'The request body is not valid JSON.', field: null, help: null }],
    });
    expect(sink.stats.get()).toMatchObject({ requests: 1, byStatus: { 400: 1 } });
  });

  it('answers a body over 30 MB with 413', async () => {
    const huge = 'x'.repeat(31 * 1024 * 1024);
    const response = await postMailSend(buildRawBody({ content: [{ type: 'text/plain', value: huge }] }));
    expect(response.status).toBe(413);
    expect((await readJson<SendGridErrorBody>(response)).errors[0]?.field).toBeNull();
  });
});

describe('faults', () => {
  it('answers 429 with Retry-After and X-RateLimit headers, then accepts the retry', async () => {
    sink.faults.update({ rateLimit: { count: 1, retryAfterSeconds: 7, resetSeconds: 30 } });
    const mailer = createMailer();
    const before = Math.floor(Date.now() / 1000);

    const error = await rejectionOf(mailer.send(buildEmail()));

    expect(error.code).toBe(429);
    expect(error.response.body).toEqual({ errors: [{ message: 'too many requests', field: null, help: null }] });
    expect(error.response.headers).toMatchObject({ 'retry-after': '7', 'x-ratelimit-limit': '600', 'x-ratelimit-remaining': '0' });
    const reset = Number(error.response.headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThanOrEqual(before + 30);
    expect(reset).toBeLessThanOrEqual(before + 31);

    const [response] = await mailer.send(buildEmail());
    expect(response.statusCode).toBe(202);
    expect(sink.faults.get().rateLimit).toBeNull();
    expect(sink.stats.get()).toEqual({
      requests: 2,
      byStatus: { 429: 1, 202: 1 },
      byRecipient: { 'reader@example.com': 2 },
      messages: 1,
      recipients: 1,
    });
  });

  it('answers 429 with X-RateLimit headers, as SendGrid always does, and Retry-After only when asked', async () => {
    sink.faults.update({ rateLimit: { count: 1 } });
    const before = Math.floor(Date.now() / 1000);
    const error = await rejectionOf(createMailer().send(buildEmail()));
    expect(error.code).toBe(429);
    expect(error.response.headers['retry-after']).toBeUndefined();
    expect(error.response.headers).toMatchObject({ 'x-ratelimit-limit': '600', 'x-ratelimit-remaining': '0' });
    expect(Number(error.response.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(before + 1);
  });

  it('fails the next N requests with the configured 5xx, then succeeds', async () => {
    sink.faults.update({ serverError: { count: 2, status: 503 } });
    const mailer = createMailer();

    const first = await rejectionOf(mailer.send(buildEmail()));
    const second = await rejectionOf(mailer.send(buildEmail()));
    const [third] = await mailer.send(buildEmail());

    expect([first.code, second.code, third.statusCode]).toEqual([503, 503, 202]);
    expect(first.response.body.errors[0]).toMatchObject({ field: null, help: null });
    expect(sink.inbox.list()).toHaveLength(1);
    expect(sink.stats.get()).toMatchObject({ requests: 3, byStatus: { 503: 2, 202: 1 } });
  });

  it('can answer a 5xx with an HTML page, which the client exposes as a string body', async () => {
    sink.faults.update({ serverError: { count: 1, status: 502, body: 'html' } });
    const error = await rejectionOf(createMailer().send(buildEmail()));
    expect(error.code).toBe(502);
    expect(typeof error.response.body).toBe('string');
    expect(error.response.body).toContain('<html>');
  });

  it('refuses only the rejected recipient with 400 naming its field', async () => {
    sink.faults.update({ rejectRecipients: ['Bounce@Example.com'] });
    const mailer = createMailer();

    const error = await rejectionOf(
      mailer.send(buildEmail({ personalizations: [{ to: [{ email: 'bounce@example.com' }] }] })),
    );
    const [accepted] = await mailer.send(buildEmail());

    expect(error.code).toBe(400);
    expect(error.response.body).toEqual({
      errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email', help: null }],
    });
    expect(accepted.statusCode).toBe(202);
    expect(sink.inbox.list().map((message) => message.recipients)).toEqual([['reader@example.com']]);
    expect(sink.stats.get().byRecipient).toEqual({ 'bounce@example.com': 1, 'reader@example.com': 1 });
  });

  it('delays responses by latencyMs', async () => {
    sink.faults.update({ latencyMs: 250 });
    const started = performance.now();
    const [response] = await createMailer().send(buildEmail());
    expect(response.statusCode).toBe(202);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('still accepts a message whose client timed out, making the outcome ambiguous', async () => {
    sink.faults.update({ latencyMs: 300 });
    const mailer = createMailer();
    mailer.setTimeout(50);

    const error = await rejectionOf(mailer.send(buildEmail()));

    expect(error.code).toBe('ECONNABORTED');
    expect(error.response).toBeUndefined();
    expect(sink.inbox.list()).toHaveLength(0);
    await vi.waitFor(() => expect(sink.inbox.list()).toHaveLength(1), { timeout: 2000 });
  });

  it('refuses invalid fault settings from code', () => {
    expect(() => sink.faults.update({ latencyMs: -1 })).toThrow();
    expect(() => sink.faults.replace({ serverError: { count: 1, status: 404 } })).toThrow();
    expect(sink.faults.get()).toMatchObject({ latencyMs: 0, serverError: null });
  });
});

describe('control API', () => {
  it('replaces, reports and resets faults over HTTP', async () => {
    const put = await fetch(`${sink.url}/api/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ serverError: { count: 1 } }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({
      latencyMs: 0,
      rateLimit: null,
      serverError: { count: 1, status: 500, body: 'json' },
      rejectRecipients: [],
      rejectUnnamed: false,
      revokedKey: false,
    });

    expect((await postMailSend(buildRawBody())).status).toBe(500);
    expect((await postMailSend(buildRawBody())).status).toBe(202);
    expect((await getJson<FaultSettings>('/api/faults')).serverError).toBeNull();

    sink.faults.update({ revokedKey: true });
    expect((await fetch(`${sink.url}/api/faults`, { method: 'DELETE' })).status).toBe(204);
    expect(sink.faults.get().revokedKey).toBe(false);
  });

  it('refuses invalid fault settings with 400 naming the field', async () => {
    const response = await fetch(`${sink.url}/api/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: -5 }),
    });
    expect(response.status).toBe(400);
    const body = await readJson<SendGridErrorBody>(response);
    expect(body.errors[0]).toMatchObject({ field: 'latencyMs', help: null });
  });

  it('lists, filters and clears messages and reports stats', async () => {
    await postMailSend(buildRawBody({ personalizations: [{ to: [{ email: 'a@example.com' }] }] }));
    await postMailSend(buildRawBody({ personalizations: [{ to: [{ email: 'b@example.com' }] }] }));

    const all = await getJson<ReceivedMessage[]>('/api/messages');
    expect(all.map((message) => message.recipients[0])).toEqual(['a@example.com', 'b@example.com']);
    const filtered = await getJson<ReceivedMessage[]>('/api/messages?to=B@example.com');
    expect(filtered.map((message) => message.id)).toEqual([all[1]?.id]);
    expect((await fetch(`${sink.url}/api/messages/${all[0]?.id}`)).status).toBe(200);

    expect(await getJson('/api/stats')).toEqual({
      requests: 2,
      byStatus: { 202: 2 },
      byRecipient: { 'a@example.com': 1, 'b@example.com': 1 },
      messages: 2,
      recipients: 2,
    });

    expect((await fetch(`${sink.url}/api/messages`, { method: 'DELETE' })).status).toBe(204);
    expect(sink.inbox.list()).toHaveLength(0);
    expect((await fetch(`${sink.url}/api/messages/${all[0]?.id}`)).status).toBe(404);
  });
});

describe('inbox pages', () => {
  const hostileSubject = '<script>alert("subject")</script>';
  const hostileHtml = '<p onmouseover="steal()">Hi "there"</p><script>alert("html")</script>';

  it('lists messages newest first and escapes the subject', async () => {
    await postMailSend(buildRawBody({ subject: 'Older issue' }));
    await postMailSend(buildRawBody({ subject: hostileSubject }));

    const response = await fetch(`${sink.url}/`);
    const page = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(&#34;subject&#34;)&lt;/script&gt;');
    expect(page.indexOf('&lt;script&gt;alert')).toBeLessThan(page.indexOf('Older issue'));
    expect(page).toContain(sink.inbox.list()[1]!.id);
  });

  it('shows one message with the HTML part in a sandboxed srcdoc iframe and the text part in <pre>', async () => {
    await postMailSend(
      buildRawBody({
        subject: hostileSubject,
        content: [
          { type: 'text/plain', value: 'Plain <b>text</b>' },
          { type: 'text/html', value: hostileHtml },
        ],
        headers: { 'List-Unsubscribe': '<https://herald.test/u/tok>' },
        custom_args: { herald_delivery: 'dlv_42' },
      }),
    );
    const [message] = sink.inbox.list();

    const page = await (await fetch(`${sink.url}/messages/${message!.id}`)).text();

    expect(page).not.toContain('<script>');
    expect(page).not.toContain('onmouseover="steal');
    expect(page).toMatch(/<iframe sandbox="[^"]*"[^>]* srcdoc="&lt;base target=&#34;_blank&#34;&gt;&lt;p onmouseover=&#34;steal\(\)&#34;&gt;/);
    expect(page).not.toMatch(/sandbox="[^"]*allow-scripts/);
    expect(page).toContain('<pre>Plain &lt;b&gt;text&lt;/b&gt;</pre>');
    expect(page).toContain('List-Unsubscribe');
    expect(page).toContain('dlv_42');
  });

  it('answers 404 for an unknown message', async () => {
    expect((await fetch(`${sink.url}/messages/nope`)).status).toBe(404);
  });
});

describe('createMailSink without listening', () => {
  it('serves the API through supertest and keeps only the newest inboxLimit messages', async () => {
    const { app, inbox } = createMailSink({ apiKey: API_KEY, inboxLimit: 2 });
    const ids: string[] = [];
    for (const subject of ['one', 'two', 'three']) {
      const response = await request(app)
        .post('/v3/mail/send')
        .set('Authorization', `Bearer ${API_KEY}`)
        .send(buildRawBody({ subject }));
      expect(response.status).toBe(202);
      ids.push(String(response.headers['x-message-id']));
    }

    expect(inbox.list().map((message) => message.subject)).toEqual(['two', 'three']);
    expect(inbox.get(ids[0]!)).toBeUndefined();
    expect((await request(app).get('/api/messages')).body).toHaveLength(2);
  });
});

describe('loadConfig', () => {
  it('applies defaults and requires the API key', () => {
    expect(loadConfig({ SENDGRID_API_KEY: 'SG.k' })).toEqual({ port: 3100, host: '0.0.0.0', apiKey: 'SG.k' });
    expect(loadConfig({ SENDGRID_API_KEY: 'SG.k', MAIL_SINK_PORT: '0' }).port).toBe(0);
    expect(() => loadConfig({ MAIL_SINK_PORT: 'abc' })).toThrow(/MAIL_SINK_PORT[\s\S]*SENDGRID_API_KEY/);
    // Empty means unset, as for Herald's own processes.
    expect(loadConfig({ SENDGRID_API_KEY: 'SG.k', MAIL_SINK_PORT: '', MAIL_SINK_HOST: '' })).toEqual({ port: 3100, host: '0.0.0.0', apiKey: 'SG.k' });
    expect(() => loadConfig({ SENDGRID_API_KEY: '' })).toThrow(/SENDGRID_API_KEY: is required/);
  });
});
