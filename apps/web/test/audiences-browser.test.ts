import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, startAdminBrowser, submitLogin } from '../../../test/support/admin-browser.js';
import type { AdminBrowser } from '../../../test/support/admin-browser.js';
import { truncateAll } from '../../../test/support/database.js';
import { deleteKeys } from '../../../test/support/redis.js';
import { createStack, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';
import { seedList, subscriptionsByEmail } from './list-fixtures.js';

let stack: Stack;
let browser: AdminBrowser;
let baseUrl: string;
let defaultListName: string;

/*
 * One audience for the whole file; the tests run in order and each changes only its own people
 * (or, for the lists page, runs first), so the counts asserted below hold:
 *
 * - reader-0 … reader-11: active, plan "pro" when n is even, all on the default list;
 *   Weekly digest (public) has reader-0 … reader-7, Events (private) reader-4 … reader-11.
 * - left@: pro, on Weekly digest but unsubscribed from it; bounced@: pro, bounced, still subscribed
 *   to Weekly digest; waiting@: pro, unconfirmed, pending on Weekly digest.
 * - ada@ (the subscriber page) and pat@ (the preference centre) have lists of their own.
 * - The saved segment "Pro plan" is plan = pro.
 */
async function seedAudiences(db: Stack['web']['db']) {
  await seedList(db, { slug: 'weekly', name: 'Weekly digest', description: 'The week in five links, every Friday.' });
  await seedList(db, { slug: 'events', name: 'Events', visibility: 'private' });
  await db.$executeRaw`
    INSERT INTO subscribers (email, name, status, attributes, consent_at, consent_source, confirmed_at)
    SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active',
           jsonb_build_object('plan', CASE WHEN n % 2 = 0 THEN 'pro' ELSE 'free' END), now(), 'test', now()
    FROM generate_series(0, 11) AS n`;
  await db.$executeRaw`
    INSERT INTO subscribers (email, name, status, attributes, consent_at, consent_source, confirmed_at) VALUES
      ('left@example.com', 'Left', 'active', '{"plan": "pro"}', now(), 'test', now()),
      ('bounced@example.com', 'Bounced', 'bounced', '{"plan": "pro"}', now(), 'test', now()),
      ('waiting@example.com', 'Waiting', 'pending', '{"plan": "pro"}', now(), 'test', NULL),
      ('ada@example.com', 'Ada Lovelace', 'active', '{"plan": "free"}', now(), 'test', now()),
      ('pat@example.com', 'Pat', 'active', '{"plan": "pro", "seats": 4}', now(), 'test', now())`;
  for (let n = 0; n < 12; n++) {
    await subscribe(db, `reader-${n}@example.com`, 'newsletter');
    if (n < 8) await subscribe(db, `reader-${n}@example.com`, 'weekly');
    if (n >= 4) await subscribe(db, `reader-${n}@example.com`, 'events');
  }
  await subscribe(db, 'left@example.com', 'newsletter');
  await subscribe(db, 'left@example.com', 'weekly', 'unsubscribed');
  await subscribe(db, 'bounced@example.com', 'weekly');
  await subscribe(db, 'waiting@example.com', 'weekly', 'pending');
  await subscribe(db, 'ada@example.com', 'newsletter');
  await subscribe(db, 'ada@example.com', 'weekly', 'unsubscribed');
  await subscribe(db, 'pat@example.com', 'newsletter');
  await subscribe(db, 'pat@example.com', 'events');
  await db.segment.create({ data: { name: 'Pro plan', rules: { attribute: 'plan', op: 'eq', value: 'pro' } } });
}

async function subscribe(db: Stack['web']['db'], email: string, slug: string, status: 'active' | 'pending' | 'unsubscribed' = 'active') {
  await db.$executeRaw`
    INSERT INTO subscriptions (subscriber_id, list_id, status, consent_at, consent_source, confirmed_at, unsubscribed_at)
    SELECT s.id, l.id, ${status}::subscription_status, now(), 'test',
           CASE WHEN ${status} = 'active' THEN now() END, CASE WHEN ${status} = 'unsubscribed' THEN now() END
    FROM subscribers s, lists l WHERE s.email = ${email} AND l.slug = ${slug}`;
}

beforeAll(async () => {
  stack = await createStack({ MAIL_POSTAL_ADDRESS: '1 Test Street, Testville' });
  await truncateAll(stack.web.db);
  await deleteKeys(`${stack.web.config.queuePrefix}:auth-failures`);
  await seedAudiences(stack.web.db);
  defaultListName = (await stack.web.db.list.findFirstOrThrow({ where: { isDefault: true } })).name;
  await stack.startWorker();
  browser = await startAdminBrowser(stack.web.app, { name: 'audiences', timezoneId: 'Europe/Paris', acceptDownloads: true });
  baseUrl = browser.baseUrl;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

function shoot(page: Page, name: string) {
  return screenshot(page, `audiences-${name}`);
}

/** A new tab logged in to the admin (the session cookie is kept by the context after the first). */
async function adminPage(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`${baseUrl}/admin`);
  if (page.url() === `${baseUrl}/admin/login`) await submitLogin(page);
  await expect.poll(() => page.locator('h1').first().textContent()).toBe('Campaigns');
  return page;
}

/** The text of a table row's cell by its column label (the tables carry data-label for phones). */
function cell(page: Page, rowText: string, label: string) {
  return page.locator('tbody tr', { hasText: rowText }).locator(`td[data-label="${label}"]`);
}

/** The person's subscription to one list, with its status label, on the preference centre. */
function preferenceRow(page: Page, listName: string) {
  // By the list's name alone: "newsletter" is also a word of another row's note.
  return page.locator('.list-choice .checkbox').filter({ has: page.locator('strong', { hasText: new RegExp(`^${listName}$`) }) });
}

/** What the campaign test sent, for the unsubscribe test that follows it. */
let sentCampaignId: string | undefined;

describe('audiences in Chromium', () => {
  it('lists the lists with counts per status, creates a public double opt-in list with a welcome email, and its embed snippet works', async () => {
    const page = await adminPage();
    await page.getByRole('link', { name: 'Lists', exact: true }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Lists');
    // Weekly digest: reader-0 … reader-7 and bounced@ active (a bounce stays subscribed), waiting@
    // pending, left@ and ada@ unsubscribed.
    expect(await cell(page, 'Weekly digest', 'Active').textContent()).toBe('9');
    expect(await cell(page, 'Weekly digest', 'Pending').textContent()).toBe('1');
    expect(await cell(page, 'Weekly digest', 'Unsubscribed').textContent()).toBe('2');
    // Events: reader-4 … reader-11 and pat@.
    expect(await cell(page, 'Events', 'Active').textContent()).toBe('9');
    expect(await cell(page, 'Events', 'Visibility').textContent()).toContain('private');
    await shoot(page, '01-lists');

    await page.getByRole('link', { name: 'New list' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Member offers');
    await page.getByLabel('Description').fill('Discounts for members, once a month.');
    await page.getByLabel(/^Public/).check();
    await page.getByLabel(/^Double opt-in/).check();
    await page.getByLabel('Subject').fill('Welcome, {{name}}');
    await page.getByLabel('Body').fill('Thanks for joining **Member offers**.');
    await shoot(page, '02-list-new');
    await page.getByRole('button', { name: 'Create list' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('The list was created.');
    const created = await stack.web.db.list.findUniqueOrThrow({ where: { slug: 'member-offers' } });
    expect(created).toMatchObject({ name: 'Member offers', visibility: 'public', doubleOptIn: true, welcomeSubject: 'Welcome, {{name}}', welcomeFormat: 'markdown' });
    expect(await page.locator('.lead').first().textContent()).toContain('double opt-in');

    // The snippet is one plain form posting to Herald's public address, with no script at all.
    const snippet = await page.getByLabel('Embed snippet').inputValue();
    // Parsed by the browser itself (a string, as this file is type-checked without the DOM library).
    const parsed = await page.evaluate(`(() => {
      const doc = new DOMParser().parseFromString(${JSON.stringify(snippet)}, 'text/html');
      const forms = [...doc.querySelectorAll('form')];
      return {
        forms: forms.length,
        scripts: doc.querySelectorAll('script').length,
        handlers: [...doc.querySelectorAll('*')].flatMap((el) => el.getAttributeNames().filter((name) => name.startsWith('on'))),
        method: forms[0]?.getAttribute('method'),
        action: forms[0]?.getAttribute('action'),
        fields: [...doc.querySelectorAll('input')].map((input) => input.name),
      };
    })()`);
    expect(parsed).toEqual({ forms: 1, scripts: 0, handlers: [], method: 'post', action: 'http://herald.test/l/member-offers', fields: ['email', 'name', 'redirect'] });
    await shoot(page, '03-list-show');

    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Edit the list');
    expect(await page.getByLabel('Slug').inputValue()).toBe('member-offers');
    await page.getByLabel('Description').fill('Discounts for members, twice a month.');
    await shoot(page, '04-list-edit');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('Changes saved.');
    expect(await page.locator('main').textContent()).toContain('Discounts for members, twice a month.');

    // Pasted on another site (here a blank page), the snippet signs a person up to this list.
    const site = await browser.context.newPage();
    await site.setContent(snippet.replace('http://herald.test', baseUrl));
    await site.getByLabel('Email').fill('embedded@example.com');
    await site.getByLabel('Name').fill('Em Bedded');
    await site.getByRole('button', { name: 'Subscribe' }).click();
    await expect.poll(() => site.locator('main').textContent()).toContain('Check your inbox');
    expect(await subscriptionsByEmail(stack.web.db, 'embedded@example.com')).toEqual({ 'member-offers': 'pending' });
    await site.close();

    // Deleted again, so the signup form below offers exactly the two seeded public lists.
    await page.getByRole('button', { name: 'Delete or archive this list' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('The list was deleted.');
    expect(await page.locator('tbody tr', { hasText: 'Member offers' }).count()).toBe(0);
    await page.close();
  }, 90_000);

  it("shows a subscriber's subscriptions, adds them to a list, removes them from one, and saves their attributes", async () => {
    const page = await adminPage();
    await page.getByRole('link', { name: 'Subscribers' }).click();
    await page.getByLabel('Search by email or name').fill('ada@');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'ada@example.com' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('ada@example.com');
    expect(await cell(page, defaultListName, 'Status').textContent()).toContain('active');
    expect(await cell(page, 'Weekly digest', 'Status').textContent()).toContain('unsubscribed');
    // Offered: the lists Ada is not active on, the one she left included.
    expect((await page.getByLabel('Add to').locator('option').allTextContents()).sort()).toEqual(['Events', 'Weekly digest']);
    await shoot(page, '05-subscriber');

    await page.getByLabel('Add to').selectOption({ label: 'Events' });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('Subscription saved.');
    expect(await cell(page, 'Events', 'Status').textContent()).toContain('active');
    expect(await cell(page, 'Events', 'Consent').textContent()).toContain('admin');

    await page.locator('tbody tr', { hasText: defaultListName }).getByRole('button', { name: 'Unsubscribe' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('Unsubscribed from the list.');
    expect(await cell(page, defaultListName, 'Status').textContent()).toContain('unsubscribed');
    expect(await subscriptionsByEmail(stack.web.db, 'ada@example.com')).toEqual({ events: 'active', newsletter: 'unsubscribed', weekly: 'unsubscribed' });
    // Leaving one list is not leaving everything.
    expect((await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'ada@example.com' } })).status).toBe('active');

    await page.getByLabel('Attributes as JSON').fill('{"plan": "team", "seats": 3,');
    await page.getByRole('button', { name: 'Save attributes' }).click();
    await expect.poll(() => page.locator('#attributes-error').textContent()).toContain('not valid JSON');
    // What was typed is kept for correcting, and nothing was stored.
    expect(await page.getByLabel('Attributes as JSON').inputValue()).toBe('{"plan": "team", "seats": 3,');
    await shoot(page, '06-subscriber-attributes-invalid');
    await page.getByLabel('Attributes as JSON').fill('{"plan": "team", "seats": 3, "beta": true}');
    await page.getByRole('button', { name: 'Save attributes' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('Attributes saved.');
    expect(JSON.parse(await page.getByLabel('Attributes as JSON').inputValue())).toEqual({ plan: 'team', seats: 3, beta: true });
    expect((await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'ada@example.com' } })).attributes).toEqual({ plan: 'team', seats: 3, beta: true });
    await shoot(page, '07-subscriber-saved');
    await page.close();
  }, 60_000);

  it('filters subscribers by list and subscription status, by their own status, and by segment', async () => {
    const page = await adminPage();
    await page.getByRole('link', { name: 'Subscribers' }).click();
    const emails = async () => (await page.locator('tbody td[data-label="Email"]').allTextContents()).sort();
    const search = async (choices: { status?: string; list?: string; subscription?: string; segment?: string }) => {
      await page.getByLabel('Status', { exact: true }).selectOption(choices.status ?? '');
      await page.getByLabel('List', { exact: true }).selectOption(choices.list ? { label: choices.list } : '');
      await page.getByLabel('Subscription status').selectOption(choices.subscription ?? '');
      await page.getByLabel('Segment').selectOption(choices.segment ? { label: choices.segment } : '');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForLoadState('load');
    };
    const readers = (ns: number[]) => ns.map((n) => `reader-${n}@example.com`);

    await search({ list: 'Weekly digest', subscription: 'active' });
    expect(await emails()).toEqual([...readers([0, 1, 2, 3, 4, 5, 6, 7]), 'bounced@example.com'].sort());
    expect(page.url()).toContain('list=weekly');
    await shoot(page, '08-subscribers-by-list');

    await search({ status: 'active', list: 'Weekly digest', subscription: 'active' });
    expect(await emails()).toEqual(readers([0, 1, 2, 3, 4, 5, 6, 7]).sort());
    await search({ list: 'Weekly digest', subscription: 'unsubscribed' });
    expect(await emails()).toEqual(['ada@example.com', 'left@example.com']);
    await search({ list: 'Weekly digest', subscription: 'pending' });
    expect(await emails()).toEqual(['waiting@example.com']);

    await search({ list: 'Events', subscription: 'active', segment: 'Pro plan' });
    expect(await emails()).toEqual([...readers([4, 6, 8, 10]), 'pat@example.com'].sort());
    // The filters stay chosen on the page they produced.
    expect(await page.getByLabel('Segment').locator('option:checked').textContent()).toBe('Pro plan');
    await shoot(page, '09-subscribers-by-segment');
    await page.close();
  }, 60_000);

  it('composes to two lists and a segment; the review counts each person once; the campaign page names its audience', async () => {
    const page = await adminPage();
    await page.getByRole('link', { name: 'New campaign' }).first().click();
    await page.getByLabel('Subject', { exact: true }).fill('Pro news for {{name}}');
    await page.getByLabel('Body', { exact: true }).fill('<p>Hello {{name}}, this is for the {{attributes.plan}} plan.</p>');
    // The default list is ticked for a new campaign; this one goes to two others.
    expect(await page.getByLabel(new RegExp(`^${defaultListName}`)).isChecked()).toBe(true);
    await page.getByLabel(new RegExp(`^${defaultListName}`)).uncheck();
    await page.getByLabel(/^Weekly digest/).check();
    await page.getByLabel(/^Events/).check();
    await page.getByLabel(/^Segment/).selectOption({ label: 'Pro plan' });
    await shoot(page, '10-compose-audience');
    await page.getByRole('button', { name: 'Review and send' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Review and send');

    // Active people on Weekly digest or Events with plan = pro: reader-0, 2, 4, 6 and pat@ (Events),
    // reader-4, 6, 8, 10 (Events), reader-4 and reader-6 being on both: 7, not 9. left@ left the
    // list, bounced@ bounced and waiting@ never confirmed.
    expect(await page.locator('[data-field="audience"]').textContent()).toBe('7');
    expect(await page.locator('[data-field="audience-of"]').textContent()).toBe('To Events, Weekly digest, only people matching Pro plan.');
    await shoot(page, '11-review');

    await page.getByRole('button', { name: 'Send to 7 subscribers' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toContain('on its way');
    expect(await page.locator('[data-field="audience-of"]').textContent()).toBe('To Events, Weekly digest, only people matching Pro plan');
    const campaign = await stack.web.db.campaign.findFirstOrThrow({ where: { subject: 'Pro news for {{name}}' } });
    sentCampaignId = campaign.id;
    expect(campaign.recipientCount).toBe(7);
    await expect.poll(() => page.locator('[data-field="status"]').textContent(), { timeout: 30_000 }).toBe('sent');
    await shoot(page, '12-campaign-sent');

    const recipients = stack.sink.inbox.list().filter((message) => message.subject.startsWith('Pro news')).flatMap((message) => message.recipients).sort();
    expect(recipients).toEqual([...[0, 2, 4, 6, 8, 10].map((n) => `reader-${n}@example.com`), 'pat@example.com'].sort());
    const [toReader4] = stack.sink.inbox.findByRecipient('reader-4@example.com');
    expect(toReader4?.html).toContain('this is for the pro plan');
    // The first list names the List-Id.
    expect(toReader4?.headers['List-Id'] ?? toReader4?.headers['list-id']).toContain('<events.');
    await page.close();
  }, 120_000);

  it('offers the public lists on the signup form, never a private one, and has a form of its own for one list', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${baseUrl}/`);
    const offered = page.locator('.list-choice input[name="lists"]');
    expect(await offered.count()).toBe(2);
    expect(await page.locator('.list-choice label').allTextContents()).toEqual([
      expect.stringContaining(defaultListName),
      expect.stringContaining('Weekly digest'),
    ]);
    expect(await page.locator('.list-choice').textContent()).toContain('The week in five links, every Friday.');
    expect(await page.locator('main').textContent()).not.toContain('Events');
    expect(await page.getByRole('checkbox', { name: defaultListName }).isChecked()).toBe(true);
    await shoot(page, '13-signup');

    await page.getByLabel('Email address').fill('newcomer@example.com');
    await page.getByLabel(/^Name/).fill('New Comer');
    await page.getByRole('checkbox', { name: defaultListName }).uncheck();
    await page.getByRole('checkbox', { name: /Weekly digest/ }).check();
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain('Check your inbox');
    expect(await subscriptionsByEmail(stack.web.db, 'newcomer@example.com')).toEqual({ weekly: 'pending' });
    await shoot(page, '14-signup-thanks');

    await page.goto(`${baseUrl}/l/weekly`);
    expect(await page.locator('h1').textContent()).toBe('Subscribe to Weekly digest');
    expect(await page.locator('input[name="lists"]').count()).toBe(0);
    await shoot(page, '15-signup-one-list');
    await page.getByLabel('Email address').fill('linked@example.com');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain('Check your inbox');
    expect(await subscriptionsByEmail(stack.web.db, 'linked@example.com')).toEqual({ weekly: 'pending' });

    const privateForm = await page.goto(`${baseUrl}/l/events`);
    expect(privateForm?.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('There is no such list');
    await page.close();
  }, 60_000);

  it('lets a person change lists and name from the preference centre, download their data, and leave everything', async () => {
    const pat = await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'pat@example.com' } });
    const page = await browser.context.newPage();
    await page.goto(`${baseUrl}/preferences/${pat.unsubscribeToken}`);
    expect(await preferenceRow(page, defaultListName).locator('.status').textContent()).toBe('subscribed');
    expect(await preferenceRow(page, 'Weekly digest').locator('.status').textContent()).toBe('not subscribed');
    // A private list she is on is shown so she can leave it.
    expect(await preferenceRow(page, 'Events').textContent()).toContain('you can leave it');
    await shoot(page, '16-preferences');

    await preferenceRow(page, defaultListName).locator('input').uncheck();
    await preferenceRow(page, 'Weekly digest').locator('input').check();
    await page.getByLabel(/^Name/).fill('Pat Quinn');
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await expect.poll(() => page.locator('.notice').first().textContent()).toBe('Your choices are saved.');

    // Opened again, the page shows what was stored.
    await page.goto(`${baseUrl}/preferences/${pat.unsubscribeToken}`);
    expect(await preferenceRow(page, defaultListName).locator('.status').textContent()).toBe('unsubscribed');
    expect(await preferenceRow(page, 'Weekly digest').locator('.status').textContent()).toBe('subscribed');
    expect(await preferenceRow(page, 'Events').locator('.status').textContent()).toBe('subscribed');
    expect(await page.getByLabel(/^Name/).inputValue()).toBe('Pat Quinn');
    expect(await subscriptionsByEmail(stack.web.db, 'pat@example.com')).toEqual({ events: 'active', newsletter: 'unsubscribed', weekly: 'active' });
    await shoot(page, '17-preferences-saved');

    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download your data' }).click();
    const file = await (await download).path();
    const data = JSON.parse(readFileSync(file, 'utf8')) as { subscriber: { email: string; name: string; attributes: unknown }; subscriptions: { list: { slug: string }; status: string; consentSource: string }[] };
    expect(data.subscriber).toMatchObject({ email: 'pat@example.com', name: 'Pat Quinn', attributes: { plan: 'pro', seats: 4 } });
    expect(Object.fromEntries(data.subscriptions.map((sub) => [sub.list.slug, sub.status]))).toEqual({ events: 'active', newsletter: 'unsubscribed', weekly: 'active' });
    expect(data.subscriptions.find((sub) => sub.list.slug === 'weekly')?.consentSource).toBe('preferences');
    expect(JSON.stringify(data)).not.toContain(pat.unsubscribeToken);

    await page.getByRole('button', { name: 'Unsubscribe from everything' }).click();
    await expect.poll(() => page.locator('.notice').first().textContent()).toContain('You are unsubscribed from everything');
    expect((await stack.web.db.subscriber.findUniqueOrThrow({ where: { id: pat.id } })).status).toBe('unsubscribed');
    expect(await page.getByRole('button', { name: 'Unsubscribe from everything' }).count()).toBe(0);
    await shoot(page, '18-preferences-everything');
    await page.close();
  }, 60_000);

  it("leaves only the campaign's lists from a delivery's unsubscribe link, and offers everything and the preference centre", async () => {
    expect(sentCampaignId, 'the compose test sends the campaign this one unsubscribes from').toBeDefined();
    const linkIn = (email: string) => {
      const message = stack.sink.inbox.findByRecipient(email).find((m) => m.subject.startsWith('Pro news'));
      const href = message?.html?.match(/href="(http:\/\/herald\.test\/unsubscribe\/[0-9a-f]{64}\/c\/[0-9a-f-]{36})"/)?.[1];
      expect(href, `the unsubscribe link in ${email}'s email`).toBeDefined();
      expect(href).toContain(`/c/${sentCampaignId}`);
      return href!.replace('http://herald.test', baseUrl);
    };

    // reader-4 is on both of the campaign's lists and on the default list, which it did not go to.
    const page = await browser.context.newPage();
    await page.goto(linkIn('reader-4@example.com'));
    expect(await page.locator('.lead').textContent()).toBe('Stop sending Events, Weekly digest to reader-4@example.com?');
    await shoot(page, '19-unsubscribe-campaign');
    await page.getByRole('button', { name: 'Unsubscribe from these lists' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('You are unsubscribed');
    expect(await page.locator('.lead').textContent()).toBe('reader-4@example.com no longer receives Events, Weekly digest.');
    expect(await subscriptionsByEmail(stack.web.db, 'reader-4@example.com')).toEqual({ events: 'unsubscribed', newsletter: 'active', weekly: 'unsubscribed' });
    expect((await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'reader-4@example.com' } })).status).toBe('active');
    expect(await page.getByRole('button', { name: 'Unsubscribe from everything' }).isVisible()).toBe(true);
    await shoot(page, '20-unsubscribe-campaign-done');

    await page.getByRole('link', { name: 'Manage your subscriptions' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Your subscriptions');
    expect(await preferenceRow(page, defaultListName).locator('.status').textContent()).toBe('subscribed');
    expect(await preferenceRow(page, 'Weekly digest').locator('.status').textContent()).toBe('unsubscribed');

    // Opening the link again says so rather than asking again.
    await page.goto(linkIn('reader-4@example.com'));
    expect(await page.locator('h1').textContent()).toBe('You are already unsubscribed');

    // From another reader's email, "everything" means everything.
    await page.goto(linkIn('reader-6@example.com'));
    await page.getByRole('button', { name: 'Unsubscribe from everything' }).click();
    await waitFor('reader-6 to be unsubscribed', async () => (await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'reader-6@example.com' } })).status === 'unsubscribed');
    await shoot(page, '21-unsubscribe-everything');
    await page.close();
  }, 60_000);
});
