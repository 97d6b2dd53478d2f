import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enqueueJob, jobs } from '@herald/shared';
import type { Db } from '@herald/shared';
import { openAdminPage, phone, screenshot, screenshotPath, scrollsSideways, startAdminBrowser } from '../../../test/support/admin-browser.js';
import type { AdminBrowser } from '../../../test/support/admin-browser.js';
import { truncateAll } from '../../../test/support/database.js';
import { seedAudience, seedSubscribers } from '../../../test/support/factories.js';
import { deleteKeys } from '../../../test/support/redis.js';
import { createWebHarness } from '../../../test/support/web.js';
import type { WebHarness } from '../../../test/support/web.js';

const viewport = { width: 1280, height: 800 };

let web: WebHarness;
let browser: AdminBrowser;
let baseUrl: string;

beforeAll(async () => {
  web = await createWebHarness();
  browser = await startAdminBrowser(web.app, { name: 'admin-front', viewport, timezoneId: 'Europe/Paris' });
  baseUrl = browser.baseUrl;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
});
beforeEach(async () => {
  await truncateAll(web.db);
  await deleteKeys(`${web.config.queuePrefix}:auth-failures`);
  await deleteKeys(`${web.config.queuePrefix}:confirmations`);
  await browser.context.clearCookies();
});

/** A new tab logged in as the owner, on the front page with its campaigns. */
async function adminPage(): Promise<Page> {
  const page = await openAdminPage(browser);
  await expect.poll(() => page.locator('h1').first().textContent()).toBe('Campaigns');
  return page;
}

const hours = (n: number) => new Date(Date.now() - n * 60 * 60 * 1000);

/** A sent campaign whose deliveries are `sent` sent and `failed` failed (no subscriber rows needed). */
async function seedSentCampaign(db: Db, subject: string, sent: number, failed: number, startedHoursAgo: number) {
  const campaign = await db.campaign.create({
    data: { subject, html: '<p>x</p>', status: 'sent', recipientCount: sent + failed, startedAt: hours(startedHoursAgo), finishedAt: hours(startedHoursAgo - 1.2), createdAt: hours(startedHoursAgo) },
  });
  await db.$executeRaw`
    INSERT INTO deliveries (campaign_id, status, attempts, sent_at, last_error)
    SELECT ${campaign.id}::uuid,
      CASE WHEN n < ${failed}::int THEN 'failed'::delivery_status ELSE 'sent'::delivery_status END, 1,
      CASE WHEN n < ${failed}::int THEN NULL ELSE ${campaign.startedAt}::timestamp END,
      CASE WHEN n < ${failed}::int THEN 'SendGrid 400: invalid address' END
    FROM generate_series(0, ${sent + failed - 1}::int) AS n`;
  return campaign;
}

/** Campaigns in every state the list shows, one with a subject far longer than its column. */
async function seedCampaignList(db: Db) {
  await seedSentCampaign(db, 'October roundup: ten things we shipped', 128_470, 312, 24 * 30);
  await seedSentCampaign(
    db,
    'A very long subject line that keeps going, {{name}}, with everything we wanted to tell you about the autumn release, the new importer, and the conference schedule for next year',
    98_214, 17, 24 * 7,
  );
  await db.campaign.create({ data: { subject: 'Paused halfway: the holiday special', html: '<p>x</p>', status: 'paused', recipientCount: 40_000, startedAt: hours(5), createdAt: hours(5) } });
  await db.campaign.create({ data: { subject: 'December issue for {{name}}', html: '<p>x</p>', status: 'scheduled', sendAt: new Date(Date.now() + 3 * 24 * 60 * 60 * 1000), createdAt: hours(2) } });
  await db.campaign.create({ data: { subject: 'Draft: notes for January', html: '<p>x</p>', status: 'draft', createdAt: hours(1) } });
  await db.campaign.create({ data: { subject: 'Cancelled test', html: '<p>x</p>', status: 'cancelled', recipientCount: 3, startedAt: hours(48), finishedAt: hours(47.9), createdAt: hours(48) } });
}

/** Report aggregates for a sent campaign: unique figures as fractions of its deliveries. */
async function seedReport(db: Db, campaignId: string, startedAt: Date, sent: number, shares: Record<string, number>) {
  const hour = new Date(Math.floor(startedAt.getTime() / 3_600_000) * 3_600_000);
  for (const [kind, share] of Object.entries(shares)) {
    const uniques = Math.round(sent * share);
    await db.campaignEventHour.create({ data: { campaignId, kind, hour, events: uniques, uniques } });
  }
}

/** Six sent campaigns with their figures, and a month of signups, confirmations and departures. */
async function seedReports(db: Db) {
  const issues: [string, number, number, number][] = [
    ['September issue', 52_310, 0.41, 0.052],
    ['The {{name}} edition: autumn notes', 53_020, 0.44, 0.061],
    ['October roundup: ten things we shipped', 53_800, 0.39, 0.047],
    ['Importer preview', 54_120, 0.47, 0.083],
    ['November issue, with the conference schedule for next year', 54_900, 0.43, 0.058],
    ['Holiday special', 55_260, 0.45, 0.071],
  ];
  for (const [index, [subject, sent, opened, clicked]] of issues.entries()) {
    const campaign = await seedSentCampaign(db, subject, sent, 0, 24 * (5 * (issues.length - index)) + 3);
    await seedReport(db, campaign.id, campaign.startedAt!, sent, { delivered: 0.985, opened, clicked, unsubscribed: 0.0025, bounced: 0.009, complained: 0.0002 });
  }
  // Ten to forty signups a day; most confirm within the hour; a few leave, fewer bounce.
  await db.$executeRaw`
    WITH days AS (SELECT d, 10 + (d * 7) % 31 AS signups FROM generate_series(0, 29) AS d),
    people AS (
      SELECT d, n, (now() AT TIME ZONE 'UTC') - make_interval(days => d, hours => n % 20) AS at FROM days, generate_series(1, signups) AS n
    )
    INSERT INTO subscribers (email, status, created_at, confirmed_at, unsubscribed_at, suppressed_at)
    SELECT 'reader-' || d || '-' || n || '@example.com',
      (CASE WHEN n % 9 = 0 THEN 'unsubscribed' WHEN n % 23 = 0 THEN 'bounced' WHEN n % 5 = 0 THEN 'pending' ELSE 'active' END)::subscriber_status,
      at, CASE WHEN n % 5 <> 0 THEN at + interval '40 minutes' END,
      CASE WHEN n % 9 = 0 THEN at + interval '2 hours' END, CASE WHEN n % 23 = 0 THEN at + interval '3 hours' END
    FROM people`;
}

type Box = { x: number; y: number; width: number; height: number };
const right = (box: Box) => box.x + box.width;

describe('the admin front page in Chromium at 1280 × 800', () => {
  it('shows every column of the campaign list, a long subject included, without scrolling sideways', async () => {
    await seedCampaignList(web.db);
    await seedAudience(web.db, 3);
    const page = await adminPage();
    await page.goto(`${baseUrl}/admin/campaigns`);
    await screenshot(page, 'front-01-campaign-list-1280');

    const scroller = page.locator('.campaign-list').locator('xpath=..');
    const visible = (await scroller.boundingBox())!;
    // The table fits its container: nothing to scroll to, so nothing is hidden past its edge.
    const widths = await scroller.evaluate((element) => ({ client: element.clientWidth, scroll: element.scrollWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    expect(right(visible)).toBeLessThanOrEqual(viewport.width);

    const lastHeader = page.locator('.campaign-list thead th').last();
    expect(await lastHeader.textContent()).toBe('Complained');
    const cells = [lastHeader, ...(await page.locator('.campaign-list tbody tr td:last-child').all())];
    expect(cells).toHaveLength(7);
    for (const cell of cells) {
      expect(await cell.isVisible()).toBe(true);
      const box = (await cell.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(visible.x);
      expect(right(box)).toBeLessThanOrEqual(right(visible) + 0.5);
      expect(right(box)).toBeLessThanOrEqual(viewport.width);
      // The cell's own text is not clipped inside it either.
      expect(await cell.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
    }

    // The long subject wraps within its column rather than pushing the others out.
    const longSubject = page.locator('.campaign-list td.subject', { hasText: 'A very long subject line' });
    const subjectBox = (await longSubject.boundingBox())!;
    expect(subjectBox.width).toBeLessThan(visible.width / 2);
    expect(subjectBox.height).toBeGreaterThan(30);
    await page.close();
  }, 60_000);

  it('on narrower screens scrolls the list inside its card, never the page, and on a phone shows one card per campaign', async () => {
    await seedCampaignList(web.db);
    const page = await adminPage();
    const scroller = page.locator('.campaign-list').locator('xpath=..');

    await page.setViewportSize({ width: 900, height: 800 });
    await page.goto(`${baseUrl}/admin/campaigns`);
    expect(await scrollsSideways(page)).toBe(false);
    expect(await scroller.evaluate((element) => element.scrollWidth > element.clientWidth)).toBe(true);
    await screenshot(page, 'front-02-campaign-list-900');
    await scroller.evaluate((element) => element.scrollTo({ left: element.scrollWidth }));
    const visible = (await scroller.boundingBox())!;
    const lastHeader = (await page.locator('.campaign-list thead th').last().boundingBox())!;
    expect(right(lastHeader)).toBeLessThanOrEqual(right(visible) + 0.5);
    await screenshot(page, 'front-03-campaign-list-900-scrolled');

    await page.setViewportSize(phone);
    await page.goto(`${baseUrl}/admin/campaigns`);
    await screenshot(page, 'front-04-campaign-list-phone');
    expect(await scrollsSideways(page)).toBe(false);
    expect(await scroller.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
    expect(await page.locator('.campaign-list thead').isVisible()).toBe(false);
    await page.close();
  }, 60_000);

  it('compares the recent campaigns and shows the audience growth above the list, at 1280, 900 and on a phone', async () => {
    await seedReports(web.db);
    const page = await adminPage();
    await page.goto(`${baseUrl}/admin`);
    await screenshot(page, 'front-06-reports-1280');

    const recent = page.getByRole('region', { name: 'Recent campaigns', exact: true });
    const table = page.getByRole('table', { name: /The last 6 campaigns, newest first/ });
    expect(await table.isVisible()).toBe(true);
    expect(await table.getByRole('rowheader').first().innerText()).toContain('Holiday special');
    expect(await table.getByRole('columnheader').allInnerTexts()).toEqual(['CAMPAIGN', 'SENT', 'CLICK RATE', 'OPEN RATE', 'UNSUBSCRIBES', 'BOUNCES']);
    await expect.poll(() => table.getByRole('link', { name: 'Holiday special' }).getAttribute('href')).toMatch(/^\/admin\/campaigns\/[0-9a-f-]{36}\/report$/);
    const rateChart = page.getByRole('img', { name: /Unique click and open rates of the last 6 campaigns/ });
    expect((await rateChart.boundingBox())!.height).toBeGreaterThan(80);
    const growthChart = page.getByRole('img', { name: /Subscribers joining and leaving per day over 30 days/ });
    expect((await growthChart.boundingBox())!.height).toBeGreaterThan(80);
    expect(await recent.isVisible()).toBe(true);
    // Nothing in the comparison is cut off: its table fits its card at this width.
    const scroller = table.locator('xpath=..');
    expect(await scroller.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
    await page.getByText('The numbers per day').click();
    expect(await page.locator('#audience-growth tbody tr').count()).toBe(30);
    await screenshot(page, 'front-07-reports-1280-numbers');

    for (const size of [{ width: 900, height: 800 }, phone]) {
      await page.setViewportSize(size);
      await page.goto(`${baseUrl}/admin`);
      expect(await scrollsSideways(page)).toBe(false);
      await screenshot(page, `front-08-reports-${size.width}`);
      await page.locator('.front-reports').screenshot({ path: screenshotPath(`front-09-reports-${size.width}-sections`) });
    }
    await page.close();
  }, 60_000);

  it('tells the operator that confirmation emails are held, why, since when, and what to do', async () => {
    await seedSentCampaign(web.db, 'October roundup: ten things we shipped', 1_200, 0, 24 * 30);
    await web.db.mailHold.create({
      data: {
        kind: 'confirmations',
        reason: 'SendGrid 401: The provided authorization grant is invalid, expired, or revoked',
        heldSince: hours(2),
        heldCount: 27,
        updatedAt: hours(0.05),
      },
    });
    // Three signups' confirmations wait behind the hold, as the worker leaves them (no worker runs here).
    const pending = await seedSubscribers(web.db, ['a', 'b', 'c'].map((name) => ({ email: `${name}@example.com`, status: 'pending' as const })));
    for (const subscriber of pending) await enqueueJob(web.queues, jobs.sendConfirmation, { subscriberId: subscriber.id }, new Date());
    await web.queues.confirmations.rateLimit(4 * 60 * 1000);
    const page = await adminPage();
    expect(page.url()).toBe(`${baseUrl}/admin`);

    const notice = page.getByRole('alert');
    expect(await notice.isVisible()).toBe(true);
    const text = (await notice.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('Confirmation emails are on hold');
    expect(text).toContain('SendGrid 401: The provided authorization grant is invalid, expired, or revoked');
    expect(text).toContain('Waiting to go out 3 emails · next try in about 4 min');
    expect(text).toContain('Refused 27 times since then');
    expect(text).toMatch(/On hold since \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(text).toContain('SENDGRID_API_KEY');
    expect(text).toContain('every five minutes');
    const box = (await notice.boundingBox())!;
    expect(box.y).toBeLessThan(viewport.height);
    expect(right(box)).toBeLessThanOrEqual(viewport.width);
    await screenshot(page, 'front-05-confirmations-held');
    await page.close();
  }, 60_000);
});
