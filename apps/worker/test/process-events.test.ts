import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createProducerConnection, createQueues, loadEmailLayout } from '@herald/shared';
import type { Express } from 'express';
import { createApp } from '../../web/src/app.js';
import { processEvents } from '../src/handlers/process-events.js';
import { reconcile } from '../src/handlers/reconcile.js';
import { deliveriesByStatus, postSend, seedSubscribers, waitForCampaignSent } from '../../../test/support/factories.js';
import { createWebhookKeys, signedWebhookHeaders, webhookBody } from '../../../test/support/sendgrid-webhook.js';
import { useStack, jobContext, waitFor } from '../../../test/support/stack.js';

/** The test plays SendGrid, signing its posts with the key whose public half Herald is given. */
const sendgrid = createWebhookKeys();

function postEvents(app: Express, events: object[]) {
  const body = webhookBody(events);
  return request(app).post('/webhooks/sendgrid').set(signedWebhookHeaders(body, sendgrid.privateKey)).send(body).expect(200);
}

function event(fields: Record<string, unknown>) {
  return { timestamp: Math.floor(Date.now() / 1000), sg_event_id: randomUUID(), sg_message_id: `${randomUUID()}.filter`, ...fields };
}

const stack = useStack({ SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKeyBase64 });

async function runProcessEvents() {
  const deps = stack.workerDeps();
  return processEvents({}, jobContext(deps), deps);
}

async function statusOf(email: string) {
  return (await stack.web.db.subscriber.findUniqueOrThrow({ where: { email } })).status;
}

/** Everything an applied event can change, to compare before and after a replay. */
async function snapshot() {
  const { db } = stack.web;
  return {
    subscribers: await db.subscriber.findMany({ orderBy: { email: 'asc' }, select: { email: true, status: true, updatedAt: true, unsubscribedAt: true } }),
    deliveries: await db.delivery.findMany({ orderBy: { id: 'asc' }, select: { id: true, status: true, lastError: true, updatedAt: true } }),
    campaigns: await db.campaign.findMany({ orderBy: { id: 'asc' }, select: { id: true, status: true, finishedAt: true } }),
    events: await db.emailEvent.findMany({ orderBy: { id: 'asc' }, select: { id: true, dedupeKey: true, backlog: true } }),
  };
}

describe('processEvents applies each kind of event', () => {
  const cases: { name: string; fields: Record<string, unknown>; expected: string }[] = [
    { name: 'a bounce', fields: { event: 'bounce', type: 'bounce', reason: '550 5.1.1 unknown user' }, expected: 'bounced' },
    { name: 'a bounce without a type', fields: { event: 'bounce', reason: '550 5.1.1 unknown user' }, expected: 'bounced' },
    { name: 'a drop of an invalid address', fields: { event: 'dropped', reason: 'Invalid' }, expected: 'bounced' },
    { name: 'a drop of a bounced address', fields: { event: 'dropped', reason: 'Bounced Address' }, expected: 'bounced' },
    { name: 'a drop of an unsubscribed address', fields: { event: 'dropped', reason: 'Unsubscribed Address' }, expected: 'unsubscribed' },
    { name: 'a drop of an address that reported spam', fields: { event: 'dropped', reason: 'Spam Reporting Address' }, expected: 'complained' },
    { name: 'a drop for spam content', fields: { event: 'dropped', reason: 'Spam Content' }, expected: 'active' },
    { name: 'a block of an invalid address', fields: { event: 'bounce', type: 'blocked', bounce_classification: 'Invalid Address' }, expected: 'bounced' },
    { name: 'a block for reputation', fields: { event: 'bounce', type: 'blocked', bounce_classification: 'Reputation' }, expected: 'active' },
    { name: 'a spam report', fields: { event: 'spamreport' }, expected: 'complained' },
    { name: 'an unsubscribe', fields: { event: 'unsubscribe' }, expected: 'unsubscribed' },
    { name: 'a group unsubscribe', fields: { event: 'group_unsubscribe', asm_group_id: 1 }, expected: 'unsubscribed' },
    { name: 'a block', fields: { event: 'bounce', type: 'blocked', reason: '421 try again later' }, expected: 'active' },
    { name: 'an expired bounce', fields: { event: 'bounce', type: 'expired' }, expected: 'active' },
    { name: 'a drop caused by our own request', fields: { event: 'dropped', reason: 'Invalid SMTPAPI header' }, expected: 'active' },
    { name: 'a deferral', fields: { event: 'deferred', response: '450 mailbox busy', attempt: '1' }, expected: 'active' },
    { name: 'a delivery', fields: { event: 'delivered', response: '250 OK' }, expected: 'active' },
    { name: 'an open', fields: { event: 'open', useragent: 'Mozilla/5.0' }, expected: 'active' },
    { name: 'a click', fields: { event: 'click', url: 'https://example.com/' }, expected: 'active' },
    { name: 'a resubscribe', fields: { event: 'group_resubscribe', asm_group_id: 1 }, expected: 'active' },
  ];

  it.each(cases)('$name leaves the subscriber $expected, and is recorded', async ({ fields, expected }) => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }, { email: 'grace@example.com' }]);
    await postEvents(stack.web.app, [event({ email: 'ada@example.com', ...fields })]);

    const outcome = await runProcessEvents();
    expect(outcome).toEqual({ processed: 1, suppressed: expected === 'active' ? 0 : 1 });
    expect(await statusOf('ada@example.com')).toBe(expected);
    expect(await statusOf('grace@example.com')).toBe('active');
    const [stored] = await stack.web.db.emailEvent.findMany({ include: { backlog: true } });
    expect(stored).toMatchObject({ type: fields.event, backlog: null });
  });
});

describe('processEvents', () => {
  it("skips a bounced subscriber's queued deliveries and sends them nothing more", async () => {
    const [ada] = await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }, { email: 'grace@example.com' }]);
    const res = await postSend(stack.web.app).expect(202);
    const adaDelivery = await stack.web.db.delivery.findFirstOrThrow({ where: { subscriberId: ada!.id, campaignId: res.body.campaignId } });

    await postEvents(stack.web.app, [event({ event: 'bounce', type: 'bounce', email: 'ada@example.com', herald_delivery_id: adaDelivery.id })]);
    expect(await runProcessEvents()).toEqual({ processed: 1, suppressed: 1 });
    expect(await statusOf('ada@example.com')).toBe('bounced');
    expect(await stack.web.db.delivery.findUniqueOrThrow({ where: { id: adaDelivery.id } })).toMatchObject({
      status: 'skipped',
      lastError: 'subscriber bounced',
    });

    await stack.startWorker();
    await waitForCampaignSent(stack.web.db, res.body.campaignId);
    expect(stack.sink.inbox.list().map((message) => message.recipients[0])).toEqual(['grace@example.com']);
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: 1, skipped: 1 });
  });

  it('finishes a campaign whose last queued recipients all bounced', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }]);
    const res = await postSend(stack.web.app).expect(202);
    await postEvents(stack.web.app, [event({ event: 'spamreport', email: 'ada@example.com' })]);
    await runProcessEvents();
    expect(await stack.web.db.campaign.findUniqueOrThrow({ where: { id: res.body.campaignId } })).toMatchObject({ status: 'sent' });
  });

  it('changes nothing when a batch is replayed, stored or processed again', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }, { email: 'grace@example.com' }, { email: 'alan@example.com' }]);
    await postSend(stack.web.app).expect(202);
    const batch = [
      event({ event: 'bounce', type: 'bounce', email: 'ada@example.com' }),
      event({ event: 'spamreport', email: 'grace@example.com' }),
      event({ event: 'unsubscribe', email: 'alan@example.com' }),
      event({ event: 'open', email: 'alan@example.com' }),
    ];
    await postEvents(stack.web.app, batch);
    expect(await runProcessEvents()).toEqual({ processed: 4, suppressed: 3 });
    const applied = await snapshot();

    const replay = await postEvents(stack.web.app, batch);
    expect(replay.body).toEqual({ received: 4, stored: 0, malformed: 0 });
    expect(await runProcessEvents()).toEqual({ processed: 0, suppressed: 0 });
    expect(await snapshot()).toEqual(applied);

    // Even applying the same events a second time changes no subscriber, delivery or campaign.
    // Stored anew, so the backlog trigger queues each one again with what applying it needs.
    await stack.web.db.$executeRaw`WITH stored AS (DELETE FROM email_events RETURNING *) INSERT INTO email_events SELECT * FROM stored`;
    expect(await runProcessEvents()).toEqual({ processed: 4, suppressed: 0 });
    const again = await snapshot();
    expect({ ...again, events: [] }).toEqual({ ...applied, events: [] });
  });

  it('never lets an unsubscribe hide a bounce or a complaint in the same batch', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }, { email: 'grace@example.com' }]);
    await postEvents(stack.web.app, [
      event({ event: 'unsubscribe', email: 'ada@example.com' }),
      event({ event: 'bounce', email: 'ada@example.com' }),
      event({ event: 'unsubscribe', email: 'grace@example.com' }),
      event({ event: 'spamreport', email: 'grace@example.com' }),
    ]);
    await runProcessEvents();
    expect(await statusOf('ada@example.com')).toBe('bounced');
    expect(await statusOf('grace@example.com')).toBe('complained');
  });

  it('matches an asynchronous bounce without custom args by address', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }]);
    await postEvents(stack.web.app, [{ event: 'bounce', email: 'Ada@Example.com', timestamp: Math.floor(Date.now() / 1000), type: 'bounce' }]);
    expect(await runProcessEvents()).toEqual({ processed: 1, suppressed: 1 });
    expect(await statusOf('ada@example.com')).toBe('bounced');
  });

  it('bounces a pending subscriber whose confirmation email bounced', async () => {
    const [pending] = await seedSubscribers(stack.web.db, [{ email: 'typo@exmaple.com', status: 'pending' }]);
    await postEvents(stack.web.app, [event({ event: 'bounce', email: 'typo@exmaple.com', herald_subscriber_id: pending!.id })]);
    await runProcessEvents();
    expect(await statusOf('typo@exmaple.com')).toBe('bounced');
  });

  it('records an event for an unknown delivery and address without effect or error', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }]);
    await postEvents(stack.web.app, [event({ event: 'bounce', email: 'stranger@example.com', herald_delivery_id: randomUUID() })]);
    expect(await runProcessEvents()).toEqual({ processed: 1, suppressed: 0 });
    expect(await statusOf('ada@example.com')).toBe('active');
    expect(await stack.web.db.emailEvent.findFirstOrThrow({ include: { backlog: true } })).toMatchObject({ deliveryId: null, subscriberId: null, backlog: null });
  });

  it('drains a backlog larger than one batch', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }]);
    await stack.web.db.$executeRaw`
      INSERT INTO email_events (dedupe_key, type, occurred_at, payload)
      SELECT 'open-' || n, 'open', now(), '{}'::jsonb FROM generate_series(1, 4321) AS n`;
    await postEvents(stack.web.app, [event({ event: 'spamreport', email: 'ada@example.com' })]);
    expect(await runProcessEvents()).toEqual({ processed: 4322, suppressed: 1 });
    expect(await stack.web.db.emailEventBacklog.count()).toBe(0);
    expect(await statusOf('ada@example.com')).toBe('complained');
  });

  it('leaves events unprocessed when applying them fails, so nothing is lost', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }]);
    await postEvents(stack.web.app, [event({ event: 'bounce', email: 'ada@example.com' })]);
    const { db } = stack.web;
    await db.$executeRawUnsafe(`CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`);
    await db.$executeRawUnsafe('CREATE TRIGGER test_refuse BEFORE UPDATE ON subscribers FOR EACH ROW EXECUTE FUNCTION test_refuse()');
    try {
      await expect(runProcessEvents()).rejects.toThrow(/refused/);
    } finally {
      await db.$executeRawUnsafe('DROP TRIGGER test_refuse ON subscribers');
      await db.$executeRawUnsafe('DROP FUNCTION test_refuse()');
    }
    expect(await db.emailEventBacklog.count()).toBe(1);
    expect(await statusOf('ada@example.com')).toBe('active');

    expect(await runProcessEvents()).toEqual({ processed: 1, suppressed: 1 });
    expect(await statusOf('ada@example.com')).toBe('bounced');
  });
});

describe('with workers running', () => {
  it('suppresses the bounced address of a batch that also holds a malformed event', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }, { email: 'grace@example.com' }]);
    await stack.startWorker();
    // SendGrid's own reference shows events like the second one; the third has no timestamp at all.
    const res = await postEvents(stack.web.app, [
      event({ event: 'bounce', type: 'bounce', email: 'ada@example.com', reason: '550 5.1.1 unknown user' }),
      { event: 'Processed', timestamp: '1700000000', email: 'grace@example.com' },
      { event: 'spamreport', email: 'grace@example.com' },
    ]);
    expect(res.body).toEqual({ received: 3, stored: 2, malformed: 1 });
    await waitFor('bounce applied', async () => (await statusOf('ada@example.com')) === 'bounced');
    expect(await statusOf('grace@example.com')).toBe('active');
    expect(await stack.web.db.malformedEmailEvent.count()).toBe(1);
  });

  it('applies a webhook post end to end', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }, { email: 'grace@example.com' }]);
    await stack.startWorker();
    await postEvents(stack.web.app, [event({ event: 'spamreport', email: 'ada@example.com' }), event({ event: 'delivered', email: 'grace@example.com' })]);
    await waitFor('spam report applied', async () => (await statusOf('ada@example.com')) === 'complained');
    await waitFor('events processed', async () => (await stack.web.db.emailEventBacklog.count()) === 0);
    expect(await statusOf('grace@example.com')).toBe('active');
  });

  it('applies events stored while Redis was down once the reconciler finds them', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }]);
    const deadRedis = createProducerConnection('redis://127.0.0.1:1');
    deadRedis.on('error', () => undefined);
    const deadQueues = createQueues(deadRedis, stack.web.config.queuePrefix);
    for (const queue of Object.values(deadQueues)) queue.on('error', () => undefined);
    try {
      const { config, db, logger } = stack.web;
      const app = createApp({ config, db, logger, redis: deadRedis, queues: deadQueues, emailLayout: loadEmailLayout(config.email.brand) });
      await postEvents(app, [event({ event: 'bounce', email: 'ada@example.com' })]);
    } finally {
      deadRedis.disconnect();
    }
    expect(await stack.web.queues.events.count()).toBe(0);

    // Fresh events are left to the webhook's own job for a minute.
    const deps = stack.workerDeps();
    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ unprocessedEvents: 0 });
    expect(await deps.queues.events.count()).toBe(0);

    // The event and its backlog row, which carries the event's created_at.
    await stack.web.db.$executeRaw`UPDATE email_events SET created_at = created_at - interval '2 minutes'`;
    await stack.web.db.$executeRaw`UPDATE email_event_backlog SET created_at = created_at - interval '2 minutes'`;
    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ unprocessedEvents: 1 });
    expect(await deps.queues.events.count()).toBe(1);

    await stack.startWorker();
    await waitFor('bounce applied', async () => (await statusOf('ada@example.com')) === 'bounced');
  });
});
