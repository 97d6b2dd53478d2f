/**
 * Scenario 2: the suite's own Redis restarted empty mid-campaign, then frozen (unreachable) for
 * 10 s, with the web and the worker left running throughout. Postgres holds the work, so the
 * reconciler (whose schedule a worker-side timer re-asserts) puts it back within two reconcile
 * intervals, and the web keeps answering signups and /send while Redis does not answer.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFaultStack } from './support/harness.js';
import type { FaultStack } from './support/harness.js';
import { pollUntil, sleep } from './support/poll.js';
import { recordResult } from './support/results.js';

const recipients = 2_000;
const reconcileEverySeconds = 10;
let stack: FaultStack;

beforeAll(async () => {
  stack = await createFaultStack({ name: 'redis-wiped', workerEnv: { RECONCILE_EVERY_SECONDS: String(reconcileEverySeconds) } });
  await stack.seedAudience(recipients);
  await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
});

const sent = async (campaignId: string) => (await stack.deliveryCounts(campaignId)).sent ?? 0;

it('finishes a campaign exactly once after Redis restarted empty, with workers and web left running', async () => {
  const started = Date.now();
  const { campaignId } = await stack.sendCampaign('Before the wipe');
  await pollUntil('30% sent', async () => (await sent(campaignId)) >= recipients * 0.3, 120_000, 50);

  await stack.redis.restartEmpty();
  const wipedAt = Date.now();
  // Sends already past their claim finish on their own; count from when those have landed, which
  // is when no row is left `sending` (the jobs were fetched before the wipe; their rows are in Postgres).
  await pollUntil('the sends in flight at the wipe to land', async () => !((await stack.deliveryCounts(campaignId)).sending ?? 0), 30_000, 50);
  const sentAfterWipe = await sent(campaignId);
  await pollUntil('sending to resume', async () => (await sent(campaignId)) >= sentAfterWipe + 50, 2 * reconcileEverySeconds * 1000 + 10_000, 100);
  const resumedAfter = (Date.now() - wipedAt) / 1000;

  await stack.waitUntilDone(campaignId, 120_000);
  const tally = await stack.tally(campaignId);
  recordResult({
    scenario: 'redis-wiped',
    recipients: tally.recipients,
    received: tally.received,
    missing: tally.missing,
    duplicates: tally.duplicates,
    seconds: (Date.now() - started) / 1000,
    notes: `Redis restarted empty at ${sentAfterWipe} sent; sending again ${resumedAfter.toFixed(1)} s later (reconcile every ${reconcileEverySeconds} s)`,
  });
  expect(tally).toMatchObject({ recipients, received: recipients, missing: 0, duplicates: 0 });
  expect(await stack.deliveryCounts(campaignId)).toEqual({ sent: recipients });
  expect(resumedAfter).toBeLessThanOrEqual(2 * reconcileEverySeconds);
});

it('keeps answering signups and /send while Redis is unreachable, and the workers reconnect alone', async () => {
  const started = Date.now();
  stack.redis.freeze();
  const frozenAt = Date.now();
  const answers: number[] = [];
  const signups: string[] = [];
  let campaignId = '';
  try {
    for (let i = 0; Date.now() - frozenAt < 8_000; i++) {
      const email = `outage-${i}@example.net`;
      const res = await stack.request('POST', '/register', { email, name: `Outage ${i}` });
      answers.push(res.status);
      signups.push(email);
      if (i === 0) {
        const send = await stack.request('POST', '/send', { subject: 'During the outage', body: '<p>Hi {{name}}</p>' });
        answers.push(send.status);
        campaignId = ((await send.json()) as { campaignId: string }).campaignId;
      }
    }
    await sleep(Math.max(0, 10_000 - (Date.now() - frozenAt)));
  } finally {
    stack.redis.thaw();
  }
  expect(answers.filter((status) => status >= 300)).toEqual([]);
  const { rows } = await stack.db.query<{ count: number }>('SELECT count(*)::int AS count FROM subscribers WHERE email = ANY($1)', [signups]);
  expect(rows[0]?.count).toBe(signups.length);

  await stack.waitUntilDone(campaignId, 150_000);
  const tally = await stack.tally(campaignId);
  // The first campaign went to the same audience: count this one's messages apart.
  const perRecipient = tally.counts.byRecipient;
  const firstCampaignReceived = 1;
  let missing = 0;
  let duplicates = 0;
  for (let i = 0; i < recipients; i++) {
    const accepted = (perRecipient[`reader-${i}@example.com`]?.['202'] ?? 0) - firstCampaignReceived;
    if (accepted < 1) missing += 1;
    duplicates += Math.max(0, accepted - 1);
  }
  // The signups made during the outage get their confirmation email once Redis is back.
  await pollUntil('confirmation emails', () => confirmationsSent(signups), 120_000, 1_000);
  recordResult({
    scenario: 'redis-unreachable-10s',
    recipients,
    received: recipients - missing,
    missing,
    duplicates,
    seconds: (Date.now() - started) / 1000,
    notes: `${answers.length} requests during the outage (${signups.length} signups, 1 send), all 2xx`,
  });
  expect({ missing, duplicates }).toEqual({ missing: 0, duplicates: 0 });
  expect(await stack.deliveryCounts(campaignId)).toEqual({ sent: recipients });
});

async function confirmationsSent(emails: string[]): Promise<boolean> {
  const counts = await stack.sinkCounts();
  return emails.every((email) => (counts.byRecipient[email]?.['202'] ?? 0) >= 1);
}
