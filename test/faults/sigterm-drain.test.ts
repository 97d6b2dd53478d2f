/**
 * Scenario 5: SIGTERM to the worker mid-campaign. It stops taking jobs, finishes the sends in
 * flight (leaving nothing `sending`) and exits 0; the next worker finishes the campaign, everyone
 * exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFaultStack } from './support/harness.js';
import type { FaultStack } from './support/harness.js';
import { pollUntil } from './support/poll.js';
import { recordResult } from './support/results.js';

const recipients = 2_000;
let stack: FaultStack;

beforeAll(async () => {
  stack = await createFaultStack({ name: 'sigterm-drain' });
  await stack.seedAudience(recipients);
});
afterAll(async () => {
  await stack?.close();
});

it('drains in-flight sends, exits 0, and the next worker finishes the campaign', async () => {
  const first = await stack.startWorker();
  const started = Date.now();
  const { campaignId } = await stack.sendCampaign();
  await pollUntil('40% sent', async () => ((await stack.deliveryCounts(campaignId)).sent ?? 0) >= recipients * 0.4, 120_000, 50);

  first.kill('SIGTERM');
  const inFlightAtSignal = (await stack.deliveryCounts(campaignId)).sending ?? 0;
  const exit = await first.exited;
  const afterExit = await stack.deliveryCounts(campaignId);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(afterExit.sending ?? 0).toBe(0);

  await stack.startWorker();
  await stack.waitUntilDone(campaignId, 120_000);
  const tally = await stack.tally(campaignId);
  recordResult({
    scenario: 'sigterm-drain',
    recipients: tally.recipients,
    received: tally.received,
    missing: tally.missing,
    duplicates: tally.duplicates,
    seconds: (Date.now() - started) / 1000,
    notes: `${inFlightAtSignal} sending at SIGTERM, 0 after the exit (code 0); ${afterExit.sent ?? 0} sent by the first worker`,
  });
  expect(tally).toMatchObject({ recipients, received: recipients, missing: 0, duplicates: 0 });
  expect(await stack.deliveryCounts(campaignId)).toEqual({ sent: recipients });
});
