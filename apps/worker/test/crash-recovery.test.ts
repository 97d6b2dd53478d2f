import { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enqueueJob, jobs, sendJobId } from '@herald/shared';
import { sendEmail } from '../src/handlers/send-email.js';
import { claimTokenOf, keepReconcilerScheduled } from '../src/workers.js';
import type { WorkerDeps } from '../src/deps.js';
import { deleteKeys } from '../../../test/support/redis.js';
import { postSend, seedSubscribers } from '../../../test/support/factories.js';
import { createStack, jobContext, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';

let stack: Stack;
const closers: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  stack = await createStack();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await stack.close();
});

async function oneQueuedDelivery(): Promise<string> {
  await seedSubscribers(stack.web.db, [{ email: 'ada@example.com', name: 'Ada' }]);
  const res = await postSend(stack.web.app).expect(202);
  return (res.body.tasks as string[])[0]!;
}

async function abandonClaim(deliveryId: string, claimToken: string): Promise<void> {
  await stack.web.db.delivery.update({
    where: { id: deliveryId },
    data: { status: 'sending', claimedAt: new Date(), claimToken, attempts: 1 },
  });
}

describe('a claim abandoned by a crashed worker', () => {
  it('is taken over and sent by the re-run of the same attempt of the same job', async () => {
    const deliveryId = await oneQueuedDelivery();
    const token = `${sendJobId(deliveryId, 0)}/0`;
    await abandonClaim(deliveryId, token);
    const deps = stack.workerDeps();

    expect(await sendEmail({ deliveryId }, jobContext(deps, { claimToken: token }), deps)).toBe('sent');
    expect(stack.sink.stats.get().byRecipient).toEqual({ 'ada@example.com': 1 });
    const row = await stack.web.db.delivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(row).toMatchObject({ status: 'sent', attempts: 2, lastError: null, claimToken: null });
  });

  it('is left alone by another job or a later attempt, which cannot prove the holder is gone', async () => {
    const deliveryId = await oneQueuedDelivery();
    await abandonClaim(deliveryId, `${sendJobId(deliveryId, 0)}/0`);
    const deps = stack.workerDeps();

    for (const claimToken of [`${sendJobId(deliveryId, 0)}/1`, `${sendJobId(deliveryId, 1)}/0`]) {
      expect(await sendEmail({ deliveryId }, jobContext(deps, { claimToken }), deps)).toBe('skipped');
    }
    expect(stack.sink.stats.get().requests).toBe(0);
    expect(await stack.web.db.delivery.findUniqueOrThrow({ where: { id: deliveryId } })).toMatchObject({ status: 'sending', attempts: 1 });
  });

  it('is recovered when BullMQ re-runs the stalled job of a worker that stopped mid-send', async () => {
    const deliveryId = await oneQueuedDelivery();
    const deps = stack.workerDeps();
    await enqueueJob(deps.queues, jobs.sendEmail, { deliveryId }, 0, { backoff: { type: 'exponential', delay: 50, jitter: 1 } });

    // The first worker claims the delivery and then hangs inside the provider call, and is dropped
    // without finishing: its lock is no longer renewed, as after a kill -9. (It runs no stalled
    // check of its own: BullMQ throttles those queue-wide, and the next worker's must run soon.)
    const hang = () => new Promise<never>(() => undefined);
    const hanging: WorkerDeps = { ...deps, mailer: { send: hang, sendBatch: hang } };
    const dying = new Worker(
      deps.queues.sends.name,
      (job) => sendEmail(job.data, jobContext(hanging, { claimToken: claimTokenOf(job) }), hanging),
      { connection: deps.queues.sends.opts.connection, prefix: deps.config.queuePrefix, lockDuration: 1_000, skipStalledCheck: true },
    );
    await waitFor('the claim', async () => (await stack.web.db.delivery.findUnique({ where: { id: deliveryId } }))?.status === 'sending');
    await dying.close(true);

    const tokens: string[] = [];
    const next = new Worker(
      deps.queues.sends.name,
      (job) => {
        tokens.push(claimTokenOf(job));
        return sendEmail(job.data, jobContext(deps, { claimToken: claimTokenOf(job) }), deps);
      },
      { connection: deps.queues.sends.opts.connection, prefix: deps.config.queuePrefix, lockDuration: 1_000, stalledInterval: 300 },
    );
    closers.push(() => next.close());

    await waitFor('the re-sent delivery', async () => (await stack.web.db.delivery.findUnique({ where: { id: deliveryId } }))?.status === 'sent', 20_000);
    expect(tokens).toEqual([`${sendJobId(deliveryId, 0)}/0`]);
    expect(stack.sink.stats.get().byRecipient).toEqual({ 'ada@example.com': 1 });
    const job = await deps.queues.sends.getJob(sendJobId(deliveryId, 0));
    expect(job?.stalledCounter).toBe(1);
  });
});

describe('the reconciler schedule', () => {
  it('is put back by the worker-side timer after Redis lost all its data', async () => {
    const deps = stack.workerDeps({ RECONCILE_EVERY_SECONDS: '5' });
    const keeper = keepReconcilerScheduled(deps);
    closers.push(async () => keeper.stop());
    await deleteKeys(deps.config.queuePrefix);
    expect(await deps.queues.maintenance.getJobScheduler(jobs.reconcile.name)).toBeUndefined();

    const scheduler = await waitFor('the restored schedule', () => deps.queues.maintenance.getJobScheduler(jobs.reconcile.name), 20_000);
    expect(scheduler.every).toBe(5_000);
    // It also reconciles at once rather than waiting for the first scheduled run.
    expect(await deps.queues.maintenance.count()).toBeGreaterThanOrEqual(1);
  });
});
