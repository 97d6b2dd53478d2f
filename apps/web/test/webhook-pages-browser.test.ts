import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desktop, openAdminPage, phone, screenshot, scrollsSideways, startAdminBrowser } from '../../../test/support/admin-browser.js';
import type { AdminBrowser } from '../../../test/support/admin-browser.js';
import { createWebHarness } from '../../../test/support/web.js';
import type { WebHarness } from '../../../test/support/web.js';

let web: WebHarness;
let browser: AdminBrowser;
let baseUrl: string;

beforeAll(async () => {
  web = await createWebHarness();
  await web.db.$executeRaw`DELETE FROM webhook_endpoints`;
  browser = await startAdminBrowser(web.app, { name: 'webhooks' });
  baseUrl = browser.baseUrl;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
});

type SeededDelivery = { type: string; status: string; attempts: number; nextAttemptInMinutes: number; statusCode: number | null; error: string | null; excerpt: string | null; durationMs: number };

/**
 * Deliveries as the worker leaves them. Inserting an event fans it out to the endpoints that want
 * it (a trigger), so the delivery that made is then given its state and an attempt.
 */
async function seedDeliveries(endpointId: string, deliveries: SeededDelivery[]) {
  for (const d of deliveries) {
    const [event] = await web.db.$queryRaw<{ id: string }[]>`
      INSERT INTO webhook_events (type, data) VALUES (${d.type}, '{"subscriber": {"email": "ada@example.com"}}'::jsonb) RETURNING id`;
    const [delivery] = await web.db.$queryRaw<{ id: string }[]>`
      INSERT INTO webhook_deliveries (event_id, endpoint_id, status, attempts, last_attempt_at, next_attempt_at, delivered_at)
      VALUES (${event!.id}::uuid, ${endpointId}::uuid, ${d.status}, ${d.attempts}, now(), now() + make_interval(mins => ${d.nextAttemptInMinutes}::int),
              CASE WHEN ${d.status} = 'delivered' THEN now() END)
      ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, last_attempt_at = excluded.last_attempt_at,
        next_attempt_at = excluded.next_attempt_at, delivered_at = excluded.delivered_at
      RETURNING id`;
    await web.db.$executeRaw`
      INSERT INTO webhook_attempts (delivery_id, duration_ms, status_code, error, response_excerpt)
      VALUES (${delivery!.id}::uuid, ${d.durationMs}::int, ${d.statusCode}::int, ${d.error}, ${d.excerpt})`;
  }
}

const seeded: SeededDelivery[] = [
  { type: 'subscriber.created', status: 'delivered', attempts: 1, nextAttemptInMinutes: 0, statusCode: 200, error: null, excerpt: '{"ok":true}', durationMs: 142 },
  {
    type: 'subscriber.confirmed', status: 'pending', attempts: 3, nextAttemptInMinutes: 30, statusCode: 502, error: null, durationMs: 2310,
    excerpt: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>',
  },
  { type: 'subscriber.unsubscribed', status: 'failed', attempts: 8, nextAttemptInMinutes: 0, statusCode: null, error: 'The endpoint did not answer within 10 s.', excerpt: null, durationMs: 10000 },
];

describe('the webhook pages in Chromium', () => {
  it('creates an endpoint through the form, shows its secret once, and lists its deliveries at 1280 px and on a phone', async () => {
    const page = await openAdminPage(browser);

    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Webhooks');
    await page.getByRole('link', { name: 'New endpoint' }).click();

    // A private address is refused, with the message by the field and the choices kept.
    await page.getByLabel('URL').fill('http://10.0.0.1/hooks');
    await page.getByLabel(/subscriber\.created/).check();
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await expect.poll(() => page.locator('#url-error').isVisible()).toBe(true);
    expect(await page.getByLabel(/subscriber\.created/).isChecked()).toBe(true);
    await screenshot(page, 'webhooks-01-invalid');

    await page.getByLabel('URL').fill('https://crm.example.com/integrations/herald/webhooks/incoming-events-for-the-newsletter');
    await page.getByLabel(/^Description/).fill('Keeps the CRM in step with the newsletter.');
    await page.getByLabel(/subscriber\.confirmed/).check();
    await page.getByLabel(/subscriber\.unsubscribed/).check();
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Endpoint created');
    const endpoint = await web.db.webhookEndpoint.findFirstOrThrow();
    expect(await page.locator('code.secret').textContent()).toBe(endpoint.secret);
    expect(await page.getByText('Copy it now: it is not shown again.').isVisible()).toBe(true);
    await screenshot(page, 'webhooks-02-secret');

    await seedDeliveries(endpoint.id, seeded);
    await page.getByRole('link', { name: 'Go to the endpoint' }).click();
    await page.waitForURL(`${baseUrl}/admin/webhooks/${endpoint.id}`);
    expect(await page.content()).not.toContain(endpoint.secret);
    const rows = page.locator('table.delivery-list tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    expect(await page.getByRole('button', { name: 'Send again' }).count()).toBe(2);
    const failing = rows.filter({ hasText: 'subscriber.confirmed' });
    expect(await failing.getByText('HTTP 502', { exact: true }).isVisible()).toBe(true);
    await failing.locator('summary').click();
    expect(await failing.locator('details pre').isVisible()).toBe(true);
    expect(await failing.locator('details pre').textContent()).toContain('<title>502 Bad Gateway</title>');
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'webhooks-03-endpoint-1280');

    await page.getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toContain('A webhook.test event is on its way');
    await expect.poll(() => rows.count()).toBe(4);

    await page.setViewportSize(phone);
    await page.reload();
    expect(await scrollsSideways(page)).toBe(false);
    expect(await page.locator('table.delivery-list thead').isVisible()).toBe(false);
    await screenshot(page, 'webhooks-04-endpoint-phone');

    await page.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => page.locator('.alert h2').textContent()).toBe('This endpoint is disabled');
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'webhooks-05-disabled-phone');

    await page.goto(`${baseUrl}/admin/webhooks`);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'webhooks-06-list-phone');
    await page.goto(`${baseUrl}/admin/webhooks/new`);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'webhooks-07-new-phone');
    await page.setViewportSize(desktop);
    await page.goto(`${baseUrl}/admin/webhooks`);
    await screenshot(page, 'webhooks-08-list-1280');
    await page.close();
  }, 90_000);
});
