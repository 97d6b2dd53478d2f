/**
 * Scenario 3: the suite's own Postgres cluster stopped (a real `pg_ctl stop`) mid-campaign for at
 * least 5 s and started again. The web answers 503 on /readyz while it is down and recovers; the
 * worker recovers without a restart; every recipient gets the issue exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { attachPostgresCluster } from './support/postgres-cluster.js';
import { createFaultStack } from './support/harness.js';
import type { FaultStack } from './support/harness.js';
import { pollUntil, sleep } from './support/poll.js';
import { recordResult } from './support/results.js';

const recipients = 2_000;
let stack: FaultStack;

beforeAll(async () => {
  stack = await createFaultStack({ name: 'postgres-restarted' });
  await stack.seedAudience(recipients);
  await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
});

const cluster = () => attachPostgresCluster(inject('faultsPostgresPort'), inject('faultsPostgresDataDir'));
const readyz = async () => (await fetch(`${stack.webUrl}/readyz`)).status;

it('sends everyone exactly once across a Postgres stop and start, with no process restarted', async () => {
  const started = Date.now();
  const { campaignId } = await stack.sendCampaign();
  await pollUntil('30% sent', async () => ((await stack.deliveryCounts(campaignId)).sent ?? 0) >= recipients * 0.3, 120_000, 50);
  expect(await readyz()).toBe(200);

  await cluster().stop();
  const stoppedAt = Date.now();
  const whileDown: number[] = [];
  while (Date.now() - stoppedAt < 6_000) {
    whileDown.push(await readyz());
    await sleep(500);
  }
  await cluster().start();
  const downSeconds = (Date.now() - stoppedAt) / 1000;
  const readyAfter = await pollUntil('/readyz to recover', async () => ((await readyz()) === 200 ? (Date.now() - stoppedAt) / 1000 - downSeconds : 0) || null, 30_000);

  await stack.waitUntilDone(campaignId, 180_000);
  const tally = await stack.tally(campaignId);
  recordResult({
    scenario: 'postgres-restarted',
    recipients: tally.recipients,
    received: tally.received,
    missing: tally.missing,
    duplicates: tally.duplicates,
    seconds: (Date.now() - started) / 1000,
    notes: `down ${downSeconds.toFixed(1)} s, /readyz 503 while down (${whileDown.length} checks), 200 again ${Math.max(0, readyAfter).toFixed(1)} s after the start`,
  });
  expect(new Set(whileDown)).toEqual(new Set([503]));
  expect(stack.workers.every((worker) => worker.running())).toBe(true);
  expect(stack.web.running()).toBe(true);
  expect(tally).toMatchObject({ recipients, received: recipients, missing: 0, duplicates: 0 });
  expect(await stack.deliveryCounts(campaignId)).toEqual({ sent: recipients });
});

