import { describe, expect, it } from 'vitest';
import { enqueueDeliveries } from '../src/campaigns/enqueue-deliveries.js';
import { fanOut } from '../src/handlers/fan-out.js';
import { reconcile } from '../src/handlers/reconcile.js';
import { sendEmail } from '../src/handlers/send-email.js';
import { deleteKeys } from '../../../test/support/redis.js';
import { deliveriesByStatus, postSend, seedAudience, waitForCampaignSent } from '../../../test/support/factories.js';
import { seriesValue } from '../../../test/support/metrics.js';
import { useStack, jobContext, waitFor } from '../../../test/support/stack.js';

const stack = useStack();

const audience = 25;
const window = { SEND_WINDOW: '10' };

async function enqueuedThrough(campaignId: string) {
  const campaign = await stack.web.db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  return campaign.enqueuedThrough;
}

function expectEveryRecipientOnce(recipients = audience) {
  const perRecipient = Object.values(stack.sink.stats.get().byRecipient);
  expect(perRecipient).toHaveLength(recipients);
  expect(perRecipient.every((count) => count === 1)).toBe(true);
}

describe('the send window', () => {
  it('fans out no more send jobs than the window holds, and goes on from where it stopped', async () => {
    await seedAudience(stack.web.db, audience);
    const res = await postSend(stack.web.app).expect(202);
    expect(res.body.tasks).toHaveLength(audience);
    const campaignId = res.body.campaignId as string;
    const deps = stack.workerDeps(window);

    const first = await fanOut({ campaignId }, jobContext(deps), deps);
    expect(first).toMatchObject({ status: 'waiting', deliveries: 10 });
    expect(await deps.queues.sends.getWaitingCount()).toBe(10);
    const after = (first as { after: string }).after;
    expect(await enqueuedThrough(campaignId)).toBe(after);

    // Full: the next step adds nothing.
    expect(await fanOut({ campaignId, after }, jobContext(deps), deps)).toEqual({ status: 'waiting', after, deliveries: 0 });
    expect(await deps.queues.sends.getWaitingCount()).toBe(10);
  });

  it('sends a campaign larger than the window to everyone once, never holding more than the window', { timeout: 120_000 }, async () => {
    await seedAudience(stack.web.db, audience);
    stack.sink.faults.update({ latencyMs: 20 });
    await stack.startWorker(window);
    const res = await postSend(stack.web.app).expect(202);
    let mostWaiting = 0;
    await waitFor(
      'campaign sent',
      async () => {
        mostWaiting = Math.max(mostWaiting, await stack.web.queues.sends.getWaitingCount());
        const campaign = await stack.web.db.campaign.findUniqueOrThrow({ where: { id: res.body.campaignId } });
        return campaign.status === 'sent';
      },
      60_000,
    );
    expect(mostWaiting).toBeGreaterThan(0);
    expect(mostWaiting).toBeLessThanOrEqual(10);
    expectEveryRecipientOnce();
  });

  it('sends to everyone once with three workers sharing the queues, a second job for each recipient racing the first', { timeout: 120_000 }, async () => {
    // Scaling out is more workers on the same queues. A second send job per delivery (as a
    // reconciler re-enqueueing after Redis lost track would add) makes the workers race on every
    // claim: only the conditional claim keeps each recipient to one email.
    const recipients = 300;
    await seedAudience(stack.web.db, recipients);
    stack.sink.faults.update({ latencyMs: 20 });
    const workers = [];
    for (let i = 0; i < 3; i++) workers.push(await stack.startWorker({ SEND_WINDOW: '50' }));
    const res = await postSend(stack.web.app).expect(202);
    const tasks = res.body.tasks as string[];
    await enqueueDeliveries(workers[0]!.deps.queues, tasks.map((id) => ({ id, round: 1_000 })), 50);
    await waitForCampaignSent(stack.web.db, res.body.campaignId, 60_000);
    await waitFor('every second job done', async () =>
      Object.values(await stack.web.queues.sends.getJobCounts('waiting', 'active', 'delayed')).every((count) => count === 0),
    );

    expectEveryRecipientOnce(recipients);
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: recipients });
    const sentBy = await Promise.all(workers.map(({ deps }) => seriesValue(deps.metrics.registry, 'herald_sends_total{outcome="sent"}')));
    expect(sentBy.every((sent) => sent > 0)).toBe(true);
    expect(sentBy.reduce((sum, sent) => sum + sent, 0)).toBe(recipients);
  });

  it('after Redis lost its data mid-send, re-enqueues only up to where the fan-out got and restarts the fan-out for the rest', { timeout: 120_000 }, async () => {
    await seedAudience(stack.web.db, audience);
    const res = await postSend(stack.web.app).expect(202);
    const campaignId = res.body.campaignId as string;
    const deps = stack.workerDeps(window);
    await fanOut({ campaignId }, jobContext(deps), deps);

    // A healthy window: nothing to repair, and the fan-out job from /send is still there to go on.
    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ requeued: 0, fanOutsRestarted: 0 });

    await deleteKeys(stack.web.config.queuePrefix);
    const report = await reconcile({}, jobContext(deps), deps);
    expect(report).toMatchObject({ requeued: 10, fanOutsRestarted: 1 });
    expect(await deps.queues.sends.getWaitingCount()).toBe(10);
    const restarted = await deps.queues.campaigns.getJobs(['waiting']);
    expect(restarted.map((job) => job.data)).toEqual([{ campaignId, after: await enqueuedThrough(campaignId) }]);

    await stack.startWorker(window);
    await waitForCampaignSent(stack.web.db, campaignId, 60_000);
    expectEveryRecipientOnce();
  });
});

describe('the campaign-done check', () => {
  it('runs after the sends, not in each: the campaign is sent once the last pending check has run', async () => {
    await seedAudience(stack.web.db, 3);
    const res = await postSend(stack.web.app).expect(202);
    const deps = stack.workerDeps();
    for (const deliveryId of res.body.tasks as string[]) {
      expect(await sendEmail({ deliveryId }, jobContext(deps), deps)).toBe('sent');
    }
    await deps.finisher.flush();
    expect(await stack.web.db.campaign.findUniqueOrThrow({ where: { id: res.body.campaignId } })).toMatchObject({ status: 'sent' });
  });

  it('marks the campaign sent shortly after its last send without being asked', async () => {
    await seedAudience(stack.web.db, 3);
    const res = await postSend(stack.web.app).expect(202);
    const deps = stack.workerDeps();
    await Promise.all((res.body.tasks as string[]).map((deliveryId) => sendEmail({ deliveryId }, jobContext(deps), deps)));
    await waitForCampaignSent(stack.web.db, res.body.campaignId);
  });
});
