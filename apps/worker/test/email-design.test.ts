/**
 * Every kind of email Herald sends, as a subscriber's mail client would show it: sent through the real
 * path (web, worker, official SendGrid client, mail sink), then opened in Chromium at a desktop
 * client's width and a phone's. Screenshots go to test-artifacts/emails/ for a person to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convert } from 'html-to-text';
import { createStack, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';
import { rulesOutsideMedia } from '../../../test/support/email-css.js';
import { postSend, seedSubscribers } from '../../../test/support/factories.js';

// What the page functions below use of the browser's DOM (they run in Chromium, not in Node).
type BrowserElement = { tagName: string; className: string; parentElement: BrowserElement | null; getBoundingClientRect(): { right: number } };
declare const document: { documentElement: { clientWidth: number; scrollWidth: number }; querySelectorAll(selector: string): Iterable<BrowserElement> };
declare function getComputedStyle(element: unknown): { fontFamily: string; borderLeftStyle: string; color: string; paddingTop: string; backgroundColor: string };

const artifacts = join(import.meta.dirname, '../../../test-artifacts/emails');
/** A desktop reading pane, the 600 px column itself, and a phone. */
const widths = [720, 600, 375];

/** A picture three times wider than a phone, to prove images shrink to the column. */
const wideImage =
  'data:image/svg+xml;base64,' +
  Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="500"><rect width="1200" height="500" fill="#c7d4f5"/>' +
      '<circle cx="600" cy="250" r="180" fill="#3056d3"/></svg>',
  ).toString('base64');

const richBody =
  '<h1>The week in review</h1>' +
  '<p>Dear {{name}}, here is what happened this week. Three things stood out.</p>' +
  '<h2>What shipped</h2>' +
  '<ul><li>Faster sends for large lists</li><li>A new archive of past issues</li><li>Dark mode for the admin</li></ul>' +
  '<blockquote>The best newsletter is the one people look forward to.</blockquote>' +
  '<p>Read the <a href="https://example.com/changelog">full changelog</a> for the details.</p>' +
  `<p><img src="${wideImage}" alt="A blue circle" width="1200"></p>` +
  '<p>See you next week.</p>';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await createStack();
  await stack.startWorker();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** Opens an email's HTML at `width` px, as a mail client's reading pane would (no scripts). */
async function openEmail(html: string, width: number, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: false });
  const page = await context.newPage();
  await page.setContent(html, { waitUntil: 'load' });
  await page.screenshot({ path: join(artifacts, `${name}-${width}.png`), fullPage: true });
  return page;
}

/** Elements whose right edge passes the viewport: a horizontal scrollbar on a phone. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((element) => element.getBoundingClientRect().right > width + 0.5)
      .map((element) => `${element.tagName.toLowerCase()}.${element.className}`);
    if (document.documentElement.scrollWidth > width) wide.push(`document ${document.documentElement.scrollWidth}px`);
    return wide;
  });
}

async function checkDesign(page: Page, html: string): Promise<void> {
  expect(rulesOutsideMedia(html)).toEqual([]);
  expect(await overflowing(page), `at ${page.viewportSize()?.width} px`).toEqual([]);
  const font = await page.locator('td.content').evaluate((element) => getComputedStyle(element).fontFamily);
  expect(font).toMatch(/-apple-system|Helvetica|Arial/);
  expect(font.startsWith('serif') || font.startsWith('"Times')).toBe(false);
  const column = await page.locator('table.container').boundingBox();
  expect(column!.width).toBeLessThanOrEqual(600);
  expect(await page.locator('.preheader').isVisible()).toBe(false);
  await expect.poll(() => page.locator('.brand').textContent()).toMatch(/\S/);
}

describe('the designed emails in a real browser', () => {
  it('a campaign with headings, a list, a quote, a link and an image reads well at 600 px and 375 px', async () => {
    const [ada] = await seedSubscribers(stack.web.db, [{ email: 'ada@example.com', name: 'Ada' }]);
    const res = await postSend(stack.web.app, { subject: 'The week in review', body: richBody }).expect(202);
    const message = await waitFor('the campaign email', () => stack.sink.inbox.findByRecipient('ada@example.com')[0]);
    const html = message.html!;
    const unsubscribeUrl = `http://herald.test/unsubscribe/${ada!.unsubscribeToken}/c/${res.body.campaignId}`;

    for (const width of widths) {
      const page = await openEmail(html, width, 'campaign');
      await checkDesign(page, html);
      const unsubscribe = page.getByRole('link', { name: 'Unsubscribe' });
      expect(await unsubscribe.isVisible()).toBe(true);
      expect(await unsubscribe.getAttribute('href')).toBe(unsubscribeUrl);
      expect(await page.getByText('1 Test Street, Testville').isVisible()).toBe(true);
      expect(await page.getByRole('heading', { name: 'The week in review' }).isVisible()).toBe(true);
      const image = await page.getByRole('img', { name: 'A blue circle' }).boundingBox();
      expect(image!.width).toBeLessThanOrEqual(width);
      expect(image!.width).toBeGreaterThan(width / 2);
      const quote = await page.locator('blockquote').evaluate((element) => getComputedStyle(element).borderLeftStyle);
      expect(quote).toBe('solid');
      await page.context().close();
    }

    // The preview line is the first sentence, personalised; the text part is the body's, not the layout's.
    expect(html).toMatch(/class="preheader"[^>]*>Dear Ada, here is what happened this week\./);
    const expectedText = convert(richBody.replace('{{name}}', 'Ada'), { wordwrap: 78 });
    expect(message.text!.startsWith(expectedText)).toBe(true);
    expect(message.text).toContain(`Unsubscribe: ${unsubscribeUrl}`);
    expect(message.text).toContain('1 Test Street, Testville');
    expect(message.text).not.toMatch(/preheader|role="presentation"|<td/);
    expect(res.body.tasks).toHaveLength(1);
  });

  it('shows the writer\'s own preview line, personalised, ahead of the body', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'alan@example.com', name: 'Alan' }]);
    await postSend(stack.web.app, { subject: 'Short', body: '<p>Body first sentence.</p>', preheader: 'For {{name}}: the short version' }).expect(202);
    const message = await waitFor('the campaign email', () => stack.sink.inbox.findByRecipient('alan@example.com')[0]);
    expect(message.html).toMatch(/<div class="preheader"[^>]*>For Alan: the short version/);
    expect(message.text).not.toContain('the short version');
  });

  it('the confirmation email is a call to action with a button that also works in Outlook', async () => {
    await request(stack.web.app).post('/register').type('form').send({ email: 'grace@example.com', name: 'Grace' }).expect(200);
    const message = await waitFor('the confirmation email', () => stack.sink.inbox.findByRecipient('grace@example.com')[0]);
    const html = message.html!;
    const confirmUrl = /http:\/\/herald\.test\/confirm\/[A-Za-z0-9_-]+/.exec(message.text!)?.[0];
    expect(confirmUrl).toBeDefined();
    // Outlook draws the button from VML inside a conditional comment; other clients use the link.
    expect(html).toMatch(/<!--\[if mso\]>[\s\S]*<v:roundrect[^>]*href="http:\/\/herald\.test\/confirm\/[^"]+"[\s\S]*<!\[endif\]-->/);

    for (const width of widths) {
      const page = await openEmail(html, width, 'confirmation');
      await checkDesign(page, html);
      const button = page.getByRole('link', { name: 'Confirm my subscription' });
      expect(await button.isVisible()).toBe(true);
      expect(await button.getAttribute('href')).toBe(confirmUrl);
      const look = await button.evaluate((element) => {
        const style = getComputedStyle(element);
        return { color: style.color, padding: style.paddingTop, background: getComputedStyle(element.parentElement!).backgroundColor };
      });
      expect(look.color).toBe('rgb(255, 255, 255)');
      expect(look.background).not.toBe('rgba(0, 0, 0, 0)');
      expect(parseFloat(look.padding)).toBeGreaterThanOrEqual(10);
      expect(await page.getByRole('link', { name: 'Unsubscribe' }).count()).toBe(0);
      expect(await page.getByText('1 Test Street, Testville').isVisible()).toBe(true);
      await page.context().close();
    }
    expect(message.text).toContain(`Confirm your subscription: ${confirmUrl}`);
    expect(message.text).toContain('The link works for 7 days.');
  });
});
