import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProducerConnection, createQueues } from '@herald/shared';
import type { Express } from 'express';
import { createApp } from '../src/app.js';
import type { WebDeps } from '../src/deps.js';
import { countCampaignEvents } from '../src/webhooks/count-campaign-events.js';
import { applyEventBatch } from '../../worker/src/events/apply-event-batch.js';
import { truncateAll } from '../../../test/support/database.js';
import { seedSubscribers } from '../../../test/support/factories.js';
import { createWebhookKeys, publicKeyBase64, signedWebhookHeaders, webhookBody } from '../../../test/support/sendgrid-webhook.js';
import { createWebHarness, metricsToken } from '../../../test/support/web.js';
import type { WebHarness } from '../../../test/support/web.js';
import { checkAnswers } from '../../../test/support/api-description.js';

/** The test plays SendGrid: it holds the private key, Herald is configured with the public one. */
const sendgrid = createWebhookKeys();
const impostor = createWebhookKeys();

type PostOptions = {
  privateKey?: KeyObject;
  timestamp?: string;
  /** Headers to send instead of the signed ones (to leave one out, say). */
  headers?: Record<string, string>;
  /** Changes the body after it was signed. */
  tamper?: (body: string) => string;
};

function signedHeaders(body: string, options: PostOptions = {}): Record<string, string> {
  return signedWebhookHeaders(body, options.privateKey ?? sendgrid.privateKey, options.timestamp);
}

function postEvents(app: Express, events: unknown, options: PostOptions = {}) {
  const body = webhookBody(events);
  const headers = options.headers ?? signedHeaders(body, options);
  const sent = options.tamper ? options.tamper(body) : body;
  // A string goes out as is; superagent would JSON-encode a Buffer under a JSON content type.
  return request(app).post('/webhooks/sendgrid').set(headers).send(sent);
}

const now = () => Math.floor(Date.now() / 1000);

function event(fields: Record<string, unknown>) {
  return { timestamp: now(), 'smtp-id': '<abc@herald.test>', category: ['newsletter'], sg_event_id: randomUUID(), ...fields };
}

let web: WebHarness;

beforeAll(async () => {
  web = await createWebHarness({ SENDGRID_WEBHOOK_PUBLIC_KEY: publicKeyBase64(sendgrid.publicKey) });
});
afterAll(async () => {
  await web.close();
});
beforeEach(async () => {
  await truncateAll(web.db);
  await web.queues.events.obliterate({ force: true });
});

/** The web app over the same database with other webhook settings. */
function appWith(webhook: WebDeps['config']['webhook'], overrides: Partial<WebDeps> = {}): Express {
  const { config, db, redis, queues, logger, emailLayout } = web;
  return checkAnswers(createApp({ config: { ...config, webhook }, db, redis, queues, logger, emailLayout, ...overrides }));
}

/** A subscriber with a queued delivery in a sending campaign. */
async function seedDelivery(email = 'ada@example.com') {
  const [subscriber] = await seedSubscribers(web.db, [{ email }]);
  const campaign = await web.db.campaign.create({ data: { subject: 'Issue 1', html: '<p>Hi</p>', status: 'sending', recipientCount: 1 } });
  const delivery = await web.db.delivery.create({ data: { campaignId: campaign.id, subscriberId: subscriber!.id } });
  return { subscriber: subscriber!, campaign, delivery };
}

const storedEvents = () => web.db.emailEvent.findMany({ orderBy: { occurredAt: 'asc' } });
const processingJobs = () => web.queues.events.getJobs(['waiting', 'delayed', 'prioritized']);

describe('POST /webhooks/sendgrid with a valid signature', () => {
  it('stores each event linked to its delivery and subscriber and queues their processing', async () => {
    const { subscriber, delivery } = await seedDelivery();
    const sentAt = now() - 30;
    const events = [
      event({ event: 'processed', email: 'ada@example.com', timestamp: sentAt, sg_message_id: 'msg-1.filter', herald_delivery_id: delivery.id }),
      event({ event: 'delivered', email: 'ada@example.com', timestamp: sentAt + 5, sg_message_id: 'msg-1.filter', herald_delivery_id: delivery.id, response: '250 OK' }),
    ];
    const res = await postEvents(web.app, events).expect(200);
    expect(res.body).toEqual({ received: 2, stored: 2, malformed: 0 });

    const rows = await storedEvents();
    expect(rows.map((row) => row.type)).toEqual(['processed', 'delivered']);
    for (const row of rows) {
      expect(row).toMatchObject({ deliveryId: delivery.id, subscriberId: subscriber.id });
    }
    // Stored, not yet applied: each is in the backlog, in the order stored.
    const backlog = await web.db.emailEventBacklog.findMany({ orderBy: { seq: 'asc' } });
    expect(new Set(backlog.map((row) => row.eventId))).toEqual(new Set(rows.map((row) => row.id)));
    expect(backlog).toHaveLength(rows.length);
    expect(rows[0]?.occurredAt).toEqual(new Date(sentAt * 1000));
    expect(rows[0]?.dedupeKey).toBe(events[0]?.sg_event_id);
    // Unknown fields are kept as SendGrid sent them.
    expect(rows[1]?.payload).toMatchObject({ response: '250 OK', category: ['newsletter'], 'smtp-id': '<abc@herald.test>' });
    expect((await processingJobs()).map((job) => job.name)).toEqual(['process-events']);
  });

  it('links an asynchronous bounce without custom args to the subscriber by address', async () => {
    const { subscriber } = await seedDelivery();
    const res = await postEvents(web.app, [{ event: 'bounce', email: ' ADA@Example.com', timestamp: now(), type: 'bounce', reason: '550 5.1.1 no such user' }]).expect(200);
    expect(res.body).toEqual({ received: 1, stored: 1, malformed: 0 });
    const [row] = await storedEvents();
    expect(row).toMatchObject({ type: 'bounce', subscriberId: subscriber.id, deliveryId: null });
  });

  it('links a confirmation email event to the subscriber named in its custom args', async () => {
    const [subscriber] = await seedSubscribers(web.db, [{ email: 'new@example.com', status: 'pending' }]);
    await postEvents(web.app, [event({ event: 'bounce', email: 'typo@example.com', herald_subscriber_id: subscriber!.id })]).expect(200);
    expect((await storedEvents())[0]).toMatchObject({ subscriberId: subscriber!.id, deliveryId: null });
  });

  it('stores an event whose herald_delivery_id is not a real delivery, unlinked', async () => {
    const { subscriber } = await seedDelivery();
    const res = await postEvents(web.app, [
      event({ event: 'delivered', email: 'ada@example.com', herald_delivery_id: randomUUID() }),
      event({ event: 'delivered', email: 'ada@example.com', herald_delivery_id: 'not-a-uuid' }),
      event({ event: 'delivered', email: 'stranger@example.com', herald_delivery_id: randomUUID(), herald_subscriber_id: randomUUID() }),
    ]).expect(200);
    expect(res.body).toEqual({ received: 3, stored: 3, malformed: 0 });
    const rows = await storedEvents();
    expect(rows.map((row) => row.deliveryId)).toEqual([null, null, null]);
    expect(rows.map((row) => row.subscriberId).sort()).toEqual([subscriber.id, subscriber.id, null].sort());
  });

  it('stores a replayed batch once and queues nothing for the replay', async () => {
    const { delivery } = await seedDelivery();
    const events = [
      event({ event: 'delivered', email: 'ada@example.com', herald_delivery_id: delivery.id }),
      event({ event: 'open', email: 'ada@example.com', herald_delivery_id: delivery.id }),
    ];
    await postEvents(web.app, events).expect(200);
    const before = await storedEvents();
    const again = await postEvents(web.app, events).expect(200);
    expect(again.body).toEqual({ received: 2, stored: 0, malformed: 0 });
    expect(await storedEvents()).toEqual(before);
    expect(await processingJobs()).toHaveLength(1);
  });

  it('deduplicates events without sg_event_id by message, kind, time and address', async () => {
    const bounce = { event: 'bounce', email: 'ada@example.com', timestamp: now(), sg_message_id: 'msg-2.filter', type: 'bounce' };
    const first = await postEvents(web.app, [bounce, bounce]).expect(200);
    expect(first.body).toEqual({ received: 2, stored: 1, malformed: 0 });
    const second = await postEvents(web.app, [bounce, { ...bounce, timestamp: bounce.timestamp + 1 }, { ...bounce, event: 'dropped' }]).expect(200);
    expect(second.body).toEqual({ received: 3, stored: 2, malformed: 0 });
    expect((await storedEvents())[0]?.dedupeKey).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('accepts an empty batch', async () => {
    const res = await postEvents(web.app, []).expect(200);
    expect(res.body).toEqual({ received: 0, stored: 0, malformed: 0 });
    expect(await processingJobs()).toHaveLength(0);
  });

  it('stores text Postgres cannot hold (NUL, unpaired surrogates) with those characters replaced', async () => {
    const body = '[{"event":"dropped","email":"ada@example.com","timestamp":1700000000,"reason":"Inv\\u0000alid \\ud800","sg_event_id":"e-nul"}]\r\n';
    const res = await postEvents(web.app, body).expect(200);
    expect(res.body).toEqual({ received: 1, stored: 1, malformed: 0 });
    expect((await storedEvents())[0]?.payload).toMatchObject({ reason: 'Inv\ufffdalid \ufffd' });
  });

  it('stores the events and answers 200 when Redis cannot take the processing job', async () => {
    const deadRedis = createProducerConnection('redis://127.0.0.1:1');
    deadRedis.on('error', () => undefined);
    const deadQueues = createQueues(deadRedis, web.config.queuePrefix);
    for (const queue of Object.values(deadQueues)) queue.on('error', () => undefined);
    try {
      const app = appWith(web.config.webhook, { redis: deadRedis, queues: deadQueues });
      const started = Date.now();
      const res = await postEvents(app, [event({ event: 'spamreport', email: 'ada@example.com' })]).expect(200);
      expect(res.body).toEqual({ received: 1, stored: 1, malformed: 0 });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await web.db.emailEventBacklog.count()).toBe(1);
    } finally {
      deadRedis.disconnect();
    }
  });
});

describe('POST /webhooks/sendgrid refuses unauthentic posts and stores nothing', () => {
  const batch = [event({ event: 'unsubscribe', email: 'ada@example.com' })];

  async function expectRefused(res: request.Response, status: number, code: string) {
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
    expect(await web.db.emailEvent.count()).toBe(0);
    expect(await processingJobs()).toHaveLength(0);
  }

  it('refuses a signature made with another key', async () => {
    await expectRefused(await postEvents(web.app, batch, { privateKey: impostor.privateKey }), 403, 'invalid_signature');
  });

  it('refuses a signature that is not a signature at all', async () => {
    const body = webhookBody(batch);
    const headers = { ...signedHeaders(body), 'X-Twilio-Email-Event-Webhook-Signature': 'bm90IGEgc2lnbmF0dXJl' };
    await expectRefused(await postEvents(web.app, batch, { headers }), 403, 'invalid_signature');
  });

  it('refuses a body changed after signing, even by the trailing CRLF alone', async () => {
    const changed = (body: string) => body.replace('unsubscribe', 'spamreport');
    await expectRefused(await postEvents(web.app, batch, { tamper: changed }), 403, 'invalid_signature');
    const reserialised = (body: string) => JSON.stringify(JSON.parse(body));
    await expectRefused(await postEvents(web.app, batch, { tamper: reserialised }), 403, 'invalid_signature');
  });

  it('refuses a valid signature presented with another timestamp', async () => {
    const body = webhookBody(batch);
    const headers = { ...signedHeaders(body), 'X-Twilio-Email-Event-Webhook-Timestamp': String(now() + 1) };
    await expectRefused(await postEvents(web.app, batch, { headers }), 403, 'invalid_signature');
  });

  it('refuses a post without either signature header', async () => {
    const headers = signedHeaders(webhookBody(batch));
    for (const missing of ['X-Twilio-Email-Event-Webhook-Signature', 'X-Twilio-Email-Event-Webhook-Timestamp']) {
      const { [missing]: _left, ...rest } = headers;
      await expectRefused(await postEvents(web.app, batch, { headers: rest }), 403, 'missing_signature');
    }
  });

  it('refuses a correctly signed post whose timestamp is stale or in the future (replay)', async () => {
    await expectRefused(await postEvents(web.app, batch, { timestamp: String(now() - 16 * 60) }), 403, 'stale_timestamp');
    await expectRefused(await postEvents(web.app, batch, { timestamp: String(now() + 16 * 60) }), 403, 'stale_timestamp');
    await expectRefused(await postEvents(web.app, batch, { timestamp: 'yesterday' }), 403, 'stale_timestamp');
  });

  it('accepts a correctly signed post from within the tolerance', async () => {
    await postEvents(web.app, batch, { timestamp: String(now() - 10 * 60) }).expect(200);
  });
});

describe('POST /webhooks/sendgrid refuses a body that is not a batch and stores nothing', () => {
  const cases: [string, unknown, string][] = [
    ['malformed JSON', '[{"event": "bounce",\r\n', 'invalid_json'],
    ['an empty body', '', 'invalid_json'],
    ['an object instead of an array', `${JSON.stringify({ event: 'bounce', timestamp: 1 })}\r\n`, 'invalid_events'],
  ];

  it.each(cases)('answers 400 to %s', async (_name, events, code) => {
    const res = await postEvents(web.app, events).expect(400);
    expect(res.body.error.code).toBe(code);
    expect(await web.db.emailEvent.count()).toBe(0);
    expect(await web.db.malformedEmailEvent.count()).toBe(0);
  });

  it('answers 413 to a signed body over 5 MB, in the error shape', async () => {
    const res = await postEvents(web.app, `[${'"x",'.repeat(1_400_000)}"x"]\r\n`).expect(413);
    expect(res.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(await web.db.emailEvent.count()).toBe(0);
  });

  it('sets aside an element nested a million levels deep, without a stack trace', async () => {
    const res = await postEvents(web.app, `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`).expect(200);
    // An array holding one too-deep element: the element is set aside, nothing else happens.
    expect(res.body).toEqual({ received: 1, stored: 0, malformed: 1 });
    expect((await web.db.malformedEmailEvent.findFirstOrThrow()).problems).toEqual({ event: expect.stringMatching(/nested/) });
  });

  it('reads invalid UTF-8 in a signed batch as U+FFFD instead of failing the batch', async () => {
    const text = '[{"event":"open","email":"ada@example.com","timestamp":1700000000,"sg_event_id":"bad-utf8","useragent":"X"}]\r\n';
    const body = Buffer.from(text.replace('"X"', '"__"'));
    body.set([0xc3, 0x28], body.indexOf('__'));
    const timestamp = String(now());
    const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), body]), sendgrid.privateKey);
    // Sent as bytes: superagent would JSON-encode a Buffer under a JSON content type.
    const res = await request(web.app)
      .post('/webhooks/sendgrid')
      .set({
        'Content-Type': 'application/octet-stream',
        'X-Twilio-Email-Event-Webhook-Signature': signature.toString('base64'),
        'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
      })
      .send(body)
      .expect(200);
    expect(res.body).toEqual({ received: 1, stored: 1, malformed: 0 });
    expect((await storedEvents())[0]?.payload).toMatchObject({ useragent: '\ufffd(' });
  });
});

describe('POST /webhooks/sendgrid stores the good events of a batch with malformed ones', () => {
  const malformedRows = () => web.db.malformedEmailEvent.findMany({ orderBy: { receivedAt: 'asc' } });

  async function malformedCounter(): Promise<number> {
    const metrics = await request(web.app).get('/metrics').set('Authorization', `Bearer ${metricsToken}`).expect(200);
    const line = metrics.text.split('\n').find((l) => l.startsWith('herald_webhook_malformed_events_total'));
    return Number(line?.split(' ')[1] ?? 0);
  }

  const cases: [string, unknown][] = [
    ['a non-object', 'bounce'],
    ['an event without a timestamp', { event: 'bounce', email: 'ada@example.com' }],
    ['a timestamp that is not a time', { event: 'bounce', email: 'ada@example.com', timestamp: 'yesterday' }],
    ['an event without a name', { email: 'ada@example.com', timestamp: 1_700_000_000 }],
    ['a null', null],
    ['an event nested too deep', { event: 'open', timestamp: 1_700_000_000, extra: JSON.parse(`${'['.repeat(100)}${']'.repeat(100)}`) as unknown }],
  ];

  it.each(cases)('keeps %s raw, counts and logs it, and stores the rest', async (_name, bad) => {
    const before = await malformedCounter();
    const good = [event({ event: 'open', email: 'ada@example.com' }), event({ event: 'delivered', email: 'ada@example.com' })];
    const res = await postEvents(web.app, [good[0], bad, good[1]]).expect(200);
    expect(res.body).toEqual({ received: 3, stored: 2, malformed: 1 });
    expect((await storedEvents()).map((row) => row.type).sort()).toEqual(['delivered', 'open']);
    const [kept] = await malformedRows();
    expect(kept?.raw).toBe(JSON.stringify(bad));
    expect(Object.keys(kept?.problems as object).length).toBeGreaterThan(0);
    expect(await malformedCounter()).toBe(before + 1);
    expect(await processingJobs()).toHaveLength(1);
  });

  it('names the field that is wrong and keeps the address for erasure', async () => {
    await postEvents(web.app, [event({ event: 'open' }), { event: 'bounce', email: ' Ada@Example.com', timestamp: 'soon' }]).expect(200);
    const [kept] = await malformedRows();
    expect(kept).toMatchObject({ problems: { timestamp: expect.any(String) }, email: 'ada@example.com' });
  });

  it('stores a batch whose events are all malformed, answering 200 so SendGrid does not retry it for a day', async () => {
    const res = await postEvents(web.app, [{ event: 'bounce' }, 42]).expect(200);
    expect(res.body).toEqual({ received: 2, stored: 0, malformed: 2 });
    expect(await malformedRows()).toHaveLength(2);
    expect(await processingJobs()).toHaveLength(0);
  });

  it("reads SendGrid's own examples: a timestamp in a string and a capitalised event name", async () => {
    const res = await postEvents(web.app, [{ event: 'Processed', timestamp: '1700000000', email: 'ada@example.com', sg_event_id: 'doc-example' }]).expect(200);
    expect(res.body).toEqual({ received: 1, stored: 1, malformed: 0 });
    expect((await storedEvents())[0]).toMatchObject({ type: 'processed', occurredAt: new Date(1_700_000_000 * 1000) });
  });

  it('cleans odd keys (NUL, lone surrogates) as well as values, so a signed batch never answers 500', async () => {
    const body =
      '[{"event":"open","email":"ada@example.com","timestamp":1700000000,"sg_event_id":"odd-1","we\\u0000ird":"x","\\udc00":"lone","ok":{"\\ud800k":"\\u0000v"}},' +
      '{"event":"bounce","email":"ada@example.com","timestamp":1700000001,"sg_event_id":"odd-2","\\u0000":1}]\r\n';
    const res = await postEvents(web.app, body).expect(200);
    expect(res.body).toEqual({ received: 2, stored: 2, malformed: 0 });
    const [first, second] = await storedEvents();
    expect(first?.payload).toMatchObject({ 'we\ufffdird': 'x', '\ufffd': 'lone', ok: { '\ufffdk': '\ufffdv' } });
    expect(second?.payload).toMatchObject({ event: 'bounce', '\ufffd': 1 });
  });

  it('keeps a malformed event with odd keys raw, with its escapes intact', async () => {
    const body = '[{"event":"open","timestamp":"never","\\u0000key":"\\ud800"}]\r\n';
    await postEvents(web.app, body).expect(200);
    const [kept] = await malformedRows();
    expect(kept?.raw).toBe('{"event":"open","timestamp":"never","\\u0000key":"\\ud800"}');
  });
});

describe('deduplication without sg_event_id', () => {
  const click = (fields: Record<string, unknown>) => ({ event: 'click', email: 'ada@example.com', timestamp: 1_700_000_000, sg_message_id: 'msg-1.filter', ...fields });

  it('keeps two clicks on different links in the same second apart', async () => {
    const res = await postEvents(web.app, [click({ url: 'https://a.example/' }), click({ url: 'https://b.example/' })]).expect(200);
    expect(res.body).toEqual({ received: 2, stored: 2, malformed: 0 });
  });

  it('keeps two clicks on identical links apart by url_offset, and merges a true replay', async () => {
    const first = click({ url: 'https://a.example/', url_offset: { index: 0, type: 'html' } });
    const second = click({ url: 'https://a.example/', url_offset: { index: 1, type: 'html' } });
    expect((await postEvents(web.app, [first, second]).expect(200)).body.stored).toBe(2);
    expect((await postEvents(web.app, [first, second]).expect(200)).body.stored).toBe(0);
  });
});

describe('POST /webhooks/sendgrid without a configured key', () => {
  it('answers 503 and stores nothing', async () => {
    const app = appWith({ publicKey: undefined, allowUnsigned: false });
    const res = await postEvents(app, [event({ event: 'open' })]).expect(503);
    expect(res.body.error.code).toBe('webhook_not_configured');
    expect(await web.db.emailEvent.count()).toBe(0);
  });

  it('accepts unsigned events when allowed (development)', async () => {
    const app = appWith({ publicKey: undefined, allowUnsigned: true });
    const res = await request(app).post('/webhooks/sendgrid').set('Content-Type', 'application/json').send(webhookBody([event({ event: 'open' })])).expect(200);
    expect(res.body).toEqual({ received: 1, stored: 1, malformed: 0 });
  });

  it('still verifies signatures when a key is set, whatever allowUnsigned says', async () => {
    const app = appWith({ publicKey: publicKeyBase64(sendgrid.publicKey), allowUnsigned: true });
    await postEvents(app, [event({ event: 'open' })], { privateKey: impostor.privateKey }).expect(403);
  });

  it('refuses to build the app with a malformed or wrong kind of key', () => {
    expect(() => appWith({ publicKey: 'not a key', allowUnsigned: false })).toThrow(/SENDGRID_WEBHOOK_PUBLIC_KEY/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => appWith({ publicKey: publicKeyBase64(rsa), allowUnsigned: false })).toThrow(/P-256/);
  });
});

describe('countCampaignEvents', () => {
  it('counts distinct deliveries of the campaign per kind of event, once the events are applied', async () => {
    const { campaign, delivery: ada } = await seedDelivery('ada@example.com');
    const [grace] = await seedSubscribers(web.db, [{ email: 'grace@example.com' }]);
    const graceDelivery = await web.db.delivery.create({ data: { campaignId: campaign.id, subscriberId: grace!.id } });
    const other = await seedDelivery('other@example.com');
    const on = (delivery: { id: string }, fields: Record<string, unknown>) => event({ herald_delivery_id: delivery.id, ...fields });

    await postEvents(web.app, [
      on(ada, { event: 'delivered' }),
      on(ada, { event: 'open' }),
      on(ada, { event: 'open' }),
      on(ada, { event: 'open' }),
      on(ada, { event: 'click' }),
      on(ada, { event: 'spamreport' }),
      on(graceDelivery, { event: 'delivered' }),
      on(graceDelivery, { event: 'bounce', type: 'blocked' }),
      on(graceDelivery, { event: 'bounce', type: 'bounce' }),
      on(graceDelivery, { event: 'bounce' }),
      on(graceDelivery, { event: 'group_unsubscribe' }),
      on(graceDelivery, { event: 'dropped', reason: 'Bounced Address' }),
      on(other.delivery, { event: 'delivered' }),
      on(other.delivery, { event: 'bounce', type: 'bounce' }),
    ]).expect(200);
    // Stored, not yet applied: the counts come from the report aggregates the worker keeps.
    expect(Object.values(await countCampaignEvents(web.db, campaign.id))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    await applyEventBatch(web.db, 1000);

    expect(await countCampaignEvents(web.db, campaign.id)).toEqual({
      delivered: 2,
      bounced: 1,
      blocked: 1,
      dropped: 1,
      complained: 1,
      unsubscribed: 1,
      opened: 1,
      clicked: 1,
    });
  });

  it('counts zero for a campaign without events', async () => {
    const { campaign } = await seedDelivery();
    expect(Object.values(await countCampaignEvents(web.db, campaign.id))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
