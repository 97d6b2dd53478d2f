/**
 * A campaign's report and the people behind its figures, end to end: the campaign is sent by the
 * real worker to the mail sink, SendGrid's events come back through the signed webhook and the
 * real event processing, and the report API reads what the aggregates made of them.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Express } from 'express';
import { campaignUnsubscribeUrl, preferencesUrl } from '@herald/shared';
import { pruneAppliedEvents } from '../src/events/prune-events.js';
import { processEvents } from '../src/handlers/process-events.js';
import { admin, postSend, seedSubscribers, waitForCampaignSent } from '../../../test/support/factories.js';
import { loggedInAgent } from '../../../test/support/admin.js';
import { adminToken } from '../../../test/support/web.js';
import { createWebhookKeys, signedWebhookHeaders, webhookBody } from '../../../test/support/sendgrid-webhook.js';
import { jobContext, useStack, waitFor } from '../../../test/support/stack.js';

const sendgrid = createWebhookKeys();
const stack = useStack({ SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKeyBase64 });

function postEvents(app: Express, events: object[]) {
  const body = webhookBody(events);
  return request(app).post('/webhooks/sendgrid').set(signedWebhookHeaders(body, sendgrid.privateKey)).send(body).expect(200);
}

const body =
  '<p>Read <a href="https://example.com/story">the story</a> and ' +
  '<a href="https://example.com/track?who={{email}}">your page</a>.</p>' +
  '<p><a href="https://example.com/never">Nobody clicks this</a></p>';

/** Sends a campaign to ada, grace, lin and mo; returns what the events need. */
async function sentCampaign() {
  const { db } = stack.web;
  const people = await seedSubscribers(db, [
    { email: 'ada@example.com', name: 'Ada' },
    { email: 'grace@example.com', name: 'Grace' },
    { email: 'lin@example.com', name: 'Lin' },
    { email: 'mo@example.com', name: '=HYPERLINK("x")' },
  ]);
  await stack.startWorker();
  const sent = await postSend(stack.web.app, { subject: 'Issue 7', body }).expect(202);
  const campaignId: string = sent.body.campaignId;
  await waitForCampaignSent(db, campaignId);
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  const deliveries = await db.delivery.findMany({ where: { campaignId } });
  const rows = await db.subscriber.findMany({ where: { id: { in: people.map((person) => person.id) } } });
  const [ada, grace, lin, mo] = ['ada', 'grace', 'lin', 'mo'].map((name) => {
    const person = rows.find((row) => row.email.startsWith(`${name}@`))!;
    return { ...person, deliveryId: deliveries.find((row) => row.subscriberId === person.id)!.id };
  });
  const start = Math.floor(campaign.startedAt!.getTime() / 1000);
  const on = (person: { email: string; deliveryId: string }, fields: Record<string, unknown>) => ({
    sg_event_id: randomUUID(),
    email: person.email,
    herald_delivery_id: person.deliveryId,
    ...fields,
  });
  return { campaignId, start, on, ada: ada!, grace: grace!, lin: lin!, mo: mo! };
}

const hour = 3600;

/** DELETE /subscribers/:id: the person's erasure. */
function erase(subscriberId: string) {
  return request(stack.web.app).delete(`/subscribers/${subscriberId}`).set('Authorization', `Bearer ${adminToken}`).expect(204);
}

describe('campaign report', () => {
  it('counts, rates, a timeline, the links as written and the people behind each figure', async () => {
    const { campaignId, start, on, ada, grace, lin, mo } = await sentCampaign();
    const publicUrl = stack.web.config.publicUrl;
    await postEvents(stack.web.app, [
      on(ada, { event: 'delivered', timestamp: start }),
      on(grace, { event: 'delivered', timestamp: start }),
      on(mo, { event: 'delivered', timestamp: start }),
      on(lin, { event: 'bounce', type: 'bounce', reason: '550 no such user', timestamp: start + 10 }),
      on(ada, { event: 'open', timestamp: start + 60 }),
      on(ada, { event: 'open', timestamp: start + 2 * hour }),
      on(grace, { event: 'open', timestamp: start + 3 * hour }),
      on(ada, { event: 'click', url: 'https://example.com/story', timestamp: start + 70 }),
      on(ada, { event: 'click', url: 'https://example.com/story', timestamp: start + 80 }),
      on(ada, { event: 'click', url: 'https://example.com/track?who=ada@example.com', timestamp: start + 90 }),
      on(grace, { event: 'click', url: 'https://example.com/track?who=grace@example.com', timestamp: start + 3 * hour + 5 }),
      on(grace, { event: 'click', url: campaignUnsubscribeUrl(publicUrl, grace.unsubscribeToken, campaignId), timestamp: start + 3 * hour + 9 }),
      on(mo, { event: 'click', url: preferencesUrl(publicUrl, mo.unsubscribeToken), timestamp: start + 3 * 24 * hour }),
      on(grace, { event: 'unsubscribe', timestamp: start + 3 * hour + 10 }),
    ]);
    // The running worker applies events too; whoever claims a batch, all of them are applied.
    const deps = stack.workerDeps();
    await waitFor('the events applied', async () => {
      await processEvents({}, jobContext(deps), deps);
      return (await stack.web.db.emailEventBacklog.count()) === 0;
    });

    const report = await admin(stack.web.app).get(`/campaigns/${campaignId}/report`).expect(200);
    expect(report.body.totals).toEqual({
      sent: 4, delivered: 3, opened: 3, uniqueOpened: 2, clicked: 6, uniqueClicked: 3,
      bounced: 1, complained: 0, unsubscribed: 1, blocked: 0, dropped: 0, failed: 0,
    });
    expect(report.body.rates).toEqual({
      delivered: 0.75, opened: 0.6667, clicked: 1, clickToOpen: 1.5, bounced: 0.25, complained: 0, unsubscribed: 0.3333,
    });
    expect(report.body.audience.lists.map((list: { slug: string }) => list.slug)).toEqual(['newsletter']);

    // Hour by hour for two days from the hour the send started, then day by day to the last event.
    const timeline: { at: string; size: string; opened: number; uniqueOpened: number; clicked: number; delivered: number }[] = report.body.timeline;
    expect(timeline.filter((bucket) => bucket.size === 'hour')).toHaveLength(48);
    expect(timeline.filter((bucket) => bucket.size === 'day').length).toBeGreaterThanOrEqual(1);
    const startHour = Math.floor(start / hour) * hour;
    expect(new Date(timeline[0]!.at).getTime()).toBe(startHour * 1000);
    const bucketOf = (seconds: number) => timeline.find((bucket, i) => {
      const next = timeline[i + 1];
      return new Date(bucket.at).getTime() <= seconds * 1000 && (!next || new Date(next.at).getTime() > seconds * 1000);
    })!;
    expect(timeline.reduce((sum, bucket) => sum + bucket.opened, 0)).toBe(3);
    expect(timeline.reduce((sum, bucket) => sum + bucket.clicked, 0)).toBe(6);
    expect(timeline.reduce((sum, bucket) => sum + bucket.delivered, 0)).toBe(3);
    expect(bucketOf(start + 3 * hour)).toMatchObject({ opened: 1, uniqueOpened: 1 });
    expect(bucketOf(start + 3 * 24 * hour)).toMatchObject({ size: 'day', clicked: 1 });

    // The personalised link is one link as written; the footer's links are kept apart.
    expect(report.body.links).toEqual([
      { url: 'https://example.com/story', kind: 'link', clicks: 2, uniqueClicks: 1 },
      { url: 'https://example.com/track?who={{email}}', kind: 'link', clicks: 2, uniqueClicks: 2 },
      { url: 'Unsubscribe link', kind: 'unsubscribe', clicks: 1, uniqueClicks: 1 },
      { url: 'Preference centre link', kind: 'preferences', clicks: 1, uniqueClicks: 1 },
      { url: 'https://example.com/never', kind: 'link', clicks: 0, uniqueClicks: 0 },
    ]);

    const people = async (query: string) => {
      const answer = await admin(stack.web.app).get(`/campaigns/${campaignId}/recipients?${query}`).expect(200);
      return (answer.body.recipients as { email: string }[]).map((person) => person.email);
    };
    expect(await people('event=opened')).toEqual(['ada@example.com', 'grace@example.com']);
    expect(await people('event=bounced')).toEqual(['lin@example.com']);
    expect(await people('event=unsubscribed')).toEqual(['grace@example.com']);
    expect((await people('event=sent')).sort()).toEqual(['ada@example.com', 'grace@example.com', 'lin@example.com', 'mo@example.com']);
    expect(await people(`event=clicked&url=${encodeURIComponent('https://example.com/track?who={{email}}')}`)).toEqual(['ada@example.com', 'grace@example.com']);
    expect(await people(`event=clicked&url=${encodeURIComponent('https://example.com/story')}`)).toEqual(['ada@example.com']);
    expect(await people('event=clicked&link=unsubscribe')).toEqual(['grace@example.com']);
    expect(await people('event=clicked&link=preferences')).toEqual(['mo@example.com']);
    expect(await people(`event=clicked&url=${encodeURIComponent('https://example.com/never')}`)).toEqual([]);

    // Keyset pages: one at a time, the cursor of each page leads to the next, and the last has none.
    const first = await admin(stack.web.app).get(`/campaigns/${campaignId}/recipients?event=clicked&limit=2`).expect(200);
    expect(first.body.recipients).toHaveLength(2);
    expect(first.body.recipients[0]).toMatchObject({ email: 'ada@example.com', name: 'Ada', subscriberId: ada.id, deliveryId: ada.deliveryId });
    const second = await admin(stack.web.app).get(`/campaigns/${campaignId}/recipients?event=clicked&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`).expect(200);
    expect(second.body.recipients.map((person: { email: string }) => person.email)).toEqual(['mo@example.com']);
    expect(second.body.nextCursor).toBeNull();

    // CSV: everyone, with a name that would be a spreadsheet formula defused.
    const csv = await admin(stack.web.app).get(`/campaigns/${campaignId}/recipients?event=delivered&format=csv`).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('email,name,at,subscriber_id,delivery_id');
    expect(lines).toHaveLength(4);
    expect(csv.text).toContain(`mo@example.com,"'=HYPERLINK(""x"")"`);

    // The admin page shows the same report: rates, a chart with a bar per non-empty bucket and
    // series, the links with who clicked them, and each figure's people as a download.
    const agent = await loggedInAgent(stack.web.app);
    const campaignPage = await agent.get(`/admin/campaigns/${campaignId}`).expect(200);
    expect(campaignPage.text).toContain(`href="/admin/campaigns/${campaignId}/report"`);
    const page = await agent.get(`/admin/campaigns/${campaignId}/report`).expect(200);
    const rate = (name: string) => new RegExp(`data-rate="${name}"><dt>[^<]+</dt><dd>([^<]+)<`).exec(page.text)?.[1];
    expect([rate('delivered'), rate('opened'), rate('clicked'), rate('bounced')]).toEqual(['75.0%', '66.7%', '100.0%', '25.0%']);
    expect(page.text).toContain('role="img"');
    // Opens: ada (first hour), grace (hour 3); clicks: ada (first hour), grace (hour 3), mo (day 3).
    expect(page.text.match(/<rect class="bar-opened"/g)).toHaveLength(2);
    expect(page.text.match(/<rect class="bar-clicked"/g)).toHaveLength(3);
    const peopleLink = /<tr data-link="https:\/\/example.com\/track\?who=\{\{email\}\}">[\s\S]*?<a href="([^"]+)" download>Who clicked/.exec(page.text)?.[1];
    expect(peopleLink).toBeDefined();
    const clickers = await agent.get(peopleLink!.replaceAll('&amp;', '&')).expect(200);
    expect(clickers.text.trim().split('\n').slice(1).map((line) => line.split(',')[0])).toEqual(['ada@example.com', 'grace@example.com']);
    const neverRow = /<tr data-link="https:\/\/example.com\/never">([\s\S]*?)<\/tr>/.exec(page.text)?.[1];
    expect(neverRow).toBeDefined();
    expect(neverRow).not.toContain('Who clicked');
    const bouncedLink = /data-figure="bounced"><a href="([^"]+)"/.exec(page.text)?.[1];
    const bounced = await agent.get(bouncedLink!.replaceAll('&amp;', '&')).expect(200);
    expect(bounced.text).toContain('lin@example.com');
    await agent.get(`/admin/campaigns/${campaignId}/report/recipients.csv?event=looked`).expect(400);
    await request(stack.web.app).get(`/admin/campaigns/${campaignId}/report`).expect(303);
  });

  it('keeps every figure when a person is erased, and when the raw events are deleted after that', async () => {
    const { campaignId, start, on, ada, grace, lin } = await sentCampaign();
    await postEvents(stack.web.app, [
      on(ada, { event: 'delivered', timestamp: start }),
      on(grace, { event: 'delivered', timestamp: start }),
      on(lin, { event: 'delivered', timestamp: start }),
      on(ada, { event: 'open', timestamp: start + 60 }),
      on(grace, { event: 'open', timestamp: start + 120 }),
      on(grace, { event: 'open', timestamp: start + hour }),
      on(grace, { event: 'click', url: 'https://example.com/track?who=grace@example.com', timestamp: start + 130 }),
      on(ada, { event: 'click', url: 'https://example.com/story', timestamp: start + 140 }),
    ]);
    const deps = stack.workerDeps();
    await waitFor('the events applied', async () => {
      await processEvents({}, jobContext(deps), deps);
      return (await stack.web.db.emailEventBacklog.count()) === 0;
    });
    const figures = async () => {
      const report = (await admin(stack.web.app).get(`/campaigns/${campaignId}/report`).expect(200)).body;
      const people = async (query: string) =>
        ((await admin(stack.web.app).get(`/campaigns/${campaignId}/recipients?${query}`).expect(200)).body.recipients as { email: string | null }[]).map((person) => person.email);
      return { totals: report.totals, timeline: report.timeline, links: report.links, opened: await people('event=opened'), clicked: await people('event=clicked') };
    };
    const before = await figures();
    expect(before.totals).toMatchObject({ delivered: 3, opened: 3, uniqueOpened: 2, clicked: 2, uniqueClicked: 2 });
    expect(before.opened).toEqual(['ada@example.com', 'grace@example.com']);

    await erase(grace.id);
    // Her raw events keep only what the counts need: no address, no link as she clicked it.
    const hers = await stack.web.db.emailEvent.findMany({ where: { deliveryId: grace.deliveryId } });
    expect(hers).toHaveLength(4);
    expect(JSON.stringify(hers)).not.toContain('grace@example.com');
    // The same figures; she is still among the people behind them, anonymous.
    const without = (email: string) => (people: (string | null)[]) => people.map((person) => (person === email ? null : person));
    const erased = { ...before, opened: without('grace@example.com')(before.opened), clicked: without('grace@example.com')(before.clicked) };
    expect(erased.opened).toEqual(['ada@example.com', null]);
    expect(await figures()).toEqual(erased);
    // And a recount from the raw events agrees.
    await stack.web.db.$executeRaw`SELECT herald_rebuild_report_aggregates()`;
    expect(await figures()).toEqual(erased);

    // The raw events go (EVENT_RETENTION_DAYS), then Ada is erased: the figures still hold.
    expect((await pruneAppliedEvents(stack.web.db, { before: new Date(Date.now() + 1_000), budgetMs: 60_000 })).pruned).toBe(8);
    await erase(ada.id);
    expect(await stack.web.db.emailEvent.count()).toBe(0);
    expect(await figures()).toEqual({ ...erased, opened: [null, null], clicked: [null, null] });
  });

  it('breaks the figures down by the lists the campaign went to, counting a person under each of their lists', async () => {
    const { db } = stack.web;
    const [ada, grace, lin] = await seedSubscribers(db, [{ email: 'ada@example.com' }, { email: 'grace@example.com' }, { email: 'lin@example.com' }]);
    // Ada and Grace read "weekly", Grace and Lin "offers": Grace is on both.
    await db.$executeRaw`INSERT INTO lists (name, slug) VALUES ('Weekly', 'weekly'), ('Offers', 'offers')`;
    await db.$executeRaw`
      INSERT INTO subscriptions (subscriber_id, list_id, status, consent_at, consent_source, confirmed_at)
      SELECT p.id, l.id, 'active', now(), 'test', now() FROM subscribers p JOIN lists l
        ON (l.slug = 'weekly' AND p.id IN (${ada!.id}::uuid, ${grace!.id}::uuid)) OR (l.slug = 'offers' AND p.id IN (${grace!.id}::uuid, ${lin!.id}::uuid))`;
    await stack.startWorker();
    const sent = await postSend(stack.web.app, { subject: 'Two lists', body, lists: ['weekly', 'offers'] }).expect(202);
    const campaignId: string = sent.body.campaignId;
    await waitForCampaignSent(db, campaignId);
    const deliveries = await db.delivery.findMany({ where: { campaignId } });
    const deliveryOf = (id: string) => deliveries.find((row) => row.subscriberId === id)!.id;
    const timestamp = Math.floor(Date.now() / 1000);
    const event = (person: { id: string; email: string }, fields: Record<string, unknown>) => ({
      sg_event_id: randomUUID(), email: person.email, herald_delivery_id: deliveryOf(person.id), timestamp, ...fields,
    });
    await postEvents(stack.web.app, [
      event(ada!, { event: 'delivered' }),
      event(grace!, { event: 'delivered' }),
      event(lin!, { event: 'delivered' }),
      event(grace!, { event: 'open' }),
      event(grace!, { event: 'click', url: 'https://example.com/story' }),
      event(lin!, { event: 'open' }),
    ]);
    const deps = stack.workerDeps();
    await waitFor('the events applied', async () => {
      await processEvents({}, jobContext(deps), deps);
      return (await db.emailEventBacklog.count()) === 0;
    });

    const plain = await admin(stack.web.app).get(`/campaigns/${campaignId}/report`).expect(200);
    expect(plain.body.byList).toBeUndefined();
    const report = await admin(stack.web.app).get(`/campaigns/${campaignId}/report?breakdown=list`).expect(200);
    expect(report.body.totals).toMatchObject({ sent: 3, delivered: 3, uniqueOpened: 2, uniqueClicked: 1 });
    expect(report.body.byList).toEqual([
      expect.objectContaining({ slug: 'weekly', sent: 2, delivered: 2, uniqueOpened: 1, uniqueClicked: 1, rates: { opened: 0.5, clicked: 0.5, unsubscribed: 0 } }),
      expect.objectContaining({ slug: 'offers', sent: 2, delivered: 2, uniqueOpened: 2, uniqueClicked: 1, rates: { opened: 1, clicked: 0.5, unsubscribed: 0 } }),
    ]);

    // The page offers the breakdown and shows it when asked; a campaign that is a day old follows its events.
    const agent = await loggedInAgent(stack.web.app);
    const page = await agent.get(`/admin/campaigns/${campaignId}/report`).expect(200);
    expect(page.text).toContain('data-live-report');
    expect(page.text).toContain('To Weekly, Offers.');
    expect(page.text).toContain('href="?breakdown=list#report-lists"');
    expect(page.text).not.toContain('data-list="weekly"');
    const broken = await agent.get(`/admin/campaigns/${campaignId}/report?breakdown=list`).expect(200);
    expect(broken.text).toMatch(/<tr data-list="weekly">[\s\S]*?<td class="num">2<\/td>/);
    expect(broken.text).toContain('data-list="offers"');

    // Three days after the send the page stops following.
    await db.campaign.update({ where: { id: campaignId }, data: { startedAt: new Date(Date.now() - 72 * 3_600_000), finishedAt: new Date(Date.now() - 71 * 3_600_000) } });
    expect((await agent.get(`/admin/campaigns/${campaignId}/report`).expect(200)).text).not.toContain('data-live-report');
  });

  it('refuses bad report parameters with a 400 naming the field, and unknown campaigns with a 404', async () => {
    const { campaignId } = await sentCampaign();
    const bad = async (query: string, field: string) => {
      const answer = await admin(stack.web.app).get(`/campaigns/${campaignId}/recipients?${query}`).expect(400);
      expect(answer.body.error.message).toContain(field);
    };
    await bad('', 'event');
    await bad('event=looked', 'event');
    await bad('event=opened&event=clicked', 'event');
    await bad('event=opened&cursor=yesterday', 'cursor');
    await bad('event=opened&cursor=2026-13-45T99:99:99.999Z_00000000-0000-0000-0000-000000000000', 'cursor');
    await bad('event=opened&limit=0', 'limit');
    await bad('event=opened&limit=abc', 'limit');
    await bad('event=opened&url=https://example.com/', 'url');
    await bad('event=clicked&link=footer', 'link');
    await bad('event=clicked&link=unsubscribe&url=https://example.com/', 'link');
    await bad(`event=clicked&url=${'x'.repeat(3000)}`, 'url');
    await bad('event=opened&format=xml', 'format');
    const report = await admin(stack.web.app).get(`/campaigns/${campaignId}/report?breakdown=country`).expect(400);
    expect(report.body.error.message).toContain('breakdown');
    await admin(stack.web.app).get(`/campaigns/${randomUUID()}/report`).expect(404);
    await admin(stack.web.app).get('/campaigns/not-a-uuid/recipients?event=opened').expect(404);
    await request(stack.web.app).get(`/campaigns/${campaignId}/report`).expect(401);
  });
});
