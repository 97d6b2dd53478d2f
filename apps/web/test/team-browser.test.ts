import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAdminPage, phone, screenshot, scrollsSideways, startAdminBrowser } from '../../../test/support/admin-browser.js';
import type { AdminBrowser } from '../../../test/support/admin-browser.js';
import { adminEmail, createWebHarness } from '../../../test/support/web.js';
import type { WebHarness } from '../../../test/support/web.js';
import { recordAudit } from '../src/team/audit.js';

let web: WebHarness;
let browser: AdminBrowser;
let baseUrl: string;

beforeAll(async () => {
  web = await createWebHarness();
  browser = await startAdminBrowser(web.app, { name: 'team' });
  baseUrl = browser.baseUrl;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
});

describe('the account and audit pages in Chromium', () => {
  it('creates a token through the form, shows it once, revokes one, and shows the audit log at 1280 px and on a phone', async () => {
    const page = await openAdminPage(browser);

    await page.getByRole('link', { name: /Your account and API tokens|admin@herald\.test/ }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Your account');

    // A past expiry is refused by the field, the name kept.
    await page.getByLabel('Name').fill('Nightly export to the data warehouse');
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByLabel(/^Expires on/).fill('2020-01-01');
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect.poll(() => page.locator('#token-expires-error').isVisible()).toBe(true);
    expect(await page.getByLabel('Name').inputValue()).toBe('Nightly export to the data warehouse');

    const nextYear = `${new Date().getUTCFullYear() + 1}-06-30`;
    await page.getByLabel(/^Expires on/).fill(nextYear);
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Token created');
    const token = await page.locator('code.secret').textContent();
    expect(token).toMatch(/^herald_/);
    expect(await page.locator('pre.command').textContent()).toContain(`Bearer ${token}`);
    expect(await page.getByText('Copy it now: it is not shown again.').isVisible()).toBe(true);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'team-01-token-created-1280');

    // Used once, so the list has a last use to show; then a second token, revoked.
    const used = await fetch(`${baseUrl}/campaigns`, { headers: { Authorization: `Bearer ${token}` } });
    expect(used.status).toBe(200);
    await page.getByRole('link', { name: 'Back to your account' }).click();
    await page.getByLabel('Name').fill('Old laptop');
    await page.getByLabel('Role').selectOption('admin');
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Token created');
    await page.getByRole('link', { name: 'Back to your account' }).click();
    await page.getByRole('button', { name: 'Revoke Old laptop' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toContain('The token is revoked');
    const rows = page.locator('table.token-list tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain('Nightly export');
    expect(await rows.last().getByText('revoked').isVisible()).toBe(true);
    expect(await page.content()).not.toContain(token);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'team-02-account-1280');

    // A few entries from elsewhere, so the log shows targets and addresses.
    const campaign = await web.db.campaign.create({ data: { subject: 'December news: what shipped this month', html: '<p>Hi</p>' } });
    const owner = await web.db.user.findUniqueOrThrow({ where: { email: adminEmail } });
    const actor = { userId: owner.id, tokenId: null, label: owner.email, role: 'owner' as const };
    await recordAudit(web.db, { actor, action: 'campaign.created', target: { type: 'campaign', id: campaign.id, label: campaign.subject }, address: '203.0.113.9' });
    await recordAudit(web.db, { actor: { userId: null, label: 'mallory@example.com' }, action: 'login.failed', address: '198.51.100.23' });
    await recordAudit(web.db, { actor, action: 'subscriber.erased', target: { type: 'subscriber', id: '44444444-4444-4444-8444-444444444444', label: null }, address: '2001:db8::1' });

    await page.getByRole('link', { name: 'Audit log' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Audit log');
    const entries = page.locator('table.audit-list tbody tr');
    // The login, two tokens made and one revoked, and the three above.
    await expect.poll(() => entries.count()).toBe(7);
    expect(await entries.first().textContent()).toContain('subscriber.erased');
    expect(await page.getByRole('link', { name: 'December news: what shipped this month' }).isVisible()).toBe(true);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'team-03-audit-1280');

    await page.getByLabel('Action').selectOption('token.created');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => entries.count()).toBe(2);

    await page.setViewportSize(phone);
    await page.goto(`${baseUrl}/admin/audit`);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'team-04-audit-phone');
    await page.goto(`${baseUrl}/admin/account`);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'team-05-account-phone');
    await page.getByLabel('Name').fill('Phone');
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Token created');
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'team-06-token-created-phone');
    await page.close();
  }, 90_000);
});
