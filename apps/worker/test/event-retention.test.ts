/**
 * EVENT_RETENTION_DAYS: the reconciler deletes raw SendGrid events applied longer ago than the
 * retention, in bounded batches, and nothing else; the report aggregates, the report and the
 * people behind its figures stay as they were; and the rebuild of the aggregates recounts only
 * what the remaining events still count in full, leaving (and naming) the rest.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Db } from '@herald/shared';
import type { Express } from 'express';
import { pruneAppliedEvents } from '../src/events/prune-events.js';
import { processEvents } from '../src/handlers/process-events.js';
import { reconcile } from '../src/handlers/reconcile.js';
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

/** Every aggregate row, in a fixed order. */
async function aggregates(db: Db) {
  return {
    hours: await db.$queryRaw<{ campaign_id: string; kind: string; hour: Date; events: number; uniques: number }[]>`SELECT campaign_id::text, kind, hour, events, uniques FROM campaign_event_hours ORDER BY 1, 2, 3`,
    firsts: await db.$queryRaw<{ campaign_id: string }[]>`SELECT delivery_id::text, kind, campaign_id::text, first_at FROM delivery_event_firsts ORDER BY 1, 2`,
    links: await db.$queryRaw`SELECT campaign_id::text, url_hash, url, clicks, unique_clicks FROM campaign_link_clicks ORDER BY 1, 2`,
    linkFirsts: await db.$queryRaw<{ campaign_id: string }[]>`SELECT delivery_id::text, url_hash, campaign_id::text, first_at FROM delivery_link_clicks ORDER BY 1, 2`,
    unattributed: await db.$queryRaw`SELECT kind, hour, events FROM unattributed_event_hours ORDER BY 1, 2`,
  };
}

/** What the report API shows of a campaign, and who is behind its figures. */
async function reportOf(campaignId: string) {
  const report = (await admin(stack.web.app).get(`/campaigns/${campaignId}/report`).expect(200)).body;
  const people = async (query: string) =>
    ((await admin(stack.web.app).get(`/campaigns/${campaignId}/recipients?${query}`).expect(200)).body.recipients as { email: string }[]).map((person) => person.email);
  return {
    totals: report.totals,
    timeline: report.timeline.filter((bucket: { opened: number; clicked: number; delivered: number }) => bucket.opened + bucket.clicked + bucket.delivered > 0),
    links: report.links,
    opened: await people('event=opened'),
    clicked: await people('event=clicked'),
    clickedStory: await people(`event=clicked&url=${encodeURIComponent('https://example.com/story')}`),
  };
}

const day = 24 * 60 * 60 * 1000;

/** Two campaigns to ada, grace and lin, with delivered, open and click events applied. */
async function campaignsWithEvents() {
  const { db } = stack.web;
  const people = await seedSubscribers(db, [{ email: 'ada@example.com' }, { email: 'grace@example.com' }, { email: 'lin@example.com' }]);
  const body = '<p><a href="https://example.com/story">Story</a> <a href="https://example.com/more">More</a></p>';
  const first: string = (await postSend(stack.web.app, { subject: 'Issue 1', body }).expect(202)).body.campaignId;
  const second: string = (await postSend(stack.web.app, { subject: 'Issue 2', body }).expect(202)).body.campaignId;
  const deliveries = await db.delivery.findMany();
  const on = (campaignId: string, index: number, fields: Record<string, unknown>) => {
    const person = people[index]!;
    return {
      sg_event_id: randomUUID(),
      email: person.email,
      herald_delivery_id: deliveries.find((row) => row.campaignId === campaignId && row.subscriberId === person.id)!.id,
      ...fields,
    };
  };
  const eventsOf = (campaignId: string, start: number) => [
    on(campaignId, 0, { event: 'delivered', timestamp: start }),
    on(campaignId, 1, { event: 'delivered', timestamp: start }),
    on(campaignId, 2, { event: 'delivered', timestamp: start }),
    on(campaignId, 0, { event: 'processed', timestamp: start }),
    on(campaignId, 0, { event: 'open', timestamp: start + 60 }),
    on(campaignId, 0, { event: 'open', timestamp: start + 7200 }),
    on(campaignId, 1, { event: 'open', timestamp: start + 3600 }),
    on(campaignId, 0, { event: 'click', url: 'https://example.com/story', timestamp: start + 70 }),
    on(campaignId, 0, { event: 'click', url: 'https://example.com/more', timestamp: start + 80 }),
    on(campaignId, 1, { event: 'click', url: 'https://example.com/story', timestamp: start + 3700 }),
  ];
  // From the hour the campaigns started, so the reports' timelines show them.
  const t0 = Math.floor(Date.now() / 1000);
  await postEvents(stack.web.app, eventsOf(first, t0));
  await postEvents(stack.web.app, eventsOf(second, t0 + 60));
  // A delivery Herald never made, and a confirmation email's event.
  await postEvents(stack.web.app, [
    { sg_event_id: randomUUID(), event: 'open', email: 'stranger@example.com', herald_delivery_id: randomUUID(), timestamp: t0 },
    { sg_event_id: randomUUID(), event: 'delivered', email: 'lin@example.com', herald_subscriber_id: people[2]!.id, timestamp: t0 },
  ]);
  await applyEvents();
  return { first, second, people };
}

/** Makes the (applied) events of `campaignId` (or of no campaign) look stored `daysAgo` days ago. */
async function appliedDaysAgo(db: Db, daysAgo: number, campaignId: string | null) {
  const at = new Date(Date.now() - daysAgo * day);
  if (campaignId === null) {
    await db.$executeRaw`UPDATE email_events SET created_at = ${at} WHERE delivery_id IS NULL`;
  } else {
    await db.$executeRaw`
      UPDATE email_events SET created_at = ${at}
      WHERE delivery_id IN (SELECT id FROM deliveries WHERE campaign_id = ${campaignId}::uuid)`;
  }
}

const rebuild = (db: Db) =>
  db.$queryRaw<{ kept_campaigns: string[]; unattributed_kept: boolean }[]>`SELECT kept_campaigns, unattributed_kept FROM herald_rebuild_report_aggregates()`;

describe('event retention', () => {
  it('deletes only events applied before the retention, keeping every count, the report and the people behind it', async () => {
    const { db } = stack.web;
    const { first, second } = await campaignsWithEvents();
    await appliedDaysAgo(db, 40, first);
    await appliedDaysAgo(db, 40, null);
    // Stored 40 days ago but never applied (no worker ran): it has not been counted, so it stays.
    const unapplied = await db.emailEvent.create({
      data: { dedupeKey: 'evt-unapplied', type: 'open', occurredAt: new Date(), payload: { event: 'open' }, createdAt: new Date(Date.now() - 40 * day) },
    });
    const storedBefore = await db.emailEvent.count();
    const keptAggregates = await aggregates(db);
    const reports = { first: await reportOf(first), second: await reportOf(second) };
    expect(reports.first.totals).toMatchObject({ delivered: 3, opened: 3, uniqueOpened: 2, clicked: 3, uniqueClicked: 2 });

    const deps = stack.workerDeps({ EVENT_RETENTION_DAYS: '30' });
    const report = await reconcile({}, jobContext(deps), deps);
    // The first campaign's ten events, and the two of no campaign.
    expect(report.eventsPruned).toEqual({ pruned: 12, batches: 1, complete: true });
    const metrics = await deps.metrics.registry.getSingleMetricAsString('herald_events_pruned_total');
    expect(metrics).toMatch(/^herald_events_pruned_total 12$/m);

    expect(await db.emailEvent.count()).toBe(storedBefore - 12);
    const left = await db.emailEvent.findMany({ include: { backlog: true } });
    expect(left.some((event) => event.id === unapplied.id)).toBe(true);
    const firstDeliveries = (await db.delivery.findMany({ where: { campaignId: first } })).map((row) => row.id);
    expect(left.filter((event) => event.deliveryId && firstDeliveries.includes(event.deliveryId))).toEqual([]);
    expect(left.filter((event) => event.backlog === null)).toHaveLength(10);

    // The counts, the report and the people behind its figures are what they were.
    expect(await aggregates(db)).toEqual(keptAggregates);
    expect(await reportOf(first)).toEqual(reports.first);
    expect(await reportOf(second)).toEqual(reports.second);

    // What went is on record: the first campaign, and the events of no known delivery.
    const campaigns = await db.campaign.findMany({ select: { id: true, prunedBefore: true } });
    expect(campaigns.find((row) => row.id === first)!.prunedBefore).toBeInstanceOf(Date);
    expect(campaigns.find((row) => row.id === second)!.prunedBefore).toBeNull();
    const [retention] = await db.emailEventRetention.findMany();
    expect(retention).toMatchObject({ prunedEvents: 12n, unattributedPrunedBefore: expect.any(Date) });

    // A second run finds nothing more to delete.
    expect((await reconcile({}, jobContext(deps), deps)).eventsPruned).toEqual({ pruned: 0, batches: 1, complete: true });
  });

  it('deletes nothing when EVENT_RETENTION_DAYS is unset', async () => {
    const { db } = stack.web;
    const { first } = await campaignsWithEvents();
    await appliedDaysAgo(db, 4_000, first);
    const stored = await db.emailEvent.count();
    const deps = stack.workerDeps();
    expect((await reconcile({}, jobContext(deps), deps)).eventsPruned).toBeNull();
    expect(await db.emailEvent.count()).toBe(stored);
    expect(await db.campaign.count({ where: { prunedBefore: { not: null } } })).toBe(0);
  });

  it('deletes in batches of the given size, and stops starting them once its time is spent', async () => {
    const { db } = stack.web;
    const { first } = await campaignsWithEvents();
    await appliedDaysAgo(db, 40, first);
    const before = new Date(Date.now() - 30 * day);
    expect(await pruneAppliedEvents(db, { before, budgetMs: 0, batchSize: 4 })).toEqual({ pruned: 0, batches: 0, complete: false });
    // Ten events: 4, 4, 2.
    expect(await pruneAppliedEvents(db, { before, budgetMs: 60_000, batchSize: 4 })).toEqual({ pruned: 10, batches: 3, complete: true });
    const [retention] = await db.emailEventRetention.findMany();
    // Only counted events of no known delivery would mark the unattributed hours.
    expect(retention).toMatchObject({ prunedEvents: 10n, unattributedPrunedBefore: null });
  });

  it('rebuilds what the stored events still count in full, and keeps and names the rest', async () => {
    const { db } = stack.web;
    const { first, second } = await campaignsWithEvents();
    const exact = await aggregates(db);
    await appliedDaysAgo(db, 40, first);
    await pruneAppliedEvents(db, { before: new Date(Date.now() - 30 * day), budgetMs: 60_000 });

    // Nothing changed since: a rebuild gives the same aggregates.
    expect(await rebuild(db)).toEqual([{ kept_campaigns: [first], unattributed_kept: false }]);
    expect(await aggregates(db)).toEqual(exact);

    // Both campaigns' counts damaged: the second is recounted from its events, the first is kept
    // as it stands, since what would recount it is gone.
    await db.$executeRaw`UPDATE campaign_event_hours SET events = events + 5, uniques = uniques + 5`;
    await db.$executeRaw`DELETE FROM delivery_link_clicks WHERE campaign_id = ${second}::uuid`;
    await rebuild(db);
    const after = await aggregates(db);
    const ofCampaign = <Row extends { campaign_id: string }>(rows: Row[], campaignId: string) => rows.filter((row) => row.campaign_id === campaignId);
    expect(ofCampaign(after.hours, second)).toEqual(ofCampaign(exact.hours, second));
    expect(ofCampaign(after.linkFirsts, second)).toEqual(ofCampaign(exact.linkFirsts, second));
    expect(ofCampaign(after.hours, first)).toEqual(
      ofCampaign(exact.hours, first).map((row) => ({ ...row, events: row.events + 5, uniques: row.uniques + 5 })),
    );
    expect(ofCampaign(after.firsts, first)).toEqual(ofCampaign(exact.firsts, first));
    expect(after.unattributed).toEqual(exact.unattributed);

    // The command says so, and exits non-zero.
    const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/rebuild-reports.ts'], {
      cwd: new URL('../../../', import.meta.url),
      env: { ...process.env, DATABASE_URL: stack.web.config.databaseUrl },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`1 campaign whose raw events were partly deleted (EVENT_RETENTION_DAYS): ${first}`);
    expect(run.stderr).toContain('Everything else was recounted exactly.');
  });

  it('keeps the unattributed hours in a rebuild once one of their events was deleted', async () => {
    const { db } = stack.web;
    await campaignsWithEvents();
    const exact = await aggregates(db);
    await appliedDaysAgo(db, 40, null);
    await pruneAppliedEvents(db, { before: new Date(Date.now() - 30 * day), budgetMs: 60_000 });
    expect(await rebuild(db)).toEqual([{ kept_campaigns: [], unattributed_kept: true }]);
    expect(await aggregates(db)).toEqual(exact);
  });
});
