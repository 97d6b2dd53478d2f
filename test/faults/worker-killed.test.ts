/**
 * Scenario 1: the worker is killed with SIGKILL three times at random points of a campaign and
 * restarted each time. Every recipient must receive the issue within 90 s of the last restart (the
 * stalled-job re-run takes over abandoned claims; the 5-minute backstop is not waited for), with
 * duplicates no more than the recipients in flight at the kills: the rows a kill left `sending`,
 * which with batching are every recipient of every request in flight (a batch per request, at most
 * WORKER_CONCURRENCY per worker).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFaultStack } from './support/harness.js';
import type { FaultStack } from './support/harness.js';
import { pollUntil } from './support/poll.js';
import { recordResult } from './support/results.js';

const recipients = 2_000;
let stack: FaultStack;

beforeAll(async () => {
  stack = await createFaultStack({ name: 'worker-killed' });
});
afterAll(async () => {
  await stack?.close();
});

it('delivers to everyone after three kill -9s, duplicates bounded by the recipients in flight', async () => {
  await stack.seedAudience(recipients);
  let worker = await stack.startWorker();
  const started = Date.now();
  const { campaignId } = await stack.sendCampaign();

  const inFlightAtKills: number[] = [];
  for (const share of [0.15, 0.4, 0.65]) {
    // A random point within each tenth of the campaign.
    const target = Math.floor(recipients * (share + Math.random() * 0.1));
    await pollUntil(`${target} sent`, async () => ((await stack.deliveryCounts(campaignId)).sent ?? 0) >= target, 120_000, 50);
    worker.kill('SIGKILL');
    await worker.exited;
    inFlightAtKills.push((await stack.deliveryCounts(campaignId)).sending ?? 0);
    worker = await stack.startWorker();
  }
  const lastRestart = Date.now();

  await stack.waitUntilDone(campaignId, 90_000);
  const sinceLastRestart = (Date.now() - lastRestart) / 1000;
  const tally = await stack.tally(campaignId);
  const inFlight = inFlightAtKills.reduce((a, b) => a + b, 0);
  recordResult({
    scenario: 'worker-killed',
    recipients: tally.recipients,
    received: tally.received,
    missing: tally.missing,
    duplicates: tally.duplicates,
    seconds: (Date.now() - started) / 1000,
    notes: `in flight at the kills: ${inFlightAtKills.join(', ')}; done ${sinceLastRestart.toFixed(0)} s after the last restart`,
  });

  expect(tally.recipients).toBe(recipients);
  expect(tally.missing).toBe(0);
  expect(tally.duplicates).toBeLessThanOrEqual(inFlight);
  expect(await stack.deliveryCounts(campaignId)).toEqual({ sent: recipients });
  expect(sinceLastRestart).toBeLessThanOrEqual(90);
});
