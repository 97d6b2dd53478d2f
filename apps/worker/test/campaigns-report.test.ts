/**
 * The across-campaigns report: two campaigns' figures side by side, read from the aggregates the
 * real event processing keeps, as the campaign report reads them; and the range that picks them.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Express } from 'express';
import { processEvents } from '../src/handlers/process-events.js';
import { admin, postSend, seedSubscribers } from '../../../test/support/factories.js';
import { createWebhookKeys, signedWebhookHeaders, webhookBody } from '../../../test/support/sendgrid-webhook.js';
import { jobContext, useStack } from '../../../test/support/stack.js';

const sendgrid = createWebhookKeys();
const stack = useStack({ SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKeyBase64 });

function postEvents(app: Express, events: object[]) {
  const body = webhookBody(events);
  return request(app).post('/webhooks/sendgrid').set(signedWebhookHeaders(body, sendgrid.privateKey)).send(body).expect(200);
}

async function applyEvents() {
  const deps = stack.workerDeps();
  await processEvents({}, jobContext(deps), deps);
}

/**
 * A campaign to everyone on the default list, its deliveries marked sent (no worker sends them:
 * the figures are the events'), and started and finished at the times given.
 */
async function campaignSent(subject: string, startedAt: string, finishedAt: string) {
  const { db } = stack.web;
  const sent = await postSend(stack.web.app, { subject, body: '<p>Hi <a href="https://example.com/a">there</a></p>' }).expect(202);
  const id: string = sent.body.campaignId;
  await db.delivery.updateMany({ where: { campaignId: id }, data: { status: 'sent', sentAt: new Date(startedAt) } });
  await db.campaign.update({ where: { id }, data: { status: 'sent', startedAt: new Date(startedAt), finishedAt: new Date(finishedAt) } });
  const deliveries = await db.delivery.findMany({ where: { campaignId: id } });
  const people = await db.subscriber.findMany({ where: { id: { in: deliveries.map((row) => row.subscriberId!) } } });
  const start = Math.floor(new Date(startedAt).getTime() / 1000);
  const on = (email: string, event: string, fields: Record<string, unknown> = {}) => {
    const person = people.find((row) => row.email === email)!;
    return {
      sg_event_id: randomUUID(),
      email,
      herald_delivery_id: deliveries.find((row) => row.subscriberId === person.id)!.id,
      event,
      timestamp: start + 60,
      ...fields,
    };
  };
  return { id, on };
}

describe('GET /reports/campaigns', () => {
  it('puts the campaigns of the range side by side with the figures and rates of their reports', async () => {
    const { db } = stack.web;
    await seedSubscribers(db, [{ email: 'ada@example.com' }, { email: 'grace@example.com' }, { email: 'lin@example.com' }]);
    const march = await campaignSent('March issue', '2026-03-01T10:00:00Z', '2026-03-06T09:00:00Z');
    await postEvents(stack.web.app, [
      march.on('ada@example.com', 'delivered'),
      march.on('grace@example.com', 'delivered'),
      march.on('lin@example.com', 'bounce', { type: 'bounce', reason: '550 no such user' }),
      march.on('ada@example.com', 'open'),
      march.on('ada@example.com', 'open', { timestamp: Date.parse('2026-03-02T10:00:00Z') / 1000 }),
      march.on('grace@example.com', 'open'),
      march.on('ada@example.com', 'click', { url: 'https://example.com/a' }),
      march.on('grace@example.com', 'unsubscribe'),
    ]);
    await applyEvents();

    // Lin bounced and Grace left: the second issue reaches Ada and a newcomer.
    await seedSubscribers(db, [{ email: 'mo@example.com' }]);
    const april = await campaignSent('April issue', '2026-04-01T10:00:00Z', '2026-04-01T10:05:00Z');
    await postEvents(stack.web.app, [
      april.on('ada@example.com', 'delivered'),
      april.on('mo@example.com', 'delivered'),
      april.on('ada@example.com', 'click', { url: 'https://example.com/a' }),
      april.on('ada@example.com', 'click', { url: 'https://example.com/a' }),
      april.on('mo@example.com', 'spamreport'),
    ]);
    await applyEvents();

    const both = await admin(stack.web.app).get('/reports/campaigns?from=2026-03-01&to=2026-04-30').expect(200);
    expect(both.headers['cache-control']).toBe('no-store');
    expect(both.body.from).toBe('2026-03-01T00:00:00.000Z');
    expect(both.body.to).toBe('2026-05-01T00:00:00.000Z');
    expect(both.body.campaigns.map((row: { subject: string }) => row.subject)).toEqual(['March issue', 'April issue']);
    const [first, second] = both.body.campaigns;
    expect(first).toMatchObject({ id: march.id, sentAt: '2026-03-01T10:00:00.000Z', status: 'sent' });
    expect(first.totals).toMatchObject({ sent: 3, delivered: 2, opened: 3, uniqueOpened: 2, clicked: 1, uniqueClicked: 1, unsubscribed: 1, bounced: 1, complained: 0 });
    expect(first.rates).toEqual({ delivered: 0.6667, opened: 1, clicked: 0.5, clickToOpen: 0.5, bounced: 0.3333, complained: 0, unsubscribed: 0.5 });
    expect(second.totals).toMatchObject({ sent: 2, delivered: 2, uniqueOpened: 0, clicked: 2, uniqueClicked: 1, unsubscribed: 0, bounced: 0, complained: 1 });
    expect(second.rates).toMatchObject({ opened: 0, clicked: 0.5, complained: 0.5 });

    // The same figures as each campaign's own report.
    for (const row of both.body.campaigns) {
      const report = await admin(stack.web.app).get(`/campaigns/${row.id}/report`).expect(200);
      expect(row.totals).toEqual(report.body.totals);
      expect(row.rates).toEqual(report.body.rates);
    }

    // A campaign belongs to a range it started or finished in; a date as `to` includes that day.
    const ids = async (query: string) =>
      (await admin(stack.web.app).get(`/reports/campaigns?${query}`).expect(200)).body.campaigns.map((row: { id: string }) => row.id);
    expect(await ids('from=2026-02-01&to=2026-03-01')).toEqual([march.id]);
    expect(await ids('from=2026-03-05T00:00:00Z&to=2026-03-08T00:00:00Z')).toEqual([march.id]);
    expect(await ids('from=2026-03-07&to=2026-04-01')).toEqual([april.id]);
    expect(await ids('from=2026-04-01T10:06:00Z&to=2026-04-30')).toEqual([]);
    // The default is the last 30 days, which these campaigns are long before.
    expect(await ids('')).toEqual([]);

    // The bounce and the complaint were recorded with a time: the audience growth counts them.
    const suppressed = await db.subscriber.findMany({ where: { suppressedAt: { not: null } }, orderBy: { email: 'asc' } });
    expect(suppressed.map((person) => [person.email, person.status])).toEqual([['lin@example.com', 'bounced'], ['mo@example.com', 'complained']]);
    const today = new Date().toISOString().slice(0, 10);
    const growth = await admin(stack.web.app).get(`/reports/campaigns?from=${today}&to=${today}`).expect(200);
    expect(growth.body.audience.days).toEqual([{ day: today, signups: 4, confirmations: 0, unsubscribes: 1, suppressions: 2, net: -3 }]);
  });
});
