import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAdminPage, screenshot, startAdminBrowser } from '../../../test/support/admin-browser.js';
import type { AdminBrowser } from '../../../test/support/admin-browser.js';
import { createWebHarness } from '../../../test/support/web.js';
import type { WebHarness } from '../../../test/support/web.js';

let web: WebHarness;
let browser: AdminBrowser;

beforeAll(async () => {
  web = await createWebHarness();
  await web.db.$executeRaw`DELETE FROM segments`;
  await web.db.$executeRaw`DELETE FROM lists WHERE NOT is_default`;
  // 40 active readers: every fourth on the pro plan, countries in turn.
  await web.db.$executeRaw`
    INSERT INTO subscribers (email, name, status, attributes, confirmed_at)
    SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active',
           jsonb_build_object('plan', CASE WHEN n % 4 = 0 THEN 'pro' ELSE 'free' END, 'country', (ARRAY['FR', 'DE', 'US'])[1 + n % 3], 'seats', n), now()
    FROM generate_series(0, 39) AS n`;
  browser = await startAdminBrowser(web.app, { name: 'segments' });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
});

describe('the segment builder in Chromium', () => {
  it('builds a segment from rows, previews its count and sample, saves it and edits it', async () => {
    const page = await openAdminPage(browser);

    await page.getByRole('link', { name: 'Segments', exact: true }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Segments');
    await screenshot(page, 'segments-01-empty');
    await page.getByRole('link', { name: 'New segment' }).click();

    await page.getByLabel('Name', { exact: true }).fill('Pro customers in France');
    await page.getByLabel('Rule 1 on').selectOption('attribute');
    await page.getByLabel('Rule 1 key, list or campaign').fill('plan');
    await page.getByLabel('Rule 1 condition').selectOption('eq');
    await page.getByLabel('Rule 1 value').fill('pro');
    await page.getByLabel('Rule 2 on').selectOption('attribute');
    await page.getByLabel('Rule 2 key, list or campaign').fill('country');
    await page.getByLabel('Rule 2 condition').selectOption('in');
    await page.getByLabel('Rule 2 value').fill('FR, DE');
    await page.getByRole('button', { name: 'Preview' }).click();
    // plan pro: n = 0, 4, …, 36; of those, FR (n % 3 = 0) or DE (n % 3 = 1): 0, 4, 12, 16, 24, 28, 36.
    await expect.poll(() => page.locator('.segment-count').textContent()).toBe('7');
    await expect.poll(() => page.locator('.segment-preview tbody tr').count()).toBe(7);
    expect(await page.getByLabel('Rule 2 value').inputValue()).toBe('FR, DE');
    await screenshot(page, 'segments-02-preview');

    await page.getByRole('button', { name: 'Save segment' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('The segment was saved.');
    const saved = await web.db.segment.findUniqueOrThrow({ where: { name: 'Pro customers in France' } });
    expect(saved.rules).toEqual({ all: [{ attribute: 'plan', op: 'eq', value: 'pro' }, { attribute: 'country', op: 'in', value: ['FR', 'DE'] }] });
    expect(await page.locator('.segment-count').textContent()).toBe('7');

    // A mistake is shown on its row, and nothing is saved.
    await page.getByLabel('Rule 3 on').selectOption('attribute');
    await page.getByLabel('Rule 3 key, list or campaign').fill("seats'; DROP TABLE subscribers");
    await page.getByLabel('Rule 3 condition').selectOption('gt');
    await page.getByLabel('Rule 3 value').fill('10');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await expect.poll(() => page.locator('tr.row-error').textContent()).toContain('Rule 3: attribute: attribute must be a letter or _');
    await screenshot(page, 'segments-03-invalid');
    expect((await web.db.segment.findUniqueOrThrow({ where: { id: saved.id } })).rules).toEqual(saved.rules);

    await page.getByLabel('Rule 3 key, list or campaign').fill('seats');
    await page.locator('input[name=match][value=any]').check();
    await page.getByRole('button', { name: 'Save segment' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('The segment was saved.');
    // Any of: pro (10), FR or DE (27), seats > 10 (29): everyone but US readers on the free plan with at most 10 seats (2 and 5).
    await expect.poll(() => page.locator('.segment-count').textContent()).toBe(String(40 - [2, 5].length));

    // Nested rules go through the JSON box.
    await page.getByText('Rules as JSON (for nested groups)').click();
    await page.getByLabel('When filled in, this is used instead of the rows above.').fill(
      JSON.stringify({ all: [{ attribute: 'plan', op: 'eq', value: 'pro' }, { not: { any: [{ attribute: 'country', op: 'eq', value: 'US' }, { attribute: 'seats', op: 'lt', value: 10 }] } }] }, null, 2),
    );
    await page.getByRole('button', { name: 'Save segment' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('The segment was saved.');
    // pro (multiples of 4) not US (n % 3 = 2) and seats ≥ 10: 12, 16, 24, 28, 36.
    await expect.poll(() => page.locator('.segment-count').textContent()).toBe('5');
    await screenshot(page, 'segments-04-json');

    await page.getByRole('link', { name: '← Segments' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    await screenshot(page, 'segments-05-list');
    await page.close();
  });
});
