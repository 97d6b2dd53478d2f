import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { phone, screenshot, startAdminBrowser, submitLogin } from '../../../test/support/admin-browser.js';
import type { AdminBrowser } from '../../../test/support/admin-browser.js';
import { truncateAll } from '../../../test/support/database.js';
import { seedAudience, seedSubscribers } from '../../../test/support/factories.js';
import { deleteKeys } from '../../../test/support/redis.js';
import { createStack, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';
import { adminEmail, adminPassword } from '../../../test/support/web.js';

let stack: Stack;
let browser: AdminBrowser;
let baseUrl: string;

beforeAll(async () => {
  stack = await createStack({ MAIL_POSTAL_ADDRESS: '1 Test Street, Testville' });
  // Slow enough to watch the progress bar move, pause and resume.
  await stack.startWorker({ SEND_RATE_PER_SECOND: '40', WORKER_CONCURRENCY: '2' });
  browser = await startAdminBrowser(stack.web.app, { name: 'admin', timezoneId: 'Europe/Paris' });
  baseUrl = browser.baseUrl;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});
beforeEach(async () => {
  await truncateAll(stack.web.db);
  await deleteKeys(`${stack.web.config.queuePrefix}:auth-failures`);
  stack.sink.reset();
  await browser.context.clearCookies();
});

async function logIn(page: Page) {
  await page.goto(`${baseUrl}/admin`);
  await expect.poll(() => page.url()).toBe(`${baseUrl}/admin/login`);
  await submitLogin(page);
  await expect.poll(() => page.locator('h1').first().textContent()).toBe('Campaigns');
}

describe('the admin in Chromium', () => {
  it('logs in, and refuses a client after five wrong passwords', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${baseUrl}/admin/login`);
    await screenshot(page, '01-login');
    // Guesses at an account that does not exist: this is the per-address throttle (the per-account
    // lock is tested in admin-security.test.ts).
    for (let attempt = 1; attempt <= 5; attempt++) {
      await submitLogin(page, { email: 'guesser@herald.test', password: `wrong ${attempt}` });
      await expect.poll(() => page.locator('#password-error').textContent()).toContain('That email and password do not match.');
    }
    await screenshot(page, '02-login-wrong');
    await page.getByLabel('Email').fill(adminEmail);
    await page.getByLabel('Password').fill(adminPassword);
    const refused = page.waitForResponse((response) => response.url().endsWith('/admin/login') && response.request().method() === 'POST');
    await page.getByRole('button', { name: 'Log in' }).click();
    expect((await refused).status()).toBe(429);
    await expect.poll(() => page.locator('#password-error').textContent()).toContain('Too many wrong attempts');
    await screenshot(page, '03-login-throttled');

    await deleteKeys(`${stack.web.config.queuePrefix}:auth-failures`);
    await logIn(page);
    await screenshot(page, '04-campaigns-empty');
    await page.close();
  }, 90_000);

  it('composes, previews, sends a test, confirms and follows the send to 100%, pausing and resuming on the way', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com', name: 'Ada Lovelace' }]);
    await seedAudience(stack.web.db, 119);
    const page = await browser.context.newPage();
    await logIn(page);
    await page.getByRole('link', { name: 'New campaign' }).first().click();
    await page.getByLabel('Subject', { exact: true }).fill('November news for {{name}}');
    await page.getByLabel('Body', { exact: true }).fill('<h1>Hello {{name}}</h1><p>This month: a new admin, test sends and live progress.</p><p>Sent to {{email}}.</p>');
    await page.getByLabel('Preview as subscriber').fill('ada@example.com');
    const preview = page.frameLocator('iframe[title="Email preview"]');
    await expect.poll(() => preview.locator('h1').textContent(), { timeout: 15_000 }).toBe('Hello Ada Lovelace');
    expect(await preview.locator('body').textContent()).toContain('1 Test Street, Testville');
    expect(await page.locator('[data-preview="subject"]').textContent()).toBe('November news for Ada Lovelace');
    await page.getByLabel('Send at, in UTC').fill('2030-06-01T09:30');
    await expect.poll(() => page.locator('#sendAt-local').textContent()).toContain('11:30');
    await page.getByLabel('Send at, in UTC').fill('');
    await screenshot(page, '05-compose-preview');

    await page.getByLabel('Test address').fill('editor@example.com');
    await page.getByRole('button', { name: 'Send test' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toContain('Test email on its way to editor@example.com');
    const test = await waitFor('the test email', () => stack.sink.inbox.findByRecipient('editor@example.com')[0]);
    expect(test.subject).toBe('[Test] November news for ');
    expect(stack.sink.inbox.list()).toHaveLength(1);
    expect(await stack.web.db.delivery.count()).toBe(0);
    await screenshot(page, '06-compose-test-sent');

    await page.getByRole('button', { name: 'Review and send' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Review and send');
    expect(await page.locator('[data-field="audience"]').textContent()).toBe('120');
    await screenshot(page, '07-review');
    await page.getByRole('button', { name: 'Send to 120 subscribers' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toContain('on its way');
    const campaign = await stack.web.db.campaign.findFirstOrThrow();
    expect(campaign.recipientCount).toBe(120);

    // The page updates itself: the percentage rises without a reload.
    const percent = async () => Number.parseFloat((await page.locator('[data-field="percent"]').textContent()) ?? '0');
    await expect.poll(percent, { timeout: 20_000 }).toBeGreaterThan(5);
    await screenshot(page, '08-campaign-sending');
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.locator('[data-field="status"]').textContent()).toBe('paused');
    expect(await page.getByRole('button', { name: 'Pause' }).isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Resume' }).isVisible()).toBe(true);
    await screenshot(page, '09-campaign-paused');
    const pausedAt = (await stack.web.db.delivery.count({ where: { campaignId: campaign.id, status: 'sent' } }));
    expect(pausedAt).toBeLessThan(120);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.locator('[data-field="percent"]').textContent(), { timeout: 60_000 }).toBe('100%');
    // The last delivery's worker marks the campaign sent just after; under load that takes a moment.
    await expect.poll(() => page.locator('[data-field="status"]').textContent(), { timeout: 30_000 }).toBe('sent');
    expect(await page.locator('[data-count="sent"]').textContent()).toBe('120');
    expect(await page.getByRole('button', { name: 'Resume' }).isVisible()).toBe(false);
    await screenshot(page, '10-campaign-sent');
    expect(stack.sink.inbox.list()).toHaveLength(121);

    await page.getByRole('link', { name: 'Campaigns' }).first().click();
    await screenshot(page, '11-campaign-list');
    await page.setViewportSize(phone);
    await screenshot(page, '12-campaign-list-phone');
    await page.goto(`${baseUrl}/admin/campaigns/new`);
    await screenshot(page, '13-compose-phone');
    await page.close();
  }, 180_000);

  it('searches a subscriber, opens them and erases them; imports a CSV through the form', async () => {
    await seedSubscribers(stack.web.db, [
      { email: 'ada@example.com', name: 'Ada Lovelace' },
      { email: 'grace@example.com', name: 'Grace Hopper' },
      { email: 'alan@example.com', name: 'Alan Turing', status: 'pending' },
    ]);
    const page = await browser.context.newPage();
    await logIn(page);
    await page.getByRole('link', { name: 'Subscribers' }).click();
    await screenshot(page, '14-subscribers');
    await page.getByLabel('Search by email or name').fill('hopper');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    await page.getByRole('link', { name: 'grace@example.com' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('grace@example.com');
    await screenshot(page, '15-subscriber');
    await page.getByRole('link', { name: 'Erase…' }).click();
    await screenshot(page, '16-subscriber-erase');
    await page.getByRole('button', { name: 'Erase this person' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toContain('erased');
    expect(await stack.web.db.subscriber.findUnique({ where: { email: 'grace@example.com' } })).toBeNull();

    await page.getByRole('link', { name: 'Import CSV' }).click();
    await page.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from('email,name\nnew@example.com,New Person\nada@example.com,Ada\nbroken,X\n') });
    await page.getByLabel(/already confirmed elsewhere/).check();
    await screenshot(page, '17-import-form');
    await page.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.locator('[data-report="imported"]').textContent()).toBe('1');
    expect(await page.locator('[data-report="invalid"]').textContent()).toBe('1');
    await screenshot(page, '18-import-report');
    expect(await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'new@example.com' } })).toMatchObject({ status: 'active' });

    await page.goto(`${baseUrl}/admin/no-such-page`);
    expect(await page.locator('h1').textContent()).toBe('Not found');
    await screenshot(page, '19-admin-404');
    await page.close();
  }, 90_000);
});
