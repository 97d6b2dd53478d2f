/**
 * Scenario 4: the provider storms: for a while the sink answers 30% of calls with 503 and 10% with
 * 429, and two addresses are refused with 400. Everyone else gets the issue exactly once; the two
 * refused addresses end `failed` after exactly one 400 each and nothing after it; a 429 costs no
 * attempt (a delivery's attempts are the calls that were not rate limited).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFaultStack } from './support/harness.js';
import type { FaultStack } from './support/harness.js';
import { pollUntil } from './support/poll.js';
import { recordResult } from './support/results.js';

const recipients = 2_000;
const refused = ['reader-7@example.com', 'reader-1234@example.com'];
let stack: FaultStack;

beforeAll(async () => {
  stack = await createFaultStack({ name: 'provider-storm' });
  await stack.seedAudience(recipients);
  await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
});

it('sends everyone else exactly once through 5xx and 429 storms, and fails the refused addresses after one call', async () => {
  const started = Date.now();
  await stack.rejectRecipients(refused);
  const { campaignId } = await stack.sendCampaign();
  await pollUntil('sending to start', async () => ((await stack.deliveryCounts(campaignId)).sent ?? 0) >= 50, 60_000, 50);
  // The storm lasts until it has refused at least 400 recipients with 503 and 100 with 429, counted
  // per recipient of each refused request, as a request carries a batch (429s slow everyone down, so
  // a fixed time would mean very different storms on a busy and an idle machine).
  await stack.setStorm({ serverErrorRate: 0.3, rateLimitRate: 0.1 });
  const stormStarted = Date.now();
  await pollUntil(
    'the storm',
    async () => {
      const { byRecipient } = await stack.sinkCounts();
      return answeredWith(byRecipient, '503') >= 400 && answeredWith(byRecipient, '429') >= 100;
    },
    120_000,
    100,
  );
  const stormSeconds = (Date.now() - stormStarted) / 1000;
  await stack.setStorm({ serverErrorRate: 0, rateLimitRate: 0 });

  await stack.waitUntilDone(campaignId, 240_000);
  const tally = await stack.tally(campaignId, refused);
  const { byStatus, byRecipient } = tally.counts;
  recordResult({
    scenario: 'provider-storm',
    recipients: tally.recipients,
    received: tally.received,
    missing: tally.missing,
    duplicates: tally.duplicates,
    seconds: (Date.now() - started) / 1000,
    notes: `storm of ${stormSeconds.toFixed(0)} s: ${byStatus['503'] ?? 0} × 503 (${answeredWith(byRecipient, '503')} recipients), ${byStatus['429'] ?? 0} × 429 (${answeredWith(byRecipient, '429')} recipients); 2 refused addresses failed after one 400 each`,
  });
  expect(tally).toMatchObject({ recipients: recipients - refused.length, received: recipients - refused.length, missing: 0, duplicates: 0 });
  expect(await stack.deliveryCounts(campaignId)).toEqual({ sent: recipients - refused.length, failed: refused.length });
  for (const email of refused) {
    expect(byRecipient[email]?.['400']).toBe(1);
    expect(byRecipient[email]?.last).toBe(400);
  }

  const { rows } = await stack.db.query<{ email: string; attempts: number; status: string }>(
    'SELECT s.email, d.attempts, d.status FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $1',
    [campaignId],
  );
  const burned = rows.filter(({ email, attempts }) => {
    const { last: _last, ...statuses } = byRecipient[email] ?? {};
    const calls = Object.entries(statuses).reduce((sum, [status, n]) => sum + (status === '429' ? 0 : n), 0);
    return attempts !== calls;
  });
  expect(burned).toEqual([]);
});

/** Recipient answers with `status`: a refused request counts once for each recipient it carried. */
function answeredWith(byRecipient: Record<string, Record<string, number>>, status: string): number {
  return Object.values(byRecipient).reduce((sum, counts) => sum + (counts[status] ?? 0), 0);
}
