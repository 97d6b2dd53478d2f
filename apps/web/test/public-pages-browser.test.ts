/**
 * The public pages in Chromium, at a laptop's width and a phone's: the newsletter's name, the
 * subscription states, the archive, an issue's page and the feed. Screenshots go to
 * test-artifacts/public-pages/ for a person to look at.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../../../test/support/admin-browser.js';
import { seedSubscribers } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';

const artifacts = join(import.meta.dirname, '../../../test-artifacts/public-pages');
const name = 'The Weekly Lantern';
const widths = [1024, 375] as const;

const web = useWebHarness({ NEWSLETTER_NAME: name });
let server: Server;
let browser: Browser;
let baseUrl: string;
let context: BrowserContext;

beforeAll(async () => {
  server = web.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  server?.close();
});
beforeEach(async () => {
  await context?.close();
  // No JavaScript: every public page must work without it.
  context = await browser.newContext({ javaScriptEnabled: false });
});

/** Fails if anything on the page is wider than the viewport, then saves a full-page screenshot. */
async function check(page: Page, shot: string) {
  for (const width of widths) {
    await page.setViewportSize({ width, height: 800 });
    // Evaluated in the page; written as text, as this project type-checks without DOM types.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow, `${shot} at ${width}px is wider than the viewport`).toBeLessThanOrEqual(0);
    await screenshot(page, `${shot}-${width}`, artifacts);
  }
}

async function expectHeader(page: Page, title: string) {
  expect(await page.title()).toBe(`${title} · ${name}`);
  expect(await page.locator('.site-header .site-name').textContent()).toBe(name);
  expect(await page.locator('.site-footer').textContent()).toContain(name);
}

/** A pending subscriber with a confirmation link we know, as the worker would have emailed it. */
async function pendingWithLink(email: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await seedSubscribers(web.db, [{ email, name: 'Ann', status: 'pending' }]);
  await web.db.subscriber.update({
    where: { email },
    data: { confirmTokenHash: createHash('sha256').update(token).digest('hex'), confirmTokenExpiresAt: new Date(Date.now() + 60_000) },
  });
  return `${baseUrl}/confirm/${token}`;
}

const pixel = 'data:image/svg+xml;base64,' + Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="400"><rect width="1200" height="400" fill="#f2b33d"/><circle cx="600" cy="200" r="120" fill="#fff6d8"/></svg>',
).toString('base64');

const issueMarkdown = [
  'Hello {{name}}, here is what happened this week.',
  '',
  '## Lanterns across the harbour',
  '',
  'The night market opened again, with **more stalls** than last year and a new *lantern walk*.',
  '',
  '- Stalls from seven villages',
  '- A [map of the walk](https://example.com/map)',
  '- Music until midnight',
  '',
  '> "The harbour has not looked like this in years." — a fisherman',
  '',
  `![A lantern over the water](${pixel})`,
  '',
  'See you next week. [Unsubscribe]({{unsubscribe_url}})',
].join('\n');

describe('the public pages in Chromium', () => {
  it('signup page names the newsletter and links to the archive', async () => {
    const page = await context.newPage();
    await page.goto(`${baseUrl}/`);
    await expectHeader(page, 'Subscribe');
    expect(await page.locator('h1').textContent()).toBe(`Subscribe to ${name}`);
    expect(await page.locator('link[rel=alternate][type="application/atom+xml"]').getAttribute('href')).toBe('/archive/feed.xml');
    await check(page, 'signup');
  });

  it('confirmation: a button, then "subscribed", then "already subscribed" on the same link', async () => {
    const link = await pendingWithLink('ann@example.com');
    const page = await context.newPage();
    await page.goto(link);
    await expectHeader(page, 'Confirm your subscription');
    expect(await page.locator('.lead').textContent()).toContain(name);
    await check(page, 'confirm');

    await page.getByRole('button', { name: 'Confirm my subscription' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('You are subscribed');
    expect(await page.locator('.lead').textContent()).toContain(`The next issue of ${name}`);
    await check(page, 'confirmed');

    await page.goto(link);
    expect(await page.locator('h1').textContent()).toBe('You are already subscribed');
    expect(await page.locator('form').count()).toBe(0);
    await check(page, 'confirm-already');
  });

  it('unsubscribe: a button, then "unsubscribed" with "subscribe again", which asks for confirmation', async () => {
    const [ann] = await seedSubscribers(web.db, [{ email: 'ann@example.com', name: 'Ann' }]);
    const page = await context.newPage();
    await page.goto(`${baseUrl}/unsubscribe/${ann!.unsubscribeToken}`);
    await expectHeader(page, 'Unsubscribe');
    expect(await page.locator('.lead').textContent()).toBe(`Stop sending everything from ${name} to ann@example.com?`);
    await check(page, 'unsubscribe');

    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('You are unsubscribed');

    await page.goto(`${baseUrl}/unsubscribe/${ann!.unsubscribeToken}`);
    expect(await page.locator('h1').textContent()).toBe('You are already unsubscribed');
    await check(page, 'unsubscribe-already');

    await page.getByRole('button', { name: 'Subscribe again' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Check your inbox');
    expect(await web.db.subscriber.findUniqueOrThrow({ where: { id: ann!.id } })).toMatchObject({ status: 'pending' });
    await check(page, 'resubscribe-sent');
  });

  it('a bounced address: no way back from a link', async () => {
    const [bo] = await seedSubscribers(web.db, [{ email: 'bo@example.com', status: 'bounced' }]);
    const page = await context.newPage();
    await page.goto(`${baseUrl}/unsubscribe/${bo!.unsubscribeToken}`);
    expect(await page.locator('h1').textContent()).toBe('This address receives no more emails');
    expect(await page.getByRole('button').count()).toBe(0);
    await check(page, 'unsubscribe-bounced');
  });

  it('archive, an issue page written in Markdown, and the Atom feed', async () => {
    const started = (daysAgo: number) => new Date(Date.UTC(2026, 10, 27, 8) - daysAgo * 24 * 60 * 60 * 1000);
    const subjects = ['Lanterns across the harbour', 'The first frost', 'Notes from the lighthouse', 'Autumn market, a long read with a title that goes on'];
    const ids: string[] = [];
    for (const [i, subject] of subjects.entries()) {
      const campaign = await web.db.campaign.create({
        data: { subject, html: issueMarkdown, format: 'markdown', status: 'sent', startedAt: started(i * 7), finishedAt: started(i * 7), recipientCount: 1 },
      });
      ids.push(campaign.id);
    }
    await web.db.campaign.create({ data: { subject: 'Members only', html: '<p>x</p>', status: 'sent', inArchive: false, startedAt: started(1), recipientCount: 1 } });

    const page = await context.newPage();
    await page.goto(`${baseUrl}/archive`);
    await expectHeader(page, 'Archive');
    expect(await page.locator('.issue-list a').allTextContents()).toEqual(subjects);
    await check(page, 'archive');

    await page.getByRole('link', { name: subjects[0] }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe(subjects[0]);
    const body = page.locator('.issue-body');
    expect(await body.locator('h2').textContent()).toBe('Lanterns across the harbour');
    expect(await body.locator('li').count()).toBe(3);
    expect(await body.locator('blockquote').textContent()).toContain('The harbour has not looked like this');
    expect(await body.locator('p').first().textContent()).toBe('Hello reader, here is what happened this week.');
    expect(await body.getByRole('link', { name: 'Unsubscribe' }).getAttribute('href')).toBe('#');
    expect(await body.locator('img').getAttribute('alt')).toBe('A lantern over the water');
    expect(await page.evaluate<boolean>("(() => { const img = document.querySelector('.issue-body img'); return img.complete && img.naturalWidth > 0; })()")).toBe(true);
    await check(page, 'issue');
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await page.evaluate<number>("document.querySelector('.issue-body img').getBoundingClientRect().width")).toBeLessThanOrEqual(375);

    // The feed parses as XML, with the archived issues only.
    const feedPage = await (await browser.newContext()).newPage();
    await feedPage.goto(`${baseUrl}/archive`);
    const feed = await feedPage.evaluate<{ error: string | null; title: string; entries: string[]; content: string }>(`(async () => {
      const text = await (await fetch('/archive/feed.xml')).text();
      const xml = new DOMParser().parseFromString(text, 'application/xml');
      return {
        error: xml.querySelector('parsererror')?.textContent ?? null,
        title: xml.querySelector('feed > title')?.textContent,
        entries: [...xml.querySelectorAll('entry > title')].map((node) => node.textContent),
        content: xml.querySelector('entry > content')?.textContent ?? '',
      };
    })()`);
    expect(feed.error).toBeNull();
    expect(feed.title).toBe(name);
    expect(feed.entries).toEqual(subjects);
    expect(feed.content).toContain('<h2>Lanterns across the harbour</h2>');
    await feedPage.context().close();
  });

  it('an empty archive and an unknown issue', async () => {
    const page = await context.newPage();
    await page.goto(`${baseUrl}/archive`);
    expect(await page.locator('.lead').textContent()).toContain('No issue has gone out yet.');
    await check(page, 'archive-empty');
    const missing = await page.goto(`${baseUrl}/archive/00000000-0000-4000-8000-000000000000`);
    expect(missing?.status()).toBe(404);
    await expectHeader(page, 'Error');
    await check(page, 'issue-not-found');
  });
});
