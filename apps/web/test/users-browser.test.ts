import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeUser } from '../../../test/support/team.js';
import { desktop, openAdminPage, phone, screenshot, scrollsSideways, startAdminBrowser } from '../../../test/support/admin-browser.js';
import type { AdminBrowser } from '../../../test/support/admin-browser.js';
import { adminEmail, createWebHarness } from '../../../test/support/web.js';
import type { WebHarness } from '../../../test/support/web.js';

let web: WebHarness;
let browser: AdminBrowser;
let baseUrl: string;

beforeAll(async () => {
  web = await createWebHarness();
  browser = await startAdminBrowser(web.app, { name: 'users' });
  baseUrl = browser.baseUrl;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
});

describe('the team pages in Chromium', () => {
  it('invites someone, changes their role, disables them and shows the team at 1280 px and on a phone', async () => {
    const page = await openAdminPage(browser);
    await makeUser(web.db, 'admin', 'margaret.hamilton@example.com');
    const viewer = await makeUser(web.db, 'viewer', 'ann@example.com');
    await web.db.user.update({ where: { id: viewer.user.id }, data: { lastLoginAt: new Date(Date.now() - 3 * 24 * 60 * 60 * 1000) } });

    await page.getByRole('link', { name: 'Team', exact: true }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Team');

    // A malformed address is refused by its field, the other choices kept.
    await page.getByLabel('Email').fill('grace at example');
    await page.getByLabel(/^Name/).fill('Grace Hopper');
    await page.getByLabel(/^editor/).check();
    await page.getByRole('button', { name: 'Send the invitation' }).click();
    await expect.poll(() => page.locator('#email-error').isVisible()).toBe(true);
    expect(await page.getByLabel(/^editor/).isChecked()).toBe(true);
    await screenshot(page, 'users-01-invalid');

    await page.getByLabel('Email').fill('grace.hopper@example.com');
    await page.getByRole('button', { name: 'Send the invitation' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toContain('The invitation is on its way');
    const grace = await web.db.user.findUniqueOrThrow({ where: { email: 'grace.hopper@example.com' } });
    expect(page.url()).toBe(`${baseUrl}/admin/users/${grace.id}?notice=invited`);
    expect(await page.getByText('email not sent yet').isVisible()).toBe(true);
    await screenshot(page, 'users-02-invited-1280');

    await page.getByLabel(/^admin/).check();
    await page.getByRole('button', { name: 'Change the role' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toContain('The role is changed');
    expect((await web.db.user.findUniqueOrThrow({ where: { id: grace.id } })).role).toBe('admin');
    await page.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toContain('Disabled');
    expect(await page.getByRole('button', { name: 'Enable' }).isVisible()).toBe(true);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'users-03-disabled-1280');

    await page.setViewportSize(phone);
    await page.reload();
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'users-04-user-phone');
    await page.getByRole('link', { name: 'Team', exact: true }).first().click();
    await expect.poll(() => page.locator('table.user-list tbody tr').count()).toBe(4);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'users-05-team-phone');

    // The last owner cannot be demoted: the page says why.
    const owner = await web.db.user.findUniqueOrThrow({ where: { email: adminEmail } });
    await page.goto(`${baseUrl}/admin/users/${owner.id}`);
    await page.getByLabel(/^viewer/).check();
    await page.getByRole('button', { name: 'Change the role' }).click();
    await expect.poll(() => page.locator('.alert').textContent()).toContain('At least one enabled owner');
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'users-06-last-owner-phone');

    await page.goto(`${baseUrl}/admin/users/${viewer.user.id}`);
    await page.getByRole('link', { name: 'Remove' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Remove ann@example.com?');
    await screenshot(page, 'users-07-remove-phone');
    await page.getByRole('button', { name: 'Remove this person' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toContain('Removed');
    expect(await page.locator('table.user-list tbody tr').count()).toBe(3);

    await page.setViewportSize(desktop);
    await page.reload();
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'users-08-team-1280');
    await page.close();
  }, 120_000);

  it('shows the invitation page, and joining lands on the admin as the new role', async () => {
    const token = randomBytes(32).toString('base64url');
    await web.db.user.create({
      data: {
        email: 'katherine@example.com',
        role: 'editor',
        name: 'Katherine Johnson',
        invitedAt: new Date(),
        inviteTokenHash: createHash('sha256').update(token).digest('hex'),
        inviteExpiresAt: new Date(Date.now() + 60 * 60 * 1000),
      },
    });
    // Someone else's browser: no owner's session.
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    await page.setViewportSize(phone);
    await page.goto(`${baseUrl}/admin/invitations/${token}`);
    expect(await page.locator('h1').textContent()).toContain('as an editor');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('The password again').fill('short');
    await page.getByRole('button', { name: 'Join' }).click();
    await expect.poll(() => page.locator('#password-error').isVisible()).toBe(true);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'users-09-invitation-phone');

    await page.getByLabel('Password', { exact: true }).fill('katherine computes trajectories');
    await page.getByLabel('The password again').fill('katherine computes trajectories');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.waitForURL(`${baseUrl}/admin`);
    expect(await page.getByRole('link', { name: 'Team', exact: true }).count()).toBe(0);
    await page.setViewportSize(desktop);
    await page.goto(`${baseUrl}/admin/invitations/${token}`);
    expect(await page.locator('h1').textContent()).toBe('This invitation link does not work');
    await screenshot(page, 'users-10-invitation-used-1280');
    await page.close();
  }, 60_000);
});
