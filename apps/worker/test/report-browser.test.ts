/**
 * The report page in a real Chromium: a campaign sent by the real worker, a day and a half of
 * opens and clicks reported through the signed webhook and applied by the event processing, and
 * the page an operator reads. Screenshots land in test-artifacts/admin/ (git-ignored).
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processEvents } from '../src/handlers/process-events.js';
import { desktop, openAdminPage, phone, screenshot, scrollsSideways, startAdminBrowser } from '../../../test/support/admin-browser.js';
import type { AdminBrowser } from '../../../test/support/admin-browser.js';
import { postSend, seedSubscribers, waitForCampaignSent } from '../../../test/support/factories.js';
import { createWebhookKeys, signedWebhookHeaders, webhookBody } from '../../../test/support/sendgrid-webhook.js';
import { createStack, jobContext, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';

const sendgrid = createWebhookKeys();
const hour = 3600;

let stack: Stack;
let browser: AdminBrowser;
let baseUrl: string;

beforeAll(async () => {
  stack = await createStack({ SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKeyBase64 });
  browser = await startAdminBrowser(stack.web.app, { name: 'report', acceptDownloads: true });
  baseUrl = browser.baseUrl;
}, 120_000);
afterEach(() => stack.reset());
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** Sends to 40 people, then reports what a real audience does over the next day and a half. */
async function campaignWithActivity() {
  const { db } = stack.web;
  const people = await seedSubscribers(db, Array.from({ length: 40 }, (_, i) => ({ email: `reader${i}@example.com`, name: `Reader ${i}` })));
  await stack.startWorker();
  const body = '<p>This week: <a href="https://example.com/story">the story</a>, <a href="https://example.com/talk">the talk</a>.</p>';
  const sent = await postSend(stack.web.app, { subject: 'Issue 12', body }).expect(202);
  const campaignId: string = sent.body.campaignId;
  await waitForCampaignSent(db, campaignId);
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  const deliveries = await db.delivery.findMany({ where: { campaignId } });
  const emailOf = new Map(people.map((person) => [person.id, person.email]));
  // Reader 0 first, so which reader does what below is fixed.
  deliveries.sort((a, b) => Number(emailOf.get(a.subscriberId!)!.match(/\d+/)![0]) - Number(emailOf.get(b.subscriberId!)!.match(/\d+/)![0]));
  const start = Math.floor(campaign.startedAt!.getTime() / 1000);
  const events: object[] = [];
  deliveries.forEach((delivery, i) => {
    const on = (fields: Record<string, unknown>) => events.push({ sg_event_id: randomUUID(), email: emailOf.get(delivery.subscriberId!), herald_delivery_id: delivery.id, ...fields });
    if (i === 39) return on({ event: 'bounce', type: 'bounce', timestamp: start + 5 });
    on({ event: 'delivered', timestamp: start + 2 });
    // Most opens in the first hours, a tail into the second day.
    if (i < 26) on({ event: 'open', timestamp: start + Math.floor((i * i * hour) / 20) });
    if (i < 11) on({ event: 'click', url: i % 3 ? 'https://example.com/story' : 'https://example.com/talk', timestamp: start + Math.floor((i * i * hour) / 20) + 30 });
  });
  await reportEvents(events);
  return { campaignId, deliveries, emailOf, start };
}

/** Posts these events through the signed webhook and applies them. */
async function reportEvents(events: object[]) {
  const webhook = webhookBody(events);
  await request(stack.web.app).post('/webhooks/sendgrid').set(signedWebhookHeaders(webhook, sendgrid.privateKey)).send(webhook).expect(200);
  const deps = stack.workerDeps();
  await waitFor('the events applied', async () => {
    await processEvents({}, jobContext(deps), deps);
    return (await stack.web.db.emailEventBacklog.count()) === 0;
  });
}

describe('the report page in a browser', () => {
  it('shows the rates, the chart, the links and downloads the people behind a figure', async () => {
    const { campaignId } = await campaignWithActivity();
    const page = await openAdminPage(browser);
    await page.goto(`${baseUrl}/admin/campaigns/${campaignId}`);
    await page.getByRole('link', { name: /Full report/ }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Report' }).isVisible()).toBe(true);

    // 39 of 40 delivered, 26 of them opened, 11 clicked.
    expect(await page.locator('[data-rate="delivered"] dd').innerText()).toMatch(/^97\.5%/);
    expect(await page.locator('[data-rate="opened"] dd').innerText()).toMatch(/^66\.7%/);
    const chart = page.getByRole('img', { name: /26 opened and 11 clicked/ });
    expect((await chart.boundingBox())!.width).toBeGreaterThan(600);
    expect(await page.locator('rect.bar-opened').count()).toBeGreaterThan(5);
    await screenshot(page, '30-campaign-report');
    // The numbers behind the chart, for screen readers and copying: one row per bucket with events.
    await page.getByText('The numbers behind the chart').click();
    expect(await page.locator('.chart-data tbody tr').count()).toBeGreaterThan(5);

    // At phone width the page fits without scrolling sideways.
    await page.setViewportSize(phone);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, '31-campaign-report-phone');
    await page.setViewportSize(desktop);

    const download = page.waitForEvent('download');
    await page.locator('tr[data-link="https://example.com/talk"]').getByRole('link', { name: 'Who clicked' }).click();
    const csv = readFileSync((await (await download).path())!, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('email,name,at,subscriber_id,delivery_id');
    // Readers 0, 3, 6 and 9 clicked the talk.
    expect(csv).toHaveLength(5);
    await page.close();
  });

  it('follows the events as they arrive, without a reload', async () => {
    const { campaignId, deliveries, emailOf, start } = await campaignWithActivity();
    const page = await openAdminPage(browser);
    await page.goto(`${baseUrl}/admin/campaigns/${campaignId}/report`);
    await page.getByText('The numbers behind the chart').click();
    await expect.poll(() => page.getByRole('img', { name: /26 opened and 11 clicked/ }).isVisible()).toBe(true);
    await page.evaluate('window.reportPageMark = true');

    // Nine more readers click the story, two hours in.
    await reportEvents(
      deliveries.slice(11, 20).map((delivery) => ({
        sg_event_id: randomUUID(), email: emailOf.get(delivery.subscriberId!), herald_delivery_id: delivery.id,
        event: 'click', url: 'https://example.com/story', timestamp: start + 2 * hour,
      })),
    );
    await expect.poll(() => page.getByRole('img', { name: /26 opened and 20 clicked/ }).isVisible(), { timeout: 25_000, interval: 1_000 }).toBe(true);
    expect(await page.locator('[data-rate="clicked"] dd').innerText()).toMatch(/^51\.3%/);
    expect(await page.locator('tr[data-link="https://example.com/story"] td').nth(2).innerText()).toBe('16');
    // The same page, not a reload, and the table the reader opened stays open.
    expect(await page.evaluate('window.reportPageMark')).toBe(true);
    expect(await page.locator('#report-timeline details').getAttribute('open')).not.toBeNull();
    await page.close();
  });
});
