import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkSignatureHeaders, parseWebhookPublicKey, verifyWebhookSignature } from '../../web/src/webhooks/webhook-signature.js';
import { loadConfig } from '../src/config.js';
import { findLinks } from '../src/event-plan.js';
import { parseEventSigningKey, serializeEventBatch, signEventBatch } from '../src/sign-event-batch.js';
import { startMailSink, type RunningMailSink } from '../src/start.js';

const API_KEY = 'SG.mail-sink-test-key';
const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const privateKeyPem = keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const privateKeyDer = keys.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
const publicKeyBase64 = keys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

type Post = { headers: Record<string, string | string[] | undefined>; body: Buffer };

/** A real HTTP server standing in for Herald's webhook, answering `status()` and keeping every post. */
async function startReceiver(status: () => number = () => 200) {
  const posts: Post[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      posts.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.statusCode = status();
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/sendgrid`,
    posts,
    events: () => posts.flatMap((post) => JSON.parse(post.body.toString()) as Record<string, unknown>[]),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function sinkEnv(url: string, extra: Record<string, string> = {}) {
  return loadConfig({ SENDGRID_API_KEY: API_KEY, SINK_EVENT_WEBHOOK_URL: url, SINK_EVENT_WEBHOOK_PRIVATE_KEY: privateKeyPem, SINK_EVENT_DELAY_MS: '20', SINK_EVENT_SEED: '7', ...extra }).events!;
}

async function send(sink: RunningMailSink, body: object): Promise<string> {
  const response = await fetch(`${sink.url}/v3/mail/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(202);
  return response.headers.get('x-message-id')!;
}

const html = '<p>Hi</p><a href="https://herald.test/a?x=1&amp;y=2">A</a> <a href=\'https://herald.test/b\'>B</a> <a href="mailto:x@y.z">m</a>';

describe('signing event batches', () => {
  it('is verified by Herald’s own verifier, the key given as PEM or base64 DER', () => {
    const body = serializeEventBatch([{ event: 'processed', email: 'a@example.com', timestamp: 1 }]);
    for (const text of [privateKeyPem, privateKeyDer]) {
      const headers = signEventBatch(parseEventSigningKey(text), body);
      const signed = { signature: headers['X-Twilio-Email-Event-Webhook-Signature'], timestamp: headers['X-Twilio-Email-Event-Webhook-Timestamp'] };
      expect(checkSignatureHeaders(signed)).toBeUndefined();
      expect(verifyWebhookSignature(parseWebhookPublicKey(publicKeyBase64), signed, body)).toBe(true);
      expect(verifyWebhookSignature(parseWebhookPublicKey(publicKeyBase64), signed, Buffer.concat([body, Buffer.from(' ')]))).toBe(false);
    }
  });

  it('refuses a key that is not ECDSA P-256, naming the variable', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => loadConfig({ SENDGRID_API_KEY: 'k', SINK_EVENT_WEBHOOK_URL: 'http://x.test/', SINK_EVENT_WEBHOOK_PRIVATE_KEY: rsa })).toThrow(/SINK_EVENT_WEBHOOK_PRIVATE_KEY: must be an ECDSA P-256/);
    expect(() => loadConfig({ SENDGRID_API_KEY: 'k', SINK_EVENT_WEBHOOK_URL: 'http://x.test/' })).toThrow(/SINK_EVENT_WEBHOOK_PRIVATE_KEY: is required/);
    expect(() => loadConfig({ SENDGRID_API_KEY: 'k', SINK_EVENT_OPEN_RATE: '2' })).toThrow(/SINK_EVENT_OPEN_RATE: must be between 0 and 1/);
    expect(loadConfig({ SENDGRID_API_KEY: 'k' }).events).toBeUndefined();
  });

  it('finds every http(s) link of a body, entities decoded', () => {
    expect(findLinks(html)).toEqual(['https://herald.test/a?x=1&y=2', 'https://herald.test/b']);
  });
});

describe('reporting events to a webhook', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let sink: RunningMailSink;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await sink.close();
    receiver.posts.length = 0;
  });
  afterAll(() => receiver.close());

  it('posts signed batches of processed and delivered per recipient, with custom args, clicks on links of the body and bounces', async () => {
    sink = await startMailSink({ apiKey: API_KEY, events: { ...sinkEnv(receiver.url, { SINK_EVENT_OPEN_RATE: '1', SINK_EVENT_CLICK_RATE: '1' }), flushIntervalMs: 20 } });
    const messageId = await send(sink, {
      from: { email: 'news@herald.test' },
      subject: 'Issue',
      content: [{ type: 'text/html', value: html }],
      custom_args: { herald_campaign_id: 'cmp_1' },
      personalizations: [
        { to: [{ email: 'ada@example.com' }], custom_args: { herald_delivery_id: 'dlv_1' } },
        { to: [{ email: 'Bounce-me@example.com' }], custom_args: { herald_delivery_id: 'dlv_2' } },
      ],
    });
    await sink.events!.idle();

    const key = parseWebhookPublicKey(publicKeyBase64);
    for (const post of receiver.posts) {
      const signed = { signature: post.headers['x-twilio-email-event-webhook-signature'] as string, timestamp: post.headers['x-twilio-email-event-webhook-timestamp'] as string };
      expect(verifyWebhookSignature(key, signed, post.body)).toBe(true);
    }
    const events = receiver.events();
    const of = (email: string) => events.filter((event) => event.email === email).map((event) => event.event).sort();
    expect(of('ada@example.com')).toEqual(['click', 'delivered', 'open', 'processed']);
    expect(of('bounce-me@example.com')).toEqual(['bounce', 'processed']);
    for (const event of events) {
      expect(event).toMatchObject({ herald_campaign_id: 'cmp_1', timestamp: expect.any(Number), sg_event_id: expect.any(String) });
      expect(String(event.sg_message_id).startsWith(`${messageId}.`)).toBe(true);
    }
    expect(new Set(events.map((event) => event.sg_event_id)).size).toBe(events.length);
    expect(events.find((event) => event.event === 'delivered')).toMatchObject({ herald_delivery_id: 'dlv_1', sg_message_id: `${messageId}.filter-sink-0` });
    expect(['https://herald.test/a?x=1&y=2', 'https://herald.test/b']).toContain(events.find((event) => event.event === 'click')!.url);
    expect(events.find((event) => event.event === 'bounce')).toMatchObject({ type: 'bounce', herald_delivery_id: 'dlv_2', status: '5.1.1', reason: expect.any(String) });

    const stats = (await (await fetch(`${sink.url}/api/stats`)).json()) as { events: Record<string, number> };
    expect(stats.events).toMatchObject({ posted: events.length, failedBatches: 0, failedEvents: 0 });
  });

  it('reports no open for a message sent without open tracking and no click without click tracking, as SendGrid', async () => {
    sink = await startMailSink({ apiKey: API_KEY, events: { ...sinkEnv(receiver.url, { SINK_EVENT_OPEN_RATE: '1', SINK_EVENT_CLICK_RATE: '1', SINK_EVENT_BOUNCE_RATE: '0' }), flushIntervalMs: 20 } });
    const message = (email: string, tracking_settings: object) => ({
      from: { email: 'news@herald.test' },
      subject: 'Issue',
      content: [{ type: 'text/html', value: html }],
      personalizations: [{ to: [{ email }] }],
      tracking_settings,
    });
    await send(sink, message('none@example.com', { open_tracking: { enable: false }, click_tracking: { enable: false } }));
    await send(sink, message('clicks@example.com', { open_tracking: { enable: false } }));
    await send(sink, message('both@example.com', {}));
    await sink.events!.idle();
    const of = (email: string) => receiver.events().filter((event) => event.email === email).map((event) => event.event).sort();
    expect(of('none@example.com')).toEqual(['delivered', 'processed']);
    expect(of('clicks@example.com')).toEqual(['click', 'delivered', 'processed']);
    // A setting left out is the account's, on by default.
    expect(of('both@example.com')).toEqual(['click', 'delivered', 'open', 'processed']);
    expect(sink.inbox.findByRecipient('clicks@example.com')[0]!.tracking).toEqual({ opens: false, clicks: true });
  });

  it('plans the same events from the same seed', async () => {
    const counts: number[] = [];
    for (let run = 0; run < 2; run += 1) {
      sink = await startMailSink({ apiKey: API_KEY, events: { ...sinkEnv(receiver.url), flushIntervalMs: 20 } });
      const personalizations = Array.from({ length: 50 }, (_, i) => ({ to: [{ email: `r${i}@example.com` }] }));
      await send(sink, { from: { email: 'news@herald.test' }, subject: 'S', content: [{ type: 'text/html', value: html }], personalizations });
      await sink.events!.idle();
      counts.push(receiver.events().filter((event) => event.event === 'open').length);
      await sink.close();
      receiver.posts.length = 0;
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeGreaterThan(5);
    sink = await startMailSink({ apiKey: API_KEY });
  });

  it('posts at most 1,000 events a batch', async () => {
    sink = await startMailSink({ apiKey: API_KEY, events: { ...sinkEnv(receiver.url, { SINK_EVENT_OPEN_RATE: '0', SINK_EVENT_CLICK_RATE: '0', SINK_EVENT_BOUNCE_RATE: '0' }), flushIntervalMs: 20 } });
    const personalizations = Array.from({ length: 600 }, (_, i) => ({ to: [{ email: `r${i}@example.com` }] }));
    await send(sink, { from: { email: 'news@herald.test' }, subject: 'S', content: [{ type: 'text/plain', value: 'x' }], personalizations });
    await sink.events!.idle();
    expect(receiver.posts.map((post) => (JSON.parse(post.body.toString()) as unknown[]).length)).toEqual([1_000, 200]);
  });
});

describe('a failing webhook', () => {
  it('is retried with backoff, then the batch is given up and counted', async () => {
    let answers = 0;
    const receiver = await startReceiver(() => (++answers <= 1 ? 503 : 500));
    const sink = await startMailSink({ apiKey: API_KEY, events: { ...sinkEnv(receiver.url), flushIntervalMs: 10, maxAttempts: 3, retryBaseMs: 10 } });
    await send(sink, { from: { email: 'news@herald.test' }, subject: 'S', content: [{ type: 'text/plain', value: 'x' }], personalizations: [{ to: [{ email: 'bounce@example.com' }] }] });
    await sink.events!.idle();
    expect(receiver.posts.length).toBeGreaterThanOrEqual(3);
    expect(sink.events!.stats()).toMatchObject({ posted: 0, failedBatches: expect.any(Number), retries: expect.any(Number) });
    expect(sink.events!.stats().failedEvents).toBe(2);
    await sink.close();
    await receiver.close();
  });

  it('delivers once the webhook recovers', async () => {
    let answers = 0;
    const receiver = await startReceiver(() => (++answers === 1 ? 503 : 200));
    const sink = await startMailSink({ apiKey: API_KEY, events: { ...sinkEnv(receiver.url, { SINK_EVENT_DELAY_MS: '0' }), flushIntervalMs: 10, retryBaseMs: 10 } });
    await send(sink, { from: { email: 'news@herald.test' }, subject: 'S', content: [{ type: 'text/plain', value: 'x' }], personalizations: [{ to: [{ email: 'bounce@example.com' }] }] });
    await sink.events!.idle();
    expect(sink.events!.stats()).toMatchObject({ posted: 2, retries: 1, failedBatches: 0 });
    await sink.close();
    await receiver.close();
  });
});
