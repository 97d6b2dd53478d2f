/**
 * A list's welcome email: owed by a row written when a subscription becomes active, sent once
 * through the same claim-and-send path as campaigns (the official SendGrid client, the mail sink),
 * never twice, skipped for a person who left before it went out, and recovered by the reconciler
 * when Redis lost its job or a worker stopped mid-call.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import type { Queue } from 'bullmq';
import { UnrecoverableError, Worker } from 'bullmq';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueWelcomeEmails, listIdHeader, queueWelcomeEmails, subscribe, unsubscribeFromLists, welcomeJobId } from '@herald/shared';
import type { Db } from '@herald/shared';
import { reconcile } from '../src/handlers/reconcile.js';
import { credentialHoldMs } from '../src/handlers/send-confirmation.js';
import { sendWelcome } from '../src/handlers/send-welcome.js';
import { seedSubscribers } from '../../../test/support/factories.js';
import { jobContext, useStack, waitFor } from '../../../test/support/stack.js';
import { rulesOutsideMedia } from '../../../test/support/email-css.js';

const stack = useStack();
const artifacts = join(import.meta.dirname, '../../../test-artifacts/emails');

const welcomeBody = [
  '# Welcome to the weekly digest, {{name}}',
  '',
  'Every Friday you get **five links** worth your time, picked by hand.',
  '',
  '- What shipped this week',
  '- One long read',
  '- A tool we liked',
  '',
  'Reply to this email any time: a person reads it.',
].join('\n');

let listCount = 0;

/** A list with a welcome email (Markdown, as a campaign may be). */
async function weeklyList(db: Db, overrides: { welcomeSubject?: string | null; welcomeBody?: string | null } = {}) {
  listCount += 1;
  return db.list.create({
    data: {
      name: 'Weekly digest',
      slug: `weekly-${listCount}`,
      welcomeSubject: overrides.welcomeSubject === undefined ? 'Welcome aboard, {{name}}' : overrides.welcomeSubject,
      welcomeBody: overrides.welcomeBody === undefined ? welcomeBody : overrides.welcomeBody,
      welcomeFormat: 'markdown',
    },
  });
}

/** Activates the person's subscription to the list and records the welcome email owed, as the web does. */
async function activate(db: Db, subscriberId: string, listId: string): Promise<string[]> {
  return db.$transaction(async (tx) => queueWelcomeEmails(tx, await subscribe(tx, [subscriberId], [listId], { status: 'active', source: 'api' })));
}

async function person(email: string, name = 'Ada') {
  const [subscriber] = await seedSubscribers(stack.web.db, [{ email, name }]);
  return subscriber!;
}

const row = (id: string) => stack.web.db.welcomeEmail.findUniqueOrThrow({ where: { id } });

describe('a welcome email', () => {
  it('goes out once through the mail sink with the list\'s subject and body, personalised, with the list\'s unsubscribe link', async () => {
    const list = await weeklyList(stack.web.db);
    const ada = await person('ada@example.com');
    const ids = await activate(stack.web.db, ada.id, list.id);
    expect(ids).toHaveLength(1);
    const workers = await stack.startWorker();
    await enqueueWelcomeEmails(workers.deps.queues, ids);

    const message = await waitFor('the welcome email', () => stack.sink.inbox.findByRecipient('ada@example.com')[0]);
    await waitFor('the sent mark', async () => (await row(ids[0]!)).status === 'sent');
    expect(message.subject).toBe('Welcome aboard, Ada');
    expect(message.html).toMatch(/<h1[^>]*>Welcome to the weekly digest, Ada<\/h1>/);
    expect(message.html).toMatch(/<strong[^>]*>five links<\/strong>/);
    expect(message.text).toContain('Every Friday you get five links worth your time');
    // The list's own email: its unsubscribe leaves this list only; the footer links the preference centre.
    const unsubscribeUrl = `http://herald.test/unsubscribe/${ada.unsubscribeToken}/l/${list.id}`;
    const preferencesUrl = `http://herald.test/preferences/${ada.unsubscribeToken}`;
    expect(message.html).toContain(`href="${unsubscribeUrl}"`);
    expect(message.html).toContain(`href="${preferencesUrl}"`);
    expect(message.text).toContain(`Unsubscribe: ${unsubscribeUrl}`);
    expect(message.text).toContain(`Manage your subscriptions: ${preferencesUrl}`);
    expect(message.headers['List-Unsubscribe']).toBe(`<${unsubscribeUrl}>`);
    expect(message.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(message.headers['List-Id']).toBe(`"Weekly digest" <${list.slug}.herald.test>`);
    expect(message.customArgs).toEqual({ herald_subscriber_id: ada.id, herald_welcome_email_id: ids[0] });

    const sent = await row(ids[0]!);
    expect(sent).toMatchObject({ status: 'sent', attempts: 1, lastError: null, providerMessageId: message.id });
    expect(sent.sentAt).toBeInstanceOf(Date);
    expect((await workers.deps.metrics.welcomeEmails.get()).values).toContainEqual(expect.objectContaining({ labels: { outcome: 'sent' }, value: 1 }));
    // Nothing else went out, and the finished job leaves no id behind to block a recovery.
    await waitFor('the job to finish', async () => (await workers.deps.queues.confirmations.getJobState(welcomeJobId(ids[0]!))) === 'unknown');
    expect(stack.sink.inbox.findByRecipient('ada@example.com')).toHaveLength(1);
  });

  it('one-click from the welcome email leaves that list only, idempotently; the other list stays active', async () => {
    const list = await weeklyList(stack.web.db);
    const other = await weeklyList(stack.web.db, { welcomeSubject: null, welcomeBody: null });
    const lin = await person('lin@example.com');
    await activate(stack.web.db, lin.id, other.id);
    const ids = await activate(stack.web.db, lin.id, list.id);
    const deps = stack.workerDeps();
    expect(await sendWelcome({ welcomeEmailId: ids[0]! }, jobContext(deps), deps)).toBe('sent');
    const message = stack.sink.inbox.findByRecipient('lin@example.com')[0]!;
    const target = /^<http:\/\/herald\.test(\/unsubscribe\/[0-9a-f]{64}\/l\/[0-9a-f-]{36})>$/.exec(message.headers['List-Unsubscribe'] ?? '')?.[1];
    expect(target).toBe(`/unsubscribe/${lin.unsubscribeToken}/l/${list.id}`);

    const page = await request(stack.web.app).get(target!).expect(200);
    expect(page.text).toContain('Weekly digest');
    expect(page.text).toContain(`action="${target}"`);
    expect(page.text).toContain(`href="/preferences/${lin.unsubscribeToken}"`);
    for (let i = 0; i < 2; i++) {
      await request(stack.web.app).post(target!).type('form').send('List-Unsubscribe=One-Click').expect(200);
    }
    // Only that list is left: the other one, and the default list the person was seeded into, stay active.
    const subscriptions = await stack.web.db.subscription.findMany({ where: { subscriberId: lin.id } });
    const statuses = Object.fromEntries(subscriptions.map((sub) => [sub.listId, sub.status]));
    expect(statuses).toMatchObject({ [list.id]: 'unsubscribed', [other.id]: 'active' });
    expect(Object.entries(statuses).filter(([, status]) => status !== 'active').map(([id]) => id)).toEqual([list.id]);
    expect((await stack.web.db.subscriber.findUniqueOrThrow({ where: { id: lin.id } })).status).toBe('active');
    // A list id that is no list: the one-click still unsubscribes, from everything.
    await request(stack.web.app).post(`/unsubscribe/${lin.unsubscribeToken}/l/00000000-0000-4000-8000-000000000000`).expect(303);
    expect((await stack.web.db.subscriber.findUniqueOrThrow({ where: { id: lin.id } })).status).toBe('unsubscribed');
  });

  it('is owed once per subscription: a second activation, or leaving and coming back, owes none', async () => {
    const list = await weeklyList(stack.web.db);
    const ada = await person('again@example.com');
    expect(await activate(stack.web.db, ada.id, list.id)).toHaveLength(1);
    expect(await activate(stack.web.db, ada.id, list.id)).toEqual([]);
    await stack.web.db.$transaction((tx) => unsubscribeFromLists(tx, ada.id, [list.id]));
    expect(await activate(stack.web.db, ada.id, list.id)).toEqual([]);
    expect(await stack.web.db.welcomeEmail.count({ where: { subscriberId: ada.id } })).toBe(1);
  });

  it('has one job however often it is enqueued (the web, a retry, the reconciler)', async () => {
    const list = await weeklyList(stack.web.db);
    const ada = await person('enqueued@example.com');
    const [id] = await activate(stack.web.db, ada.id, list.id);
    const deps = stack.workerDeps();
    await enqueueWelcomeEmails(deps.queues, [id!, id!]);
    await enqueueWelcomeEmails(deps.queues, [id!]);
    const waiting = await deps.queues.confirmations.getJobs(['waiting']);
    expect(waiting.map((job) => [job.id, job.name, job.data])).toEqual([[welcomeJobId(id!), 'send-welcome', { welcomeEmailId: id }]]);
  });

  it('is not owed for a list without a welcome email', async () => {
    const list = await weeklyList(stack.web.db, { welcomeSubject: null, welcomeBody: null });
    const ada = await person('plain@example.com');
    expect(await activate(stack.web.db, ada.id, list.id)).toEqual([]);
  });

  it('sends once when its job runs twice, one after the other or both at once', async () => {
    const list = await weeklyList(stack.web.db);
    const deps = stack.workerDeps();
    const [first, second] = [await person('twice@example.com'), await person('together@example.com')];
    const [firstId] = await activate(stack.web.db, first.id, list.id);
    const [secondId] = await activate(stack.web.db, second.id, list.id);

    expect(await sendWelcome({ welcomeEmailId: firstId! }, jobContext(deps), deps)).toBe('sent');
    expect(await sendWelcome({ welcomeEmailId: firstId! }, jobContext(deps), deps)).toBe('skipped');

    const together = await Promise.all([1, 2, 3].map(() => sendWelcome({ welcomeEmailId: secondId! }, jobContext(deps), deps)));
    expect(together.sort()).toEqual(['sent', 'skipped', 'skipped']);

    expect(stack.sink.inbox.findByRecipient('twice@example.com')).toHaveLength(1);
    expect(stack.sink.inbox.findByRecipient('together@example.com')).toHaveLength(1);
    expect((await row(firstId!)).attempts).toBe(1);
    expect((await row(secondId!)).attempts).toBe(1);
  });

  it('is skipped, and never sent, for a person who unsubscribed from the list before it went out', async () => {
    const list = await weeklyList(stack.web.db);
    const deps = stack.workerDeps();
    const ada = await person('left@example.com');
    const [id] = await activate(stack.web.db, ada.id, list.id);
    await stack.web.db.$transaction((tx) => unsubscribeFromLists(tx, ada.id, [list.id]));

    expect(await sendWelcome({ welcomeEmailId: id! }, jobContext(deps), deps)).toBe('skipped');
    expect(await row(id!)).toMatchObject({ status: 'skipped', lastError: 'subscription is unsubscribed' });
    // Skipped for good: coming back to the list does not send it later.
    await activate(stack.web.db, ada.id, list.id);
    expect(await sendWelcome({ welcomeEmailId: id! }, jobContext(deps), deps)).toBe('skipped');
    expect(stack.sink.inbox.findByRecipient('left@example.com')).toEqual([]);
  });

  it('is skipped for an address that bounced, or a list archived, before it went out', async () => {
    const list = await weeklyList(stack.web.db);
    const deps = stack.workerDeps();
    const [bounced, archived] = [await person('bounced@example.com'), await person('archived@example.com')];
    const [bouncedId] = await activate(stack.web.db, bounced.id, list.id);
    await stack.web.db.subscriber.update({ where: { id: bounced.id }, data: { status: 'bounced' } });
    expect(await sendWelcome({ welcomeEmailId: bouncedId! }, jobContext(deps), deps)).toBe('skipped');
    expect(await row(bouncedId!)).toMatchObject({ status: 'skipped', lastError: 'subscriber is bounced' });

    const [archivedId] = await activate(stack.web.db, archived.id, list.id);
    await stack.web.db.list.update({ where: { id: list.id }, data: { archivedAt: new Date() } });
    expect(await sendWelcome({ welcomeEmailId: archivedId! }, jobContext(deps), deps)).toBe('skipped');
    expect(await row(archivedId!)).toMatchObject({ status: 'skipped', lastError: 'list archived' });
    expect(stack.sink.inbox.list()).toEqual([]);
  });
});

describe('the List-Id of a list', () => {
  it('names the list in a header no name can break', () => {
    expect(listIdHeader({ name: 'Weekly digest', slug: 'weekly' }, 'https://news.example.com:8443/base')).toBe('"Weekly digest" <weekly.news.example.com>');
    expect(listIdHeader({ name: 'Say "hi" \\ bye\r\nBcc: x@example.com', slug: 'hi' }, 'http://herald.test')).toBe(
      '"Say \\"hi\\" \\\\ bye Bcc: x@example.com" <hi.herald.test>',
    );
    const encoded = listIdHeader({ name: 'Café — les nouvelles de la semaine, chaque vendredi matin', slug: 'cafe' }, 'http://herald.test');
    expect(encoded).toMatch(/^(=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= ?)+ <cafe\.herald\.test>$/);
    const words = encoded.replace(/ <.*$/, '').split(' ');
    expect(words.length).toBeGreaterThan(1);
    expect(words.every((word) => word.length <= 75)).toBe(true);
    const decoded = words.map((word) => Buffer.from(word.slice(10, -2), 'base64').toString('utf8')).join('');
    expect(decoded).toBe('Café — les nouvelles de la semaine, chaque vendredi matin');
  });
});

describe('a welcome email Redis lost', () => {
  it('is enqueued by the reconciler and sent once, when the web never reached Redis', async () => {
    const list = await weeklyList(stack.web.db);
    const ada = await person('lost@example.com');
    const [id] = await activate(stack.web.db, ada.id, list.id);
    const deps = stack.workerDeps();
    // Inside the grace period the web may still be enqueueing it: left alone.
    expect((await reconcile({}, jobContext(deps), deps)).welcomesQueued).toBe(0);
    await stack.web.db.$executeRaw`UPDATE welcome_emails SET created_at = now() - interval '1 minute' WHERE id = ${id}::uuid`;

    expect((await reconcile({}, jobContext(deps), deps)).welcomesQueued).toBe(1);
    // Its job is in Redis now: a second run adds nothing.
    expect((await reconcile({}, jobContext(deps), deps)).welcomesQueued).toBe(0);
    expect(await deps.queues.confirmations.getJobState(welcomeJobId(id!))).toBe('waiting');

    await stack.startWorker();
    await waitFor('the welcome email', () => stack.sink.inbox.findByRecipient('lost@example.com')[0]);
    await waitFor('the sent mark', async () => (await row(id!)).status === 'sent');
    expect((await reconcile({}, jobContext(deps), deps)).welcomesQueued).toBe(0);
    expect(stack.sink.inbox.findByRecipient('lost@example.com')).toHaveLength(1);
  });

  it('replaces a job that failed without sending it (its attempts ran out before the claim)', async () => {
    const list = await weeklyList(stack.web.db);
    const ada = await person('failed-job@example.com');
    const [id] = await activate(stack.web.db, ada.id, list.id);
    const deps = stack.workerDeps();
    await enqueueWelcomeEmails(deps.queues, [id!]);
    await stack.web.db.$executeRaw`UPDATE welcome_emails SET created_at = now() - interval '1 minute' WHERE id = ${id}::uuid`;
    await forceFailed(deps.queues.confirmations, welcomeJobId(id!));
    expect(await deps.queues.confirmations.getJobState(welcomeJobId(id!))).toBe('failed');

    expect((await reconcile({}, jobContext(deps), deps)).welcomesQueued).toBe(1);
    await stack.startWorker();
    await waitFor('the welcome email', () => stack.sink.inbox.findByRecipient('failed-job@example.com')[0]);
    await waitFor('the sent mark', async () => (await row(id!)).status === 'sent');
  });

  it('is sent again after a worker stopped between its claim and the sent mark, once the claim is stale', async () => {
    const list = await weeklyList(stack.web.db);
    const ada = await person('crashed@example.com');
    const [id] = await activate(stack.web.db, ada.id, list.id);
    const deps = stack.workerDeps();
    // What a worker that died mid-call leaves: the row claimed, no email, no job.
    await stack.web.db.$executeRaw`
      UPDATE welcome_emails SET status = 'sending', claimed_at = now(), attempts = 1 WHERE id = ${id}::uuid`;
    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ welcomesStuckResent: 0 });
    await stack.web.db.$executeRaw`
      UPDATE welcome_emails SET claimed_at = now() - ${`${deps.config.stuckSendingAfterMs + 1_000} milliseconds`}::interval WHERE id = ${id}::uuid`;

    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ welcomesStuckResent: 1 });
    expect(await row(id!)).toMatchObject({ status: 'queued', claimedAt: null });
    await stack.startWorker();
    await waitFor('the welcome email', () => stack.sink.inbox.findByRecipient('crashed@example.com')[0]);
    await waitFor('the sent mark', async () => (await row(id!)).status === 'sent');
    expect(await row(id!)).toMatchObject({ attempts: 2 });
    expect(stack.sink.inbox.findByRecipient('crashed@example.com')).toHaveLength(1);
  });
});

describe('a welcome email SendGrid does not take', () => {
  it('waits out a 429 with the queue held, using no attempt, then sends', async () => {
    const list = await weeklyList(stack.web.db);
    const ada = await person('wait@example.com');
    const [id] = await activate(stack.web.db, ada.id, list.id);
    const deps = stack.workerDeps();
    const holds: number[] = [];
    const ctx = jobContext(deps, { pauseQueue: async (ms) => void holds.push(ms) });
    stack.sink.faults.update({ rateLimit: { count: 1, retryAfterSeconds: 2 } });

    await expect(sendWelcome({ welcomeEmailId: id! }, ctx, deps)).rejects.toThrow(Worker.RateLimitError().message);
    expect(holds).toHaveLength(1);
    expect(await row(id!)).toMatchObject({ status: 'queued', attempts: 0, claimedAt: null });
    expect(await sendWelcome({ welcomeEmailId: id! }, ctx, deps)).toBe('sent');
    expect(stack.sink.inbox.findByRecipient('wait@example.com')).toHaveLength(1);
  });

  it('holds the confirmations queue when the credentials are refused, and the next accepted email lifts the hold', async () => {
    const list = await weeklyList(stack.web.db);
    const ada = await person('held@example.com');
    const [id] = await activate(stack.web.db, ada.id, list.id);
    const deps = stack.workerDeps();
    const holds: number[] = [];
    const ctx = jobContext(deps, { pauseQueue: async (ms) => void holds.push(ms) });
    stack.sink.faults.update({ revokedKey: true });

    await expect(sendWelcome({ welcomeEmailId: id! }, ctx, deps)).rejects.toThrow(Worker.RateLimitError().message);
    expect(holds).toEqual([credentialHoldMs]);
    expect(await stack.web.db.mailHold.findUnique({ where: { kind: 'confirmations' } })).toMatchObject({ heldCount: 1 });
    expect(await row(id!)).toMatchObject({ status: 'queued', attempts: 0 });

    stack.sink.faults.reset();
    expect(await sendWelcome({ welcomeEmailId: id! }, ctx, deps)).toBe('sent');
    expect(await stack.web.db.mailHold.count()).toBe(0);
  });

  it('fails for good when SendGrid refuses the address, and retries a 5xx', async () => {
    const list = await weeklyList(stack.web.db);
    const [refused, flaky] = [await person('refused@example.com'), await person('flaky@example.com')];
    const [refusedId] = await activate(stack.web.db, refused.id, list.id);
    const [flakyId] = await activate(stack.web.db, flaky.id, list.id);
    const deps = stack.workerDeps();

    stack.sink.faults.update({ rejectRecipients: ['refused@example.com'] });
    await expect(sendWelcome({ welcomeEmailId: refusedId! }, jobContext(deps), deps)).rejects.toThrow();
    expect(await row(refusedId!)).toMatchObject({ status: 'failed' });
    expect((await row(refusedId!)).lastError).toMatch(/400/);

    stack.sink.faults.update({ rejectRecipients: [], serverError: { count: 1 } });
    await expect(sendWelcome({ welcomeEmailId: flakyId! }, jobContext(deps), deps)).rejects.toThrow();
    expect(await row(flakyId!)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(await sendWelcome({ welcomeEmailId: flakyId! }, jobContext(deps, { attempt: 2 }), deps)).toBe('sent');
    expect(await row(flakyId!)).toMatchObject({ status: 'sent', attempts: 2 });
  });
});

describe('the welcome email in a real browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('reads like the campaigns: the layout, the Markdown rendered, the footer with the unsubscribe link, at 600 px and 375 px', async () => {
    const list = await weeklyList(stack.web.db);
    const grace = await person('grace@example.com', 'Grace');
    const deps = stack.workerDeps();
    const [id] = await activate(stack.web.db, grace.id, list.id);
    expect(await sendWelcome({ welcomeEmailId: id! }, jobContext(deps), deps)).toBe('sent');
    const html = stack.sink.inbox.findByRecipient('grace@example.com')[0]!.html!;
    expect(rulesOutsideMedia(html)).toEqual([]);

    for (const width of [600, 375]) {
      const context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: false });
      const page = await context.newPage();
      await page.setContent(html, { waitUntil: 'load' });
      await page.screenshot({ path: join(artifacts, `welcome-${width}.png`), fullPage: true });
      expect(await page.getByRole('heading', { name: 'Welcome to the weekly digest, Grace' }).isVisible()).toBe(true);
      expect(await page.getByRole('listitem').count()).toBe(3);
      const unsubscribe = page.getByRole('link', { name: 'Unsubscribe' });
      expect(await unsubscribe.isVisible()).toBe(true);
      expect(await unsubscribe.getAttribute('href')).toBe(`http://herald.test/unsubscribe/${grace.unsubscribeToken}/l/${list.id}`);
      expect(await page.getByText('1 Test Street, Testville').isVisible()).toBe(true);
      const column = await page.locator('table.container').boundingBox();
      expect(column!.width).toBeLessThanOrEqual(Math.min(600, width));
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
      await context.close();
    }
  });
});

/** Takes the waiting job and fails it for good, as BullMQ does when a job's attempts run out. */
async function forceFailed(queue: Queue, jobId: string): Promise<void> {
  const worker = new Worker(queue.name, null, { connection: queue.opts.connection, prefix: queue.opts.prefix, autorun: false });
  const token = 'test-failing-worker';
  try {
    const job = await worker.getNextJob(token);
    if (job?.id !== jobId) throw new Error(`expected job ${jobId}, got ${job?.id}`);
    await job.moveToFailed(new UnrecoverableError('database unreachable'), token, false);
  } finally {
    await worker.close();
  }
}
