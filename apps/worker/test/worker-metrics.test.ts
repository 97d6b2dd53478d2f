import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcile } from '../src/handlers/reconcile.js';
import { sendEmail } from '../src/handlers/send-email.js';
import type { WorkerMetrics } from '../src/ops/worker-metrics.js';
import { deleteKeys } from '../../../test/support/redis.js';
import { postSend, seedSubscribers, waitForCampaignSent } from '../../../test/support/factories.js';
import { seriesValue } from '../../../test/support/metrics.js';
import { createStack, jobContext, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';

let stack: Stack;

beforeEach(async () => {
  stack = await createStack();
});
afterEach(async () => {
  await stack.close();
});

/** The value of one series in this deps' registry. */
function value(metrics: WorkerMetrics, series: string): Promise<number> {
  return seriesValue(metrics.registry, series);
}

const audience = [{ email: 'ada@example.com' }, { email: 'grace@example.com' }, { email: 'alan@example.com' }];

describe('worker metrics', () => {
  it('count a lost claim, the provider call and its answer when one delivery is sent twice', async () => {
    await seedSubscribers(stack.web.db, audience);
    const res = await postSend(stack.web.app).expect(202);
    const deps = stack.workerDeps();
    const deliveryId = res.body.tasks[0] as string;
    expect(await sendEmail({ deliveryId }, jobContext(deps), deps)).toBe('sent');
    expect(await sendEmail({ deliveryId }, jobContext(deps), deps)).toBe('skipped');
    expect(await value(deps.metrics, 'herald_claims_lost_total')).toBe(1);
    expect(await value(deps.metrics, 'herald_sendgrid_responses_total{status_class="2xx"}')).toBe(1);
    expect(await value(deps.metrics, 'herald_send_duration_seconds_count')).toBe(1);
  });

  it('count sends by outcome, 429 waits and answers by status class through a running worker', async () => {
    await seedSubscribers(stack.web.db, audience);
    stack.sink.faults.update({ rateLimit: { count: 2, retryAfterSeconds: 1 } });
    // One request per recipient, so each provider answer is one job's (batches are counted in send-batches.test.ts).
    const { deps } = await stack.startWorker({ SEND_BATCH_SIZE: '1' });
    const res = await postSend(stack.web.app).expect(202);
    await waitForCampaignSent(stack.web.db, res.body.campaignId);
    await waitFor('every send counted', async () => (await value(deps.metrics, 'herald_sends_total{outcome="sent"}')) === 3);
    expect(await value(deps.metrics, 'herald_sends_total{outcome="rate_limited"}')).toBe(2);
    expect(await value(deps.metrics, 'herald_rate_limit_waits_total')).toBe(2);
    expect(await value(deps.metrics, 'herald_rate_limit_wait_seconds_total')).toBeGreaterThanOrEqual(2);
    expect(await value(deps.metrics, 'herald_sendgrid_responses_total{status_class="4xx"}')).toBe(2);
    expect(await value(deps.metrics, 'herald_sendgrid_responses_total{status_class="2xx"}')).toBe(3);
    expect(await value(deps.metrics, 'herald_sends_total{outcome="failed"}')).toBe(0);
  });

  it('count transient failures as retrying and 5xx answers', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'solo@example.com' }]);
    stack.sink.faults.update({ serverError: { count: 2, status: 503 } });
    const { deps } = await stack.startWorker();
    const res = await postSend(stack.web.app).expect(202);
    await waitForCampaignSent(stack.web.db, res.body.campaignId);
    await waitFor('the send counted', async () => (await value(deps.metrics, 'herald_sends_total{outcome="sent"}')) === 1);
    expect(await value(deps.metrics, 'herald_sends_total{outcome="retrying"}')).toBe(2);
    expect(await value(deps.metrics, 'herald_sendgrid_responses_total{status_class="5xx"}')).toBe(2);
  });

  it('count the reconciler re-enqueueing what Redis lost', async () => {
    await seedSubscribers(stack.web.db, audience);
    const res = await postSend(stack.web.app).expect(202);
    const deps = stack.workerDeps();
    const { fanOut } = await import('../src/handlers/fan-out.js');
    await fanOut({ campaignId: res.body.campaignId }, jobContext(deps), deps);
    await deleteKeys(stack.web.config.queuePrefix);
    await reconcile({}, jobContext(deps), deps);
    expect(await value(deps.metrics, 'herald_reconciler_repairs_total{kind="requeued"}')).toBe(3);
  });
});
