/**
 * The report aggregates kept as events are applied equal a recount from the stored events
 * (herald_rebuild_report_aggregates), through SendGrid's signed webhook and the real event
 * processing: with replayed batches, repeated opens and clicks, events out of order, events for a
 * person erased in between, events for deliveries Herald does not know, and confirmation emails.
 */
import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Db } from '@herald/shared';
import type { Express } from 'express';
import { processEvents } from '../src/handlers/process-events.js';
import { postSend, seedSubscribers } from '../../../test/support/factories.js';
import { adminToken } from '../../../test/support/web.js';
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
  return processEvents({}, jobContext(deps), deps);
}

/** Every aggregate row, in a fixed order, to compare what was kept with what a recount gives. */
async function aggregates(db: Db) {
  return {
    hours: await db.$queryRaw`SELECT campaign_id::text, kind, hour, events, uniques FROM campaign_event_hours ORDER BY 1, 2, 3`,
    firsts: await db.$queryRaw`SELECT delivery_id::text, kind, campaign_id::text, first_at FROM delivery_event_firsts ORDER BY 1, 2`,
    links: await db.$queryRaw`SELECT campaign_id::text, url_hash, url, clicks, unique_clicks FROM campaign_link_clicks ORDER BY 1, 2`,
    linkFirsts: await db.$queryRaw`SELECT delivery_id::text, url_hash, campaign_id::text, first_at FROM delivery_link_clicks ORDER BY 1, 2`,
    unattributed: await db.$queryRaw`SELECT kind, hour, events FROM unattributed_event_hours ORDER BY 1, 2`,
  };
}

const hour = 3600;
/** 2026-03-01 10:00 UTC, in SendGrid's seconds. */
const t0 = 1772359200;

describe('report aggregates', () => {
  it('equal the recount from the stored events, and count uniques in the hour of each first event', async () => {
    const { db } = stack.web;
    const [ada, grace, lin] = await seedSubscribers(db, [{ email: 'ada@example.com' }, { email: 'grace@example.com' }, { email: 'lin@example.com' }]);
    const sent = await postSend(stack.web.app).expect(202);
    const campaignId: string = sent.body.campaignId;
    const deliveries = await db.delivery.findMany({ where: { campaignId } });
    const deliveryOf = (id: string) => deliveries.find((row) => row.subscriberId === id)!.id;
    const on = (person: { id: string; email: string }, fields: Record<string, unknown>) => ({
      sg_event_id: randomUUID(),
      sg_message_id: `${randomUUID()}.filter`,
      email: person.email,
      herald_delivery_id: deliveryOf(person.id),
      ...fields,
    });

    const first = [
      on(ada!, { event: 'delivered', timestamp: t0 }),
      on(grace!, { event: 'delivered', timestamp: t0 }),
      on(lin!, { event: 'bounce', type: 'bounce', reason: '550 unknown user', timestamp: t0 + 60 }),
      // Ada's open two hours in arrives first; her earlier one comes in a later batch.
      on(ada!, { event: 'open', timestamp: t0 + 2 * hour }),
      on(ada!, { event: 'click', url: 'https://example.com/a', timestamp: t0 + 2 * hour + 5 }),
      on(ada!, { event: 'click', url: 'https://example.com/a', timestamp: t0 + 2 * hour + 9 }),
      on(grace!, { event: 'open', timestamp: t0 + 3 * hour }),
      on(grace!, { event: 'click', url: 'https://example.com/a?ref=grace', timestamp: t0 + 3 * hour }),
      on(grace!, { event: 'bounce', type: 'blocked', reason: '421 try later', timestamp: t0 + 30 }),
      // A delivery Herald never made, and a confirmation email's event.
      { sg_event_id: randomUUID(), event: 'open', email: 'stranger@example.com', herald_delivery_id: randomUUID(), timestamp: t0 },
      { sg_event_id: randomUUID(), event: 'delivered', email: 'lin@example.com', herald_subscriber_id: lin!.id, timestamp: t0 },
      // Not reported.
      on(ada!, { event: 'processed', timestamp: t0 }),
      on(ada!, { event: 'deferred', timestamp: t0 }),
    ];
    await postEvents(stack.web.app, first);
    await applyEvents();
    // SendGrid retries a whole batch: stored once, counted once.
    await postEvents(stack.web.app, first);
    await applyEvents();
    // A click of Grace's is stored but not yet applied when she is erased: what waits to be
    // applied keeps no more of her than the stored event does (its link only as a digest).
    await postEvents(stack.web.app, [on(grace!, { event: 'click', url: 'https://example.com/c?who=grace', timestamp: t0 + 3 * hour + 60 })]);
    // Grace is erased; then more events, some earlier than what was counted.
    await request(stack.web.app).delete(`/subscribers/${grace!.id}`).set('Authorization', `Bearer ${adminToken}`).expect(204);
    expect(await db.$queryRaw`SELECT type, kind, subscriber_id, url, url_hash FROM email_event_backlog`).toEqual([
      { type: 'click', kind: 'clicked', subscriber_id: null, url: null, url_hash: createHash('md5').update('https://example.com/c?who=grace').digest('hex') },
    ]);
    await postEvents(stack.web.app, [
      on(ada!, { event: 'open', timestamp: t0 + hour + 30 }),
      on(ada!, { event: 'click', url: 'https://example.com/b', timestamp: t0 + 50 * hour }),
      { sg_event_id: randomUUID(), event: 'open', email: 'grace@example.com', herald_delivery_id: deliveryOf(grace!.id), timestamp: t0 + 4 * hour },
    ]);
    await applyEvents();
    expect(await db.subscriber.findUnique({ where: { id: grace!.id } })).toBeNull();

    const kept = await aggregates(db);
    await db.$executeRaw`SELECT herald_rebuild_report_aggregates()`;
    expect(await aggregates(db)).toEqual(kept);

    // And the figures themselves.
    const at = (seconds: number) => new Date(Math.floor(seconds / hour) * hour * 1000);
    expect(kept.hours).toEqual([
      { campaign_id: campaignId, kind: 'blocked', hour: at(t0), events: 1, uniques: 1 },
      { campaign_id: campaignId, kind: 'bounced', hour: at(t0), events: 1, uniques: 1 },
      { campaign_id: campaignId, kind: 'clicked', hour: at(t0 + 2 * hour), events: 2, uniques: 1 },
      { campaign_id: campaignId, kind: 'clicked', hour: at(t0 + 3 * hour), events: 2, uniques: 1 },
      { campaign_id: campaignId, kind: 'clicked', hour: at(t0 + 50 * hour), events: 1, uniques: 0 },
      { campaign_id: campaignId, kind: 'delivered', hour: at(t0), events: 2, uniques: 2 },
      // Ada's first open moved to the hour of the earlier one.
      { campaign_id: campaignId, kind: 'opened', hour: at(t0 + hour), events: 1, uniques: 1 },
      { campaign_id: campaignId, kind: 'opened', hour: at(t0 + 2 * hour), events: 1, uniques: 0 },
      { campaign_id: campaignId, kind: 'opened', hour: at(t0 + 3 * hour), events: 1, uniques: 1 },
      { campaign_id: campaignId, kind: 'opened', hour: at(t0 + 4 * hour), events: 1, uniques: 0 },
    ]);
    const links = kept.links as { url: string; clicks: number; unique_clicks: number }[];
    expect(links.map(({ url, clicks, unique_clicks }) => [url, clicks, unique_clicks]).sort()).toEqual([
      ['(a link only erased people clicked)', 1, 1],
      ['https://example.com/a', 2, 1],
      ['https://example.com/a?ref=grace', 1, 1],
      ['https://example.com/b', 1, 1],
    ]);
    expect(kept.unattributed).toEqual([{ kind: 'opened', hour: at(t0), events: 1 }]);
  });
});
