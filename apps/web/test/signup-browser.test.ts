import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../test/support/admin-browser.js';
import { createWebHarness } from '../../../test/support/web.js';
import type { WebHarness } from '../../../test/support/web.js';

let web: WebHarness;
let server: Server;
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  web = await createWebHarness();
  server = web.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  server?.close();
  await web?.close();
});

describe('the signup page in a real browser, JavaScript off', () => {
  it('shows field errors, keeps what was typed, then subscribes', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${baseUrl}/`);
    expect(await page.title()).toBe('Subscribe · Herald');

    await page.getByLabel('Email address').fill('not an address');
    await page.getByLabel('Name').fill('Marie');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await expect.poll(() => page.locator('#email-error').textContent()).toContain('valid email address');
    expect(await page.getByLabel('Name').inputValue()).toBe('Marie');

    await page.getByLabel('Email address').fill('Marie@Example.com');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Almost there');
    expect(await web.db.subscriber.findUnique({ where: { email: 'marie@example.com' } })).toMatchObject({ name: 'Marie', status: 'pending' });
    await context.close();
  });
});
