/**
 * Scenario: audiences under faults, with the web, the worker and the mail sink as processes.
 * - A one-click unsubscribe racing a campaign sent to two lists: whoever leaves both lists while it
 *   sends gets at most what was already in flight, and whoever leaves one of them still gets it, once.
 * - Welcome emails owed while Redis restarts empty and then stops answering: every one is sent once
 *   after Redis is back, by the reconciler, with nobody enqueueing anything again by hand.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb, createProducerConnection, createQueues, closeQueues, enqueueWelcomeEmails, finishCampaigns, queueWelcomeEmails, subscribe, unsubscribeFromLists } from '@herald/shared';
import type { Db } from '@herald/shared';
import { createFaultStack } from './support/harness.js';
import type { FaultStack } from './support/harness.js';
import { pollUntil, sleep } from './support/poll.js';
import { recordResult } from './support/results.js';

let stack: FaultStack;
let db: Db;

beforeAll(async () => {
  stack = await createFaultStack({ name: 'audiences' });
  db = createDb(stack.databaseUrl, { poolSize: 4 });
  await stack.startWorker();
});
afterAll(async () => {
  await db?.$disconnect();
  await stack?.close();
});

/** A public list, optionally with a welcome email; returns its id. */
async function createList(slug: string, welcome?: { subject: string; body: string }): Promise<string> {
  const { rows } = await stack.db.query<{ id: string }>(
    `INSERT INTO lists (name, slug, welcome_subject, welcome_body, welcome_format) VALUES ($1, $2, $3, $4, 'markdown') RETURNING id`,
    [slug, slug, welcome?.subject ?? null, welcome?.body ?? null],
  );
  return rows[0]!.id;
}

async function subscriberIds(domain: string): Promise<{ id: string; email: string; unsubscribe_token: string }[]> {
  const { rows } = await stack.db.query<{ id: string; email: string; unsubscribe_token: string }>(
    `SELECT id, email, unsubscribe_token FROM subscribers WHERE email LIKE '%@' || $1 ORDER BY email`,
    [domain],
  );
  return rows;
}

const accepted = (counts: Awaited<ReturnType<FaultStack['sinkCounts']>>, email: string) => counts.byRecipient[email]?.['202'] ?? 0;

it('a one-click unsubscribe racing a send to two lists: at most what was in flight; leaving one list keeps the other', async () => {
  const recipients = 1_000;
  const started = Date.now();
  await stack.seedAudience(recipients, 'race.test');
  const weekly = await createList('weekly');
  const updates = await createList('updates');
  await stack.db.query(
    `INSERT INTO subscriptions (subscriber_id, list_id, status, consent_at, consent_source, confirmed_at)
     SELECT s.id, l.id, 'active', now(), 'faults', now() FROM subscribers s CROSS JOIN lists l
     WHERE s.email LIKE '%@race.test' AND l.id = ANY($1::uuid[])`,
    [[weekly, updates]],
  );
  const people = await subscriberIds('race.test');

  // The campaign goes to both lists. Where /send does not take `lists`, the campaign is sent to
  // everyone active (these people) and its lists are recorded as both: what the per-list
  // unsubscribe statements read.
  const body = { subject: 'Two lists', body: '<p>Hello {{name}}</p><p><a href="{{unsubscribe_url}}">Leave</a></p>' };
  let res = await stack.request('POST', '/send', { ...body, lists: ['weekly', 'updates'] });
  const throughLists = res.status === 202;
  const listsAnswer = throughLists ? 202 : `${res.status} ${await res.text()}`;
  if (!throughLists) res = await stack.request('POST', '/send', body);
  expect(res.status).toBe(202);
  const { campaignId } = (await res.json()) as { campaignId: string };
  if (!throughLists) {
    await stack.db.query(
      `WITH gone AS (DELETE FROM campaign_lists WHERE campaign_id = $1)
       INSERT INTO campaign_lists (campaign_id, list_id, position) VALUES ($1, $2, 0), ($1, $3, 1)`,
      [campaignId, weekly, updates],
    );
  }
  const { rows: audience } = await stack.db.query<{ count: number }>('SELECT count(*)::int AS count FROM deliveries WHERE campaign_id = $1', [campaignId]);
  expect(audience[0]?.count, `POST /send with lists answered ${listsAnswer}`).toBe(recipients);

  // Every third person leaves both lists: half of them by the one-click POST, half by the per-list
  // statement (the preference centre's). Every seventh of the others leaves only the weekly list.
  // All while the campaign is being sent.
  const leaveBoth = people.filter((_, i) => i % 3 === 0);
  const leaveWeekly = people.filter((_, i) => i % 3 !== 0 && i % 7 === 0);
  await pollUntil('the send to start', async () => ((await stack.deliveryCounts(campaignId)).sent ?? 0) >= recipients * 0.1, 60_000, 20);

  const statusAfter = new Map<string, string>();
  const deliveryStatus = async (subscriberId: string) => {
    const { rows } = await stack.db.query<{ status: string }>('SELECT status FROM deliveries WHERE campaign_id = $1 AND subscriber_id = $2', [campaignId, subscriberId]);
    return rows[0]!.status;
  };
  const oneClick = async (person: (typeof people)[number]) => {
    const answer = await fetch(`${stack.webUrl}/unsubscribe/${person.unsubscribe_token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(answer.status).toBe(200);
    statusAfter.set(person.email, await deliveryStatus(person.id));
  };
  const leave = async (person: (typeof people)[number], lists: string[]) => {
    // As the API's list removal does it: skip in the transaction, finish campaigns after commit.
    const { touchedCampaigns } = await db.$transaction((tx) => unsubscribeFromLists(tx, person.id, lists));
    await finishCampaigns(db, touchedCampaigns);
    statusAfter.set(person.email, await deliveryStatus(person.id));
  };
  const work = [
    ...leaveBoth.map((person, i) => (i % 2 === 0 ? () => oneClick(person) : () => leave(person, [weekly, updates]))),
    ...leaveWeekly.map((person) => () => leave(person, [weekly])),
  ];
  // Interleaved, eight at a time.
  work.sort(() => Math.random() - 0.5);
  for (let i = 0; i < work.length; i += 8) await Promise.all(work.slice(i, i + 8).map((run) => run()));

  await stack.waitUntilDone(campaignId, 120_000);
  const counts = await stack.sinkCounts();
  const both = new Set(leaveBoth.map((person) => person.email));
  let inFlight = 0;
  let skipped = 0;
  const wrong: string[] = [];
  for (const person of people) {
    const got = accepted(counts, person.email);
    const after = statusAfter.get(person.email);
    if (both.has(person.email)) {
      // Right after the unsubscribe answered, the delivery was either in flight or done (it goes
      // out once, or already went), or skipped (it never goes out); never still queued.
      if (after === 'skipped') {
        skipped += 1;
        if (got !== 0) wrong.push(`${person.email}: skipped at the unsubscribe, yet received ${got}`);
      } else if (after === 'sending' || after === 'sent') {
        inFlight += 1;
        if (got !== 1) wrong.push(`${person.email}: in flight at the unsubscribe, received ${got}`);
      } else {
        wrong.push(`${person.email}: delivery ${after} after the unsubscribe answered`);
      }
    } else if (got !== 1) {
      wrong.push(`${person.email}: ${after ? 'left one list only' : 'stayed'}, received ${got}`);
    }
  }
  const duplicates = people.reduce((sum, person) => sum + Math.max(0, accepted(counts, person.email) - 1), 0);
  recordResult({
    scenario: 'unsubscribe racing a send to two lists',
    recipients,
    received: people.filter((person) => accepted(counts, person.email) > 0).length,
    missing: wrong.length,
    duplicates,
    seconds: (Date.now() - started) / 1000,
    notes: `${leaveBoth.length} left both lists during the send, by one-click or per list (${inFlight} in flight or sent, ${skipped} skipped), ${leaveWeekly.length} left one list and still received it${throughLists ? '' : '; lists recorded on the campaign by the test'}`,
  });
  expect(wrong).toEqual([]);
  expect(duplicates).toBe(0);
  // The race was real: some unsubscribes came before their send, some after.
  expect(skipped).toBeGreaterThan(0);
  expect(inFlight).toBeGreaterThan(0);
  expect([...statusAfter.entries()].filter(([email, status]) => !both.has(email) && status === 'skipped')).toEqual([]);
});

it('sends every welcome email once after Redis restarted empty and then stopped answering while they were owed', async () => {
  const people = 600;
  const started = Date.now();
  await stack.seedAudience(people, 'welcome.test');
  const weekly = await createList('weekly-welcome', { subject: 'Welcome, {{name}}', body: 'Thanks for joining **the weekly list**.' });
  const ids = (await subscriberIds('welcome.test')).map((person) => person.id);
  const producer = createProducerConnection(stack.redis.url);
  producer.on('error', () => undefined);
  await producer.connect();
  const queues = createQueues(producer, stack.queuePrefix);
  /** What the web does: the rows in one transaction, the jobs after the commit, given up after 2 s. */
  const activate = async (batch: string[]) => {
    const welcomeIds = await db.$transaction(async (tx) => queueWelcomeEmails(tx, await subscribe(tx, batch, [weekly], { status: 'active', source: 'api' })));
    const enqueued = await Promise.race([enqueueWelcomeEmails(queues, welcomeIds).then(() => true, () => false), sleep(2_000).then(() => false)]);
    return { welcomeIds, enqueued };
  };
  const sentRows = async () => {
    const { rows } = await stack.db.query<{ count: number }>(`SELECT count(*)::int AS count FROM welcome_emails WHERE status = 'sent'`);
    return rows[0]?.count ?? 0;
  };

  try {
    const first = await activate(ids.slice(0, 300));
    expect(first).toMatchObject({ enqueued: true });
    expect(first.welcomeIds).toHaveLength(300);
    await pollUntil('some welcome emails sent', async () => (await sentRows()) >= 30, 60_000, 20);

    // Redis loses every job, then stops answering while the second half is owed its welcome.
    await stack.redis.restartEmpty();
    const sentAtWipe = await sentRows();
    stack.redis.freeze();
    let second: Awaited<ReturnType<typeof activate>>;
    try {
      second = await activate(ids.slice(300));
      await sleep(3_000);
    } finally {
      stack.redis.thaw();
    }
    expect(second.welcomeIds).toHaveLength(300);
    expect(second.enqueued).toBe(false);
    const thawedAt = Date.now();

    await pollUntil('every welcome email sent', async () => (await sentRows()) === people, 120_000, 200);
    const recoveredIn = (Date.now() - thawedAt) / 1000;
    const counts = await stack.sinkCounts();
    const emails = (await subscriberIds('welcome.test')).map((person) => person.email);
    const missing = emails.filter((email) => accepted(counts, email) === 0).length;
    const duplicates = emails.reduce((sum, email) => sum + Math.max(0, accepted(counts, email) - 1), 0);
    recordResult({
      scenario: 'welcome emails, Redis wiped then frozen',
      recipients: people,
      received: people - missing,
      missing,
      duplicates,
      seconds: (Date.now() - started) / 1000,
      notes: `Redis restarted empty at ${sentAtWipe} of 300 sent, then frozen 3 s while 300 more were owed; all sent ${recoveredIn.toFixed(1)} s after it answered again`,
    });
    expect({ missing, duplicates }).toEqual({ missing: 0, duplicates: 0 });
    const { rows } = await stack.db.query<{ status: string; count: number }>('SELECT status, count(*)::int AS count FROM welcome_emails GROUP BY status');
    expect(rows).toEqual([{ status: 'sent', count: people }]);
  } finally {
    await closeQueues(queues).catch(() => undefined);
    producer.disconnect();
  }
});
