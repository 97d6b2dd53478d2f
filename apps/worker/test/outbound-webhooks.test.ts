import { createHash } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pauseCampaign, suppressSubscribers, webhookEventTypes } from '@herald/shared';
import { admin, postSend, seedAudience, waitForCampaignSent } from '../../../test/support/factories.js';
import { adminToken } from '../../../test/support/web.js';
import { useStack, waitFor } from '../../../test/support/stack.js';
import { startWebhookReceiver } from '../../../test/support/webhook-receiver.js';
import { postWebhook } from '../src/webhooks/post-webhook.js';
import { retryDelayMs } from '../src/webhooks/retry-schedule.js';

const fast = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_DISPATCH_EVERY_MS: '50',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_TIMEOUT_MS: '1000',
};
const stack = useStack({ WEBHOOK_ALLOW_PRIVATE: 'true' });
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
});

async function registerEndpoint(events: readonly string[] = webhookEventTypes, url = receiver.url): Promise<{ id: string; secret: string }> {
  const created = await admin(stack.web.app).post('/webhook-endpoints').send({ url, events });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as { id: string; secret: string };
}

async function deliveryStatuses(): Promise<Record<string, number>> {
  const rows = await stack.web.db.$queryRaw<{ status: string; count: number }[]>`
    SELECT status, count(*)::int AS count FROM webhook_deliveries GROUP BY status`;
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

describe('outbound webhooks', { timeout: 60_000 }, () => {
  it('delivers every event type once, signed, after the receiver comes back from an outage', async () => {
    const { secret } = await registerEndpoint();
    receiver.received.length = 0;
    receiver.answer(503);
    await stack.startWorker(fast);
    const { app, db } = stack.web;

    // subscriber.created: a signup (pending: double opt-in).
    expect((await request(app).post('/register').send({ email: 'ada@example.com', name: 'Ada' })).status).toBeLessThan(300);
    const ada = await db.subscriber.findUniqueOrThrow({ where: { email: 'ada@example.com' } });
    // subscriber.confirmed: through the confirmation link. The running worker writes a fresh token
    // when it sends her confirmation email, so the test's own token is set after that.
    await waitFor('the confirmation email', async () =>
      (await db.subscriber.findUniqueOrThrow({ where: { id: ada.id } })).confirmationSentAt);
    const token = 'known-token-for-the-test'.padEnd(43, 'x');
    await db.subscriber.update({
      where: { id: ada.id },
      data: { confirmTokenHash: createHash('sha256').update(token).digest('hex'), confirmTokenExpiresAt: new Date(Date.now() + 60_000) },
    });
    expect((await request(app).post(`/confirm/${token}`).type('form').send({})).status).toBeLessThan(400);
    // subscriber.unsubscribed: the one-click unsubscribe.
    expect((await request(app).post(`/unsubscribe/${ada.unsubscribeToken}`).type('form').send({ 'List-Unsubscribe': 'One-Click' })).status).toBe(200);
    // subscriber.suppressed, then subscriber.erased, for someone else.
    expect((await request(app).post('/register').send({ email: 'bob@example.com' })).status).toBeLessThan(300);
    const bob = await db.subscriber.findUniqueOrThrow({ where: { email: 'bob@example.com' } });
    await suppressSubscribers(db, [bob.id], 'bounced');
    expect((await request(app).delete(`/subscribers/${bob.id}`).set('Authorization', `Bearer ${adminToken}`)).status).toBe(204);
    // campaign.started and campaign.sent; campaign.paused for a second campaign.
    await seedAudience(db, 2);
    const sent = await postSend(app);
    expect(sent.status).toBe(202);
    await waitForCampaignSent(db, sent.body.campaignId);
    const second = await postSend(app, { subject: 'Second', body: '<p>Two</p>' });
    await pauseCampaign(db, second.body.campaignId, 'Paused for the test.');

    await waitFor('attempts during the outage', async () => receiver.received.length >= 8);
    expect(receiver.delivered(secret)).toEqual([]);
    receiver.answer(200);
    await waitFor('every delivery delivered', async () => {
      const statuses = await deliveryStatuses();
      return statuses.delivered !== undefined && statuses.pending === undefined;
    });

    const events = receiver.delivered(secret);
    const types = events.map((event) => event.type);
    for (const type of webhookEventTypes) expect(types, type).toContain(type);
    // Once each: a receiver deduplicating on webhook-id sees as many events as were delivered.
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    expect(await deliveryStatuses()).toEqual({ delivered: events.length });
    for (const event of events) expect(receiver.received.filter((r) => r.headers['webhook-id'] === event.id && r.answered < 300)).toHaveLength(1);

    const byType = (type: string) => events.filter((event) => event.type === type);
    expect(byType('subscriber.created').map((event) => (event.data.subscriber as { email?: string }).email)).toContain('ada@example.com');
    // Bob was erased: no event about him still carries his address.
    const aboutBob = events.filter((event) => (event.data.subscriber as { id?: string } | undefined)?.id === bob.id);
    expect(aboutBob.map((event) => event.type).sort()).toEqual(['subscriber.created', 'subscriber.erased', 'subscriber.suppressed']);
    for (const event of aboutBob) expect(JSON.stringify(event)).not.toContain('bob@example.com');
    expect(byType('subscriber.suppressed')[0]!.data.reason).toBe('bounce');
    expect(byType('campaign.paused')[0]!.data.reason).toBe('Paused for the test.');
    expect((byType('campaign.started').find((e) => (e.data.campaign as { id: string }).id === sent.body.campaignId)!.data.campaign as { recipientCount: number }).recipientCount).toBe(2);
    for (const event of events) expect(event.version).toBe(1);
  });

  it('writes nothing when no endpoint wants the event, and only the types an endpoint asked for', async () => {
    const { app, db } = stack.web;
    await request(app).post('/register').send({ email: 'nobody-listens@example.com' });
    expect(await db.webhookEvent.count()).toBe(0);
    await registerEndpoint(['subscriber.erased']);
    await request(app).post('/register').send({ email: 'carol@example.com' });
    expect(await db.webhookEvent.count()).toBe(0);
    const carol = await db.subscriber.findUniqueOrThrow({ where: { email: 'carol@example.com' } });
    await request(app).delete(`/subscribers/${carol.id}`).set('Authorization', `Bearer ${adminToken}`);
    expect(await db.webhookEvent.findMany({ select: { type: true } })).toEqual([{ type: 'subscriber.erased' }]);
    expect(await db.webhookDelivery.count()).toBe(1);
  });

  it('rolls the event back with the change it reports', async () => {
    await registerEndpoint(['subscriber.created']);
    const { db } = stack.web;
    await expect(
      db.$transaction(async (tx) => {
        await tx.$executeRaw`INSERT INTO subscribers (email) VALUES ('rolled-back@example.com')`;
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await db.webhookEvent.count()).toBe(0);
  });

  it('reports two changes to one subscriber in the same moment as two events, both delivered', async () => {
    const { secret } = await registerEndpoint(['subscriber.created', 'subscriber.confirmed']);
    receiver.received.length = 0;
    receiver.answer(200);
    await stack.startWorker(fast);
    const { db } = stack.web;
    // One statement: the person is added and activated at once.
    await db.$executeRaw`INSERT INTO subscribers (email, status, confirmed_at, consent_at) VALUES ('same-moment@example.com', 'active', now(), now())`;
    await waitFor('both delivered', async () => (await deliveryStatuses()).delivered === 2);
    // Delivered in parallel, so in no particular order; two events of one millisecond, distinct ids.
    const events = receiver.delivered(secret);
    expect(events.map((event) => event.type).sort()).toEqual(['subscriber.confirmed', 'subscriber.created']);
    expect(new Set(events.map((event) => event.id)).size).toBe(2);
  });

  it('does not retry a 4xx, gives up after WEBHOOK_MAX_ATTEMPTS, and disables an endpoint failing for WEBHOOK_DISABLE_AFTER_SECONDS', async () => {
    const { id } = await registerEndpoint(['subscriber.created']);
    receiver.received.length = 0;
    receiver.answer(410);
    await stack.startWorker({ ...fast, WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_DISABLE_AFTER_SECONDS: '1' });
    const { app, db } = stack.web;
    await request(app).post('/register').send({ email: 'gone@example.com' });
    await waitFor('the 410 recorded', async () => (await deliveryStatuses()).failed === 1);
    expect(receiver.received).toHaveLength(1);

    receiver.answer(500);
    await request(app).post('/register').send({ email: 'retried@example.com' });
    await waitFor('given up after 3 attempts', async () => (await deliveryStatuses()).failed === 2);
    expect(receiver.received).toHaveLength(4);
    const attempts = await db.webhookAttempt.findMany({ orderBy: { id: 'asc' } });
    expect(attempts.map((attempt) => attempt.statusCode)).toEqual([410, 500, 500, 500]);
    expect(attempts[1]!.responseExcerpt).toBe('down for now');

    // The run of failures began over a second ago: the next failure disables the endpoint.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await request(app).post('/register').send({ email: 'last-straw@example.com' });
    await waitFor('the endpoint disabled', async () => (await db.webhookEndpoint.findUniqueOrThrow({ where: { id } })).enabled === false);
    const endpoint = (await admin(app).get(`/webhook-endpoints/${id}`)).body as { disabledReason: string; failingSince: string };
    expect(endpoint.disabledReason).toMatch(/^Disabled after every attempt failed for 1 s; the last: 500\./);

    // Enabled again, the receiver back: what was pending goes out at once.
    receiver.answer(200);
    expect((await admin(app).patch(`/webhook-endpoints/${id}`).send({ enabled: true })).status).toBe(200);
    await waitFor('the pending delivery delivered', async () => (await deliveryStatuses()).delivered === 1);
    // "Send again" for one that was given up.
    const failed = await db.webhookDelivery.findFirstOrThrow({ where: { status: 'failed' }, orderBy: { id: 'asc' } });
    expect((await admin(app).post(`/webhook-endpoints/${id}/deliveries/${failed.id}/resend`)).status).toBe(202);
    await waitFor('sent again', async () => (await deliveryStatuses()).delivered === 2);
  });

  it('sends a test event to one endpoint and lists what it sent, newest first', async () => {
    const { id, secret } = await registerEndpoint(['campaign.sent']);
    receiver.received.length = 0;
    receiver.answer(200);
    await stack.startWorker(fast);
    const test = await admin(stack.web.app).post(`/webhook-endpoints/${id}/test`);
    expect(test.status).toBe(202);
    await waitFor('the test delivered', async () => (await deliveryStatuses()).delivered === 1);
    expect(receiver.delivered(secret)[0]).toMatchObject({ id: test.body.eventId, type: 'webhook.test' });
    const listed = await admin(stack.web.app).get(`/webhook-endpoints/${id}/deliveries`);
    expect(listed.status).toBe(200);
    expect(listed.body.deliveries[0]).toMatchObject({ id: test.body.deliveryId, status: 'delivered', attempts: 1, lastAttempt: { statusCode: 200 } });
  });

  it('refuses private addresses unless allowed, and contains endpoints that hang, answer 10 MB or reset', async () => {
    const guarded = { timeoutMs: 500, allowPrivate: false };
    for (const url of ['http://127.0.0.1:1/x', 'http://[::1]/x', 'http://[::ffff:10.0.0.1]/x', 'http://169.254.169.254/latest', 'http://localhost:1/x']) {
      const outcome = await postWebhook(url, '{}', {}, guarded);
      expect(outcome, url).toMatchObject({ answered: false, refused: true });
      expect((outcome as { error: string }).error, url).toMatch(/^refused: /);
    }
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      if (req.url === '/reset') return req.socket.destroy();
      if (req.url === '/redirect') return res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < 10 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 10 * 1024 * 1024) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const open = { timeoutMs: 500, allowPrivate: true };
    try {
      expect(await postWebhook(`${base}/hang`, '{}', {}, open)).toMatchObject({ answered: false, error: 'timed out after 500 ms' });
      expect(await postWebhook(`${base}/reset`, '{}', {}, open)).toMatchObject({ answered: false, refused: false });
      expect(await postWebhook(`${base}/redirect`, '{}', {}, open)).toMatchObject({ answered: true, statusCode: 302 });
      const big = await postWebhook(`${base}/big`, '{}', {}, open);
      expect(big).toMatchObject({ answered: true, statusCode: 200 });
      expect((big as { excerpt: string }).excerpt).toHaveLength(1024);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('backs off ×4 with jitter, honours Retry-After and caps both at six hours', () => {
    const now = new Date('2026-12-07T12:00:00Z');
    expect(retryDelayMs(1, 5_000, undefined, now, () => 1)).toBe(5_000);
    expect(retryDelayMs(3, 5_000, undefined, now, () => 1)).toBe(80_000);
    expect(retryDelayMs(3, 5_000, undefined, now, () => 0)).toBe(40_000);
    expect(retryDelayMs(30, 5_000, undefined, now, () => 1)).toBe(6 * 3_600_000);
    expect(retryDelayMs(1, 5_000, '120', now)).toBe(120_000);
    expect(retryDelayMs(1, 5_000, 'Mon, 07 Dec 2026 12:05:00 GMT', now)).toBe(300_000);
    expect(retryDelayMs(1, 5_000, '999999', now)).toBe(6 * 3_600_000);
  });
});
